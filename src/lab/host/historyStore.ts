/**
 * Sweeps on disk, saved as they run: `{id}.json` holds the entry without its rows (written at the
 * start and the end, crash-safely: temp file + rename) and `{id}.rows.jsonl` gets one line per
 * finished run, appended, so a save costs one row however long the sweep, and a crash loses at
 * most the run in progress (a torn last line is skipped when read). `{id}.events.jsonl` keeps
 * each finished run's event log, one gzipped line per run (a 100-token run's few hundred events
 * take about a tenth of their JSON), so a saved run can be replayed and its steps exported after
 * a restart.
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
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { writeFileAtomic } from '../../core/atomicWrite';
import { EngineEvent } from '../../shared/events';
import { HistoryEntry, RunRow, type HistorySummary } from '../../shared/protocol';
import { bestOf, comparesStrategies, summarizeRows, variantLabel } from '../../results/summary';

const EventLog = z.array(EngineEvent);
const FILES = ['json', 'rows.jsonl', 'events.jsonl'] as const;

export class HistoryStore {
  constructor(readonly dir: string) {}

  /** the entry's header (everything but its rows); rows go through appendRow */
  saveHeader(entry: HistoryEntry): void {
    writeFileAtomic(join(this.dir, `${entry.id}.json`), JSON.stringify({ ...entry, rows: [] }));
  }

  appendRow(id: string, row: RunRow): void {
    appendFileSync(join(this.dir, `${id}.rows.jsonl`), JSON.stringify(row) + '\n');
  }

  /** a finished run's event log, compressed, for replay after a restart */
  appendEvents(id: string, runId: string, events: readonly EngineEvent[]): void {
    const gz = gzipSync(JSON.stringify(events)).toString('base64');
    appendFileSync(join(this.dir, `${id}.events.jsonl`), JSON.stringify({ runId, gz }) + '\n');
  }

  /** one saved run's events; null when the entry or the run has no readable log */
  runEvents(id: string, runId: string): EngineEvent[] | null {
    if (!validId(id)) return null;
    const file = join(this.dir, `${id}.events.jsonl`);
    if (!existsSync(file)) return null;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line === '') continue;
      try {
        const saved = z.object({ runId: z.string(), gz: z.string() }).parse(JSON.parse(line));
        if (saved.runId !== runId) continue;
        return EventLog.parse(JSON.parse(gunzipSync(Buffer.from(saved.gz, 'base64')).toString()));
      } catch {
        // a line torn by a crash or a full disk: the logs before it stand
      }
    }
    return null;
  }

  /** Name a saved sweep; false when there is no such entry. */
  rename(id: string, name: string): boolean {
    const entry = this.header(id);
    if (!entry) return false;
    this.saveHeader({ ...entry, name });
    return true;
  }

  /** forget an entry (one that ended with no runs, or one the user deleted) */
  remove(id: string): void {
    if (!validId(id)) return;
    for (const ext of FILES) {
      try {
        unlinkSync(join(this.dir, `${id}.${ext}`));
      } catch {
        // not there, or the folder is read-only
      }
    }
  }

  get(id: string): HistoryEntry | null {
    const header = this.header(id);
    return header && { ...header, rows: [...header.rows, ...this.rows(id)] };
  }

  private header(id: string): HistoryEntry | null {
    if (!validId(id)) return null;
    let header: HistoryEntry;
    try {
      header = HistoryEntry.parse(JSON.parse(readFileSync(join(this.dir, `${id}.json`), 'utf8')));
    } catch {
      return null;
    }
    return header;
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
      const summary = summarizeRows(e.rows);
      const best = bestOf(summary);
      out.push({
        id: e.id,
        createdAt: e.createdAt,
        name: e.name ?? null,
        status: e.status === 'running' && !active.has(e.id) ? 'failed' : e.status,
        models: e.models,
        dtypes: { target: e.settings.pair.target.dtype, draft: e.settings.pair.draft.dtype },
        prompt: e.settings.prompts[0] ?? '',
        prompts: e.settings.prompts.length,
        ks: e.settings.ks,
        runs: e.rows.length,
        best: best && {
          label: variantLabel(best.row, comparesStrategies(e.rows)),
          speedup: best.row.speedup!.median,
          tied: best.tiedWith.length > 0,
          beatBaseline: best.beatBaseline,
        },
        replayable: existsSync(join(this.dir, `${e.id}.events.jsonl`)),
      });
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }
}

function validId(id: string): boolean {
  return /^[\w-]+$/.test(id);
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
