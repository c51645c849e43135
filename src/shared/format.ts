/**
 * Sizes and durations for people: download progress in the CLI and the app. Decimal units, as
 * the Hub and disk tools show sizes. Unknown values (a total not announced, a rate not yet
 * measured) are shown as a dash.
 */

const DASH = '-';
const UNITS = ['kB', 'MB', 'GB', 'TB'] as const;

/** 0 B, 950 B, 1.5 kB, 12.3 MB, 1.42 GB */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return DASH;
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit: (typeof UNITS)[number] = UNITS[0];
  for (const u of UNITS) {
    value /= 1000;
    unit = u;
    if (value < 1000) break;
  }
  return `${value.toFixed(unit === 'GB' || unit === 'TB' ? 2 : 1)} ${unit}`;
}

/** time left: "less than 1 s", "42 s", "3 min 05 s", "1 h 02 min" */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    return DASH;
  }
  const s = Math.round(seconds);
  if (s < 1) return 'less than 1 s';
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  const minutes = Math.floor(s / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** a model pass: "0.42 ms", "3.1 ms", "742 ms", "1.52 s" */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return DASH;
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}
