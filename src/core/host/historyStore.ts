/**
 * Sweeps on disk, saved as they run: `{id}.json` holds the entry without its rows (written at the
 * start and the end, crash-safely: temp file + rename) and `{id}.rows.jsonl` gets one line per
 * finished run, appended, so a save costs one row however long the sweep, and a crash loses at
 * most the run in progress (a torn last line is skipped when read).
 *
 * Nothing is touched until the first save: a read-only or missing data folder must not stop the
 * engine from starting. A failed save throws; the host turns that into "not saved: ..." and the
 * results still reach the client.
 */
import {
  accessSync,
  appendFileSync,
  constants,
  existsSync,
  readFileSync,
  readdirSync,
  unlinkSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../atomicWrite';
import { HistoryEntry, RunRow, type HistorySummary } from '../../shared/protocol';

export class HistoryStore {
  constructor(readonly dir: string) {}

  /** the entry's header (everything but its rows); rows go through appendRow */
  saveHeader(entry: HistoryEntry): void {
    writeFileAtomic(join(this.dir, `${entry.id}.json`), JSON.stringify({ ...entry, rows: [] }));
  }

  appendRow(id: string, row: RunRow): void {
    appendFileSync(join(this.dir, `${id}.rows.jsonl`), JSON.stringify(row) + '\n');
  }

  /** forget an entry that ended with no runs; a failure to delete is not worth reporting */
  remove(id: string): void {
    for (const name of [`${id}.json`, `${id}.rows.jsonl`]) {
      try {
        unlinkSync(join(this.dir, name));
      } catch {
        // not there, or the folder is read-only
      }
    }
  }

  get(id: string): HistoryEntry | null {
    if (!/^[\w-]+$/.test(id)) return null;
    let header: HistoryEntry;
    try {
      header = HistoryEntry.parse(JSON.parse(readFileSync(join(this.dir, `${id}.json`), 'utf8')));
    } catch {
      return null;
    }
    return { ...header, rows: [...header.rows, ...this.rows(id)] };
  }

  private rows(id: string): RunRow[] {
    const file = join(this.dir, `${id}.rows.jsonl`);
    if (!existsSync(file)) return [];
    const rows: RunRow[] = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line === '') continue;
      try {
        rows.push(RunRow.parse(JSON.parse(line)));
      } catch {
        // a line torn by a crash or a full disk: the runs before it stand
      }
    }
    return rows;
  }

  /** newest first; `active` ids are still running, any other 'running' entry died with its host */
  list(active: ReadonlySet<string> = new Set()): HistorySummary[] {
    if (!existsSync(this.dir)) return [];
    const out: HistorySummary[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const e = this.get(name.slice(0, -5));
      if (!e) continue; // unreadable or foreign file: skip it rather than fail the whole list
      out.push({
        id: e.id,
        createdAt: e.createdAt,
        status: e.status === 'running' && !active.has(e.id) ? 'failed' : e.status,
        models: e.models,
        prompt: e.settings.prompts[0] ?? '',
        prompts: e.settings.prompts.length,
        ks: e.settings.ks,
        runs: e.rows.length,
      });
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }
}

/** A failed save in words for the client: "not saved: disk full at /path". */
export function notSavedReason(err: unknown, dir: string): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return `not saved: disk full at ${dir}`;
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM' || !writable(dir))
    return `not saved: the data folder ${dir} is read-only`;
  return `not saved: ${err instanceof Error ? err.message : String(err)}`;
}

/** whether the folder, or the nearest one above it that exists, can be written to */
function writable(dir: string): boolean {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  try {
    accessSync(d, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
