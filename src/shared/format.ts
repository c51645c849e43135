/**
 * Numbers for people, in one place: the CLI, the report's prose and tables (src/results) and the
 * app all format through these, so a value reads the same wherever it is shown. Sizes use decimal
 * units, as the Hub and disk tools show them. Unknown values (null, a total not announced, a rate
 * not yet measured, a non-finite result) are shown as a dash.
 */

export const DASH = '-';

function known(value: number | null | undefined): value is number {
  return value !== null && value !== undefined && Number.isFinite(value);
}

// ----- plain numbers -----

/** a fixed number of decimals: fixed(0.4567, 2) = "0.46" */
export function fixed(value: number | null | undefined, digits: number): string {
  return known(value) ? value.toFixed(digits) : DASH;
}

/** Whole numbers as such, medians of two counts with one decimal: "12", "12.5". */
export function count(value: number | null | undefined): string {
  if (!known(value)) return DASH;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** a probability, three decimals: "0.714" */
export function probability(value: number | null | undefined): string {
  return fixed(value, 3);
}

/** a ratio to a reference, e.g. a speedup: "1.23x" */
export function times(value: number | null | undefined): string {
  return known(value) ? `${value.toFixed(2)}x` : DASH;
}

/** a share with one decimal, for rates read closely (acceptance): 0.4567 -> "45.7%" */
export function percent(value: number | null | undefined): string {
  return known(value) ? `${(value * 100).toFixed(1)}%` : DASH;
}

/** a share rounded to a whole percent, for rough proportions in prose: 0.4567 -> "46%" */
export function wholePercent(value: number | null | undefined): string {
  return known(value) ? `${Math.round(value * 100)}%` : DASH;
}

/**
 * Progress in whole percent, rounded down where `wholePercent` rounds to nearest: a download at
 * 0.999 reads "99%", and "100%" only once it is complete.
 */
export function percentDone(fraction: number | null | undefined): string {
  return known(fraction) ? `${Math.floor(fraction * 100)}%` : DASH;
}

// ----- durations -----

/**
 * A measured run time in seconds, 3 decimals under 10 s and 2 above: "1.234 s", "12.35 s".
 * Prose that compares two times compares `shownSeconds`, what this shows, not hidden digits.
 */
export function seconds(value: number | null | undefined): string {
  return known(value) ? `${value.toFixed(value < 10 ? 3 : 2)} s` : DASH;
}

/** the number `seconds` shows, for comparisons that must agree with the text */
export function shownSeconds(value: number): number {
  return Number(value.toFixed(value < 10 ? 3 : 2));
}

/**
 * Milliseconds whatever the size, 2 decimals under 10 ms and 1 above: "1.36 ms", "29.2 ms",
 * "742.0 ms". The report sets pass times side by side, so they keep one unit; `formatMs`
 * changes unit and precision with the size instead, for a single value on its own.
 */
export function milliseconds(value: number | null | undefined): string {
  return known(value) ? `${value.toFixed(value < 10 ? 2 : 1)} ms` : DASH;
}

/** a model pass on its own: "0.42 ms", "3.1 ms", "742 ms", "1.52 s" */
export function formatMs(ms: number | null | undefined): string {
  if (!known(ms) || ms < 0) return DASH;
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** time left: "less than 1 s", "42 s", "3 min 05 s", "1 h 02 min" */
export function formatDuration(seconds: number | null | undefined): string {
  if (!known(seconds) || seconds < 0) return DASH;
  const s = Math.round(seconds);
  if (s < 1) return 'less than 1 s';
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  const minutes = Math.floor(s / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

// ----- sizes and rates -----

const UNITS = ['kB', 'MB', 'GB', 'TB'] as const;

/** 0 B, 950 B, 1.5 kB, 12.3 MB, 1.42 GB */
export function formatBytes(bytes: number | null | undefined): string {
  if (!known(bytes) || bytes < 0) return DASH;
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

/**
 * A download rate in MB/s whatever its size, one decimal: "3.4 MB/s", so the app's figure keeps
 * its unit while it changes; the CLI's bar writes `${formatBytes(rate)}/s`, whose unit follows the size.
 */
export function megabytesPerSecond(bytesPerSecond: number | null | undefined): string {
  if (!known(bytesPerSecond) || bytesPerSecond < 0) return DASH;
  return `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`;
}
