/** A terminal progress bar for Hub downloads: bytes, percent, speed and time left. */
import { SingleBar, Presets } from 'cli-progress';
import type { DownloadProgress } from '../shared/protocol';
import { formatBytes, formatDuration } from '../shared/format';

export interface DownloadBar {
  update(p: DownloadProgress): void;
  stop(): void;
}

export function downloadBar(stream: NodeJS.WriteStream = process.stderr): DownloadBar {
  const bar = new SingleBar(
    {
      stream,
      format: 'Downloading {bar} {percentage}% | {done} of {size} | {speed} | {left} left | {file}',
      hideCursor: true,
      clearOnComplete: false,
      // In a log (not a terminal) print the bar as a line every few seconds instead.
      noTTYOutput: true,
      notTTYSchedule: 2000,
    },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const total = p.totalBytes ?? Math.max(p.loadedBytes, 1);
      const values = {
        done: formatBytes(p.loadedBytes),
        size: p.totalBytes === null ? '?' : formatBytes(p.totalBytes),
        speed: `${formatBytes(p.bytesPerSecond)}/s`,
        // not "eta": cli-progress fills its own {eta} token (bare seconds) over a payload of that name
        left: p.etaS === null ? '?' : formatDuration(p.etaS),
        file: `${p.repo}/${p.file}`,
      };
      if (!started) {
        bar.start(total, p.loadedBytes, values);
        started = true;
      }
      bar.setTotal(total);
      bar.update(p.loadedBytes, values);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
