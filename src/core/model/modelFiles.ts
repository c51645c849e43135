/**
 * Reading a model folder's files without trusting them: a FIFO, a device or a directory where a
 * file should be is refused in words before anything opens it for a blocking read (a FIFO would
 * hang the engine, /dev/zero fill its memory), and a file read whole is bounded in size.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { relative } from 'node:path';
import { SpecDecError } from '../errors';

/** config.json: a few kilobytes in every export; a few megabytes is already not a config. */
export const CONFIG_MAX_BYTES = 4 * 2 ** 20;
/** tokenizer_config.json: kilobytes, up to a megabyte or two with many added tokens or templates */
export const TOKENIZER_CONFIG_MAX_BYTES = 16 * 2 ** 20;
/** tokenizer.json: 2 MB for GPT-2, 9 MB for Llama 3, 33 MB for Gemma 3's 262k tokens */
export const TOKENIZER_MAX_BYTES = 64 * 2 ** 20;

/** what a path is when it is not a regular file, in words */
function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isDirectory()) return 'a directory';
  return 'not a file';
}

/** the file's name as messages give it: relative to its model folder */
const nameIn = (dir: string, path: string): string => relative(dir, path) || path;

function notRegular(dir: string, path: string, stats: Stats): SpecDecError {
  return new SpecDecError(
    'MODEL_FOLDER_INVALID',
    `${nameIn(dir, path)} in ${dir} is not a regular file (${kindOf(stats)}): the engine reads model files only. Replace it with the file from the model's source.`,
  );
}

function tooLarge(dir: string, path: string, size: number, maxBytes: number): SpecDecError {
  return new SpecDecError(
    'MODEL_FOLDER_INVALID',
    `${nameIn(dir, path)} in ${dir} is ${(size / 2 ** 20).toFixed(1)} MB, over the ${maxBytes / 2 ** 20} MB such a file can be: it is not the model's file. Replace it with the file from the model's source.`,
  );
}

/**
 * The size of `path` (inside the model folder `dir`), which must be a regular file (symlinks are
 * followed) of at most `maxBytes`; throws MODEL_FOLDER_INVALID saying what it is otherwise.
 * Opens nothing.
 */
export function regularFileSize(dir: string, path: string, maxBytes = Infinity): number {
  const stats = statSync(path);
  if (!stats.isFile()) throw notRegular(dir, path, stats);
  if (stats.size > maxBytes) throw tooLarge(dir, path, stats.size, maxBytes);
  return stats.size;
}

/**
 * The text of `path`, a regular file of at most `maxBytes`. The file is opened without blocking
 * (a FIFO swapped in after a check does not hang the open) and checked again on its descriptor.
 */
export function readModelText(dir: string, path: string, maxBytes: number): string {
  // O_NONBLOCK is POSIX only; elsewhere (Windows) there are no FIFOs to open
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw notRegular(dir, path, stats);
    if (stats.size > maxBytes) throw tooLarge(dir, path, stats.size, maxBytes);
    // read what is there, never more than the bound (the file may grow while it is read)
    const buf = Buffer.alloc(stats.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.toString('utf8', 0, got);
  } finally {
    closeSync(fd);
  }
}
