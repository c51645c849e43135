/**
 * Download progress in words: bytes (decimal units, as the engine's messages and disk tools use),
 * speed, time left and percent. Unknown values (a total the Hub did not announce, a rate not yet
 * measured) are shown as a dash.
 */
import type { DownloadProgress } from '../../../shared/protocol';
import { formatBytes, formatDuration } from '../../../shared/format';
import { DASH } from './format';

export { formatBytes, formatDuration as formatEta };

/** megabytes per second, e.g. 3.4 MB/s */
export function formatSpeed(bytesPerSecond: number | null | undefined): string {
  if (
    bytesPerSecond === null ||
    bytesPerSecond === undefined ||
    !Number.isFinite(bytesPerSecond) ||
    bytesPerSecond < 0
  ) {
    return DASH;
  }
  return `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`;
}

/** 0..1, or null while the total is unknown */
export function downloadFraction(progress: DownloadProgress | null): number | null {
  if (!progress || progress.totalBytes === null) return null;
  if (progress.totalBytes <= 0) return 1;
  return Math.min(1, Math.max(0, progress.loadedBytes / progress.totalBytes));
}

/** whole percent, e.g. 42%; a dash while the total is unknown */
export function formatPercent(fraction: number | null): string {
  return fraction === null ? DASH : `${Math.floor(fraction * 100)}%`;
}

/** "12.3 MB of 45.6 MB", or "12.3 MB" while the total is unknown */
export function bytesDone(progress: DownloadProgress): string {
  const done = formatBytes(progress.loadedBytes);
  return progress.totalBytes === null ? done : `${done} of ${formatBytes(progress.totalBytes)}`;
}
