/**
 * What a failed Hub download means in words (cancelled, disk full, not found, unreachable, cut
 * off), and the disk-space helpers the download plan checks before it starts.
 */
import { existsSync, statfsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ModelFileNotFoundError } from '@huggingface/transformers';
import { SpecDecError, describeError } from '../errors';

export const DEFAULT_HUB_HOST = 'https://huggingface.co/';

/** what an error message needs of the download's options */
export interface HubErrorContext {
  cacheDir: string;
  hubHost?: string | undefined;
  signal?: AbortSignal | undefined;
}

export function hubError(err: unknown, repo: string, options: HubErrorContext): SpecDecError {
  if (err instanceof SpecDecError) return err;
  const host = options.hubHost ?? DEFAULT_HUB_HOST;
  if (options.signal?.aborted) {
    return new SpecDecError(
      'CANCELLED',
      `The download of ${repo} was cancelled; nothing partial was kept.`,
    );
  }
  const code = errorCode(err);
  const msg = describeError(err);
  if (code === 'ENOSPC') {
    return new SpecDecError(
      'DISK_FULL',
      `The disk holding the cache (${resolve(options.cacheDir)}) is full; the download of ${repo} was stopped and nothing partial was kept. Free some space or choose another cache folder.`,
      ['cacheDir'],
    );
  }
  if (err instanceof ModelFileNotFoundError) {
    return new SpecDecError(
      'HUB_NOT_FOUND',
      `${repo}: ${msg} Check the repo id, or whether the repo needs a token (set HF_TOKEN).`,
    );
  }
  if (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === 'EAI_AGAIN' ||
    code === 'ETIMEDOUT' ||
    code === 'ENETUNREACH' ||
    /fetch failed/i.test(msg)
  ) {
    return new SpecDecError(
      'HUB_UNREACHABLE',
      `Cannot reach ${host} to download ${repo} (${code ?? msg}). Check the network connection, point at a Hub mirror, or use models already in the cache (offline).`,
      ['hubHost', 'offline'],
    );
  }
  if (/terminated|other side closed|ECONNRESET|aborted/i.test(msg) || code === 'UND_ERR_SOCKET') {
    return new SpecDecError(
      'HUB_INTERRUPTED',
      `The download of ${repo} from ${host} was cut off (${code ?? msg}); nothing partial was kept. Run again to restart it.`,
    );
  }
  return new SpecDecError('HUB_UNREACHABLE', `Downloading ${repo} from ${host} failed: ${msg}`);
}

/** the error's code, or its cause's (fetch wraps socket errors in a TypeError) */
function errorCode(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/** the folder, or its nearest ancestor that exists: the file system the cache will be on */
export function nearestExisting(dir: string): string {
  let d = resolve(dir);
  while (!existsSync(d)) {
    const up = resolve(d, '..');
    if (up === d) break;
    d = up;
  }
  return d;
}

/** bytes free to this user on the file system holding `dir` */
export function freeBytesOn(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** "512.0 MB", "1.62 GB" */
export function mb(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}
