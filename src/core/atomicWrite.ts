/**
 * Writing a small file so that readers see the old version or the new one, never half of one:
 * a temporary file beside it, then a rename. On failure (a full disk, a read-only folder) the
 * temporary file is removed, so nothing is left behind, and the error goes to the caller.
 */
import { mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function writeFileAtomic(file: string, data: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or the folder is read-only: nothing left behind either way
    }
    throw err;
  }
}
