/**
 * Download progress in words for the app's download panel: bytes, speed, time left and percent
 * (formatted by src/shared/format.ts, which the CLI's bar shares), and how far a download is.
 */
import type { DownloadProgress } from '../../../shared/protocol';
import {
  formatBytes,
  formatDuration,
  megabytesPerSecond,
  percentDone,
} from '../../../shared/format';

export {
  formatBytes,
  formatDuration as formatEta,
  megabytesPerSecond as formatSpeed,
  percentDone as formatPercent,
};

/** 0..1, or null while the total is unknown */
export function downloadFraction(progress: DownloadProgress | null): number | null {
  if (!progress || progress.totalBytes === null) return null;
  if (progress.totalBytes <= 0) return 1;
  return Math.min(1, Math.max(0, progress.loadedBytes / progress.totalBytes));
}

/** "12.3 MB of 45.6 MB", or "12.3 MB" while the total is unknown */
export function bytesDone(progress: DownloadProgress): string {
  const done = formatBytes(progress.loadedBytes);
  return progress.totalBytes === null ? done : `${done} of ${formatBytes(progress.totalBytes)}`;
}
