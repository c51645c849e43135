/**
 * Reading the history folder's files without trusting them: only regular files that lie inside
 * the folder (a FIFO would block the engine, a link to /dev/zero would fill its memory), each
 * within a stated size, so that one odd file costs a refusal in words, never a hang.
 */
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  realpathSync,
  type Stats,
} from 'node:fs';
import { join, sep } from 'node:path';

/** a saved sweep's `{id}.json` at most: its settings (prompts up to 1 MB) and, in entries saved
 * by earlier versions, its rows */
export const MAX_HEADER_BYTES = 16 << 20;
/** a saved sweep's `{id}.rows.jsonl` at most */
export const MAX_ROWS_BYTES = 64 << 20;
/** a saved sweep's `{id}.events.jsonl` at most (read a line at a time, never whole) */
export const MAX_EVENTS_BYTES = 512 << 20;
/** one line of a `.jsonl` file at most (one run's compressed event log) */
export const MAX_LINE_BYTES = 64 << 20;

const CHUNK_BYTES = 1 << 20;

/** A history file that cannot be read, and what the user can do about it. */
export class HistoryFileError extends Error {}

const mb = (bytes: number): string => `${(bytes / (1 << 20)).toFixed(bytes < 1 << 20 ? 2 : 0)} MB`;

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isDirectory()) return 'a folder';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

function unreadable(name: string, err: unknown): HistoryFileError {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied'
      : code === 'EISDIR'
        ? 'it is a folder'
        : (code ?? (err instanceof Error ? err.message : String(err)));
  return new HistoryFileError(
    `${name} cannot be read (${why}): give yourself read access to it, or move it out of the history folder.`,
  );
}

/**
 * Open `dir/name` for reading when it is a regular file inside `dir`; null when it does not
 * exist. O_NONBLOCK: opening a FIFO must not wait for a writer (fstat then refuses it).
 */
function openInside(
  dir: string,
  name: string,
  maxBytes: number,
): { fd: number; size: number } | null {
  const file = join(dir, name);
  let link: Stats;
  try {
    link = lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw unreadable(name, err);
  }
  if (link.isSymbolicLink()) {
    let target: string;
    try {
      target = realpathSync(file);
    } catch {
      throw new HistoryFileError(
        `${name} is a link to a file that does not exist: remove the link from the history folder.`,
      );
    }
    if (!target.startsWith(realpathSync(dir) + sep))
      throw new HistoryFileError(
        `${name} is a link to ${target}, outside the history folder, and was not read: copy the file itself into the history folder, or remove the link.`,
      );
  }
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw unreadable(name, err);
  }
  const stats = fstatSync(fd);
  const refusal = !stats.isFile()
    ? `${name} is ${kindOf(stats)}, not a saved file, and was not read: move it out of the history folder.`
    : stats.size > maxBytes
      ? `${name} is ${mb(stats.size)}, over the ${mb(maxBytes)} this file may take, and was not read: move it out of the history folder to keep it (Delete removes it).`
      : null;
  if (refusal !== null) {
    closeSync(fd);
    throw new HistoryFileError(refusal);
  }
  return { fd, size: stats.size };
}

/** A whole file as text, null when it does not exist; throws HistoryFileError when it must not be read. */
export function readBounded(dir: string, name: string, maxBytes: number): string | null {
  const opened = openInside(dir, name, maxBytes);
  if (!opened) return null;
  const { fd, size } = opened;
  try {
    // read what fstat said was there, and not a byte past the bound if it grew since
    const buffer = Buffer.alloc(Math.min(size, maxBytes));
    let filled = 0;
    while (filled < buffer.length) {
      const n = readSync(fd, buffer, filled, buffer.length - filled, null);
      if (n === 0) break;
      filled += n;
    }
    return buffer.subarray(0, filled).toString('utf8');
  } catch (err) {
    throw unreadable(name, err);
  } finally {
    closeSync(fd);
  }
}

/**
 * Each line of a file in turn, read a chunk at a time (never the whole file in memory); a line
 * longer than MAX_LINE_BYTES is passed as null. `visit` returns true to stop. Returns false
 * when the file does not exist.
 */
export function forEachLine(
  dir: string,
  name: string,
  maxBytes: number,
  visit: (line: Buffer | null) => boolean | void,
): boolean {
  const opened = openInside(dir, name, maxBytes);
  if (!opened) return false;
  const { fd } = opened;
  try {
    const chunk = Buffer.alloc(CHUNK_BYTES);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let tooLong = false;
    let total = 0;
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) break; // it grew past its bound while read: the rest is not read
      let start = 0;
      for (let nl = chunk.indexOf(10, 0); nl !== -1 && nl < n; nl = chunk.indexOf(10, start)) {
        const piece = chunk.subarray(start, nl);
        start = nl + 1;
        const line = tooLong ? null : Buffer.concat([...pending, piece]);
        pending = [];
        pendingBytes = 0;
        tooLong = false;
        if (visit(line !== null && line.length > MAX_LINE_BYTES ? null : line) === true)
          return true;
      }
      if (!tooLong && start < n) {
        pendingBytes += n - start;
        if (pendingBytes > MAX_LINE_BYTES) {
          tooLong = true;
          pending = [];
        } else pending.push(Buffer.from(chunk.subarray(start, n)));
      }
    }
    if (tooLong) visit(null);
    else if (pendingBytes > 0) visit(Buffer.concat(pending));
    return true;
  } catch (err) {
    throw unreadable(name, err);
  } finally {
    closeSync(fd);
  }
}
