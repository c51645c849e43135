/**
 * Writing a small file so that readers see the old version or the new one, never half of one:
 * a temporary file beside it, then a rename. On failure (a full disk, a read-only folder) the
 * temporary file is removed, so nothing is left behind, and the error goes to the caller.
 */
import { existsSync, mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Make a folder and any missing folders above it, one at a time: Node's recursive mkdir can spin
 * forever on some file systems (a path under /proc, say) instead of failing.
 */
export function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.unshift(d);
  for (const d of missing) mkdirSync(d);
}

export function writeFileAtomic(file: string, data: string): void {
  makeFolders(dirname(file));
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
