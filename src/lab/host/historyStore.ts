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
 *
 * Reading trusts no file (historyFiles.ts): each is bounded in size, FIFOs, devices and links out
 * of the folder are refused in words, and what cannot be read is listed as such, never hiding the
 * other entries (historyEntryRead.ts, historySummaries.ts).
 */
import {
  accessSync,
  appendFileSync,
  constants,
  existsSync,
  lstatSync,
  readdirSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { writeFileAtomic } from '../../core/atomicWrite';
import { EngineEvent } from '../../shared/events';
import {
  HistoryId,
  type HistoryEntry,
  type HistorySummary,
  type RunRow,
} from '../../shared/protocol';
import { forEachLine, HistoryFileError, MAX_EVENTS_BYTES } from './historyFiles';
import { readEntry, readStoredHeader, type ReadEntry } from './historyEntryRead';
import {
  listedEntry,
  markDuplicates,
  summarize,
  unreadableEntry,
  type Listed,
} from './historySummaries';

const EventLog = z.array(EngineEvent);
const FILES = ['json', 'rows.jsonl', 'events.jsonl'] as const;
/** one run's event log, decompressed, at most (a gzip bomb stops here) */
const MAX_EVENT_LOG_BYTES = 256 << 20;

/**
 * The store names an entry by its file name (`{id}.json`): unique in the folder, so a copy made
 * with `cp X.json X-copy.json` is its own entry, opened and deleted apart from X.
 */
export class HistoryStore {
  /** each listed entry's summary, with the signature of the files it was read from */
  private readonly summaries = new Map<string, { files: string; listed: Listed }>();

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

  /**
   * One saved run's events; null when the entry or the run has no readable log. The log is
   * read a line at a time and only the run's own line is decoded.
   */
  runEvents(id: string, runId: string): EngineEvent[] | null {
    if (!validId(id)) return null;
    // appendEvents writes {"runId":...,"gz":...}: the run's line starts with its id
    const prefix = Buffer.from(`{"runId":${JSON.stringify(runId)},`);
    let events: EngineEvent[] | null = null;
    try {
      forEachLine(this.dir, `${id}.events.jsonl`, MAX_EVENTS_BYTES, (line) => {
        if (line === null || !line.subarray(0, prefix.length).equals(prefix)) return false;
        try {
          const saved = z
            .object({ runId: z.string(), gz: z.string() })
            .parse(JSON.parse(line.toString()));
          const json = gunzipSync(Buffer.from(saved.gz, 'base64'), {
            maxOutputLength: MAX_EVENT_LOG_BYTES,
          });
          events = EventLog.parse(JSON.parse(json.toString()));
          return true;
        } catch {
          // a line torn by a crash or a full disk: a later copy of the run may stand
          return false;
        }
      });
    } catch (err) {
      if (!(err instanceof HistoryFileError)) throw err;
      return null;
    }
    return events;
  }

  /**
   * Name a saved sweep; false when there is no such entry. The header is rewritten as it was
   * stored with only its name changed: rows kept inside it (earlier versions) and fields this
   * version does not know stay. Throws HistoryFileError when the header cannot be read.
   */
  rename(id: string, name: string): boolean {
    if (!validId(id) || !this.exists(`${id}.json`)) return false;
    const stored = readStoredHeader(this.dir, id);
    writeFileAtomic(join(this.dir, `${id}.json`), JSON.stringify({ ...stored, name }));
    return true;
  }

  /** forget an entry (one that ended with no runs, or one the user deleted): its own files only */
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
    try {
      return this.read(id)?.entry ?? null;
    } catch (err) {
      if (err instanceof HistoryFileError) return null;
      throw err;
    }
  }

  /** the entry as read, with what was wrong; null when there is none; HistoryFileError when unreadable */
  read(id: string): ReadEntry | null {
    if (!validId(id) || !this.exists(`${id}.json`)) return null;
    return readEntry(this.dir, id);
  }

  /**
   * Newest first; `active` ids are still running, any other 'running' entry died with its host.
   * One entry that cannot be read is listed as such (with what to do) and never hides the others.
   */
  list(active: ReadonlySet<string> = new Set()): HistorySummary[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new HistoryFileError(
        `The history folder ${this.dir} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): make it a folder you can read, or move it away to start a new history.`,
      );
    }
    const listed: Listed[] = [];
    const out: HistorySummary[] = [];
    const seen = new Set<string>();
    for (const name of names.sort()) {
      if (!name.endsWith('.json')) continue;
      const id = name.slice(0, -5);
      if (!validId(id)) continue; // a name the requests could not carry: it could not be opened
      seen.add(id);
      try {
        listed.push(this.summaryOf(id));
      } catch (err) {
        const problem = err instanceof HistoryFileError ? err.message : `${name} cannot be read.`;
        out.push(unreadableEntry(id, this.modified(name), problem));
      }
    }
    for (const id of this.summaries.keys()) if (!seen.has(id)) this.summaries.delete(id);
    const duplicateOf = markDuplicates(listed);
    for (const l of listed) {
      const id = l.summary.id;
      out.push(
        listedEntry(l, {
          active: active.has(id),
          duplicateOf: duplicateOf.get(id) ?? null,
          replayable: this.exists(`${id}.events.jsonl`),
        }),
      );
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id));
  }

  /**
   * An entry's summary, read again only when its header or rows file changed: the app lists
   * history on every engine start, and a long sweep's verdict over all its rows costs seconds.
   */
  private summaryOf(id: string): Listed {
    const files = `${this.signature(`${id}.json`)}|${this.signature(`${id}.rows.jsonl`)}`;
    const kept = this.summaries.get(id);
    if (kept && kept.files === files) return kept.listed;
    const listed = summarize(readEntry(this.dir, id));
    this.summaries.delete(id);
    if (!files.includes('?')) this.summaries.set(id, { files, listed });
    return listed;
  }

  /** what changes when a file is written, replaced or grows; '?' when it cannot be told */
  private signature(name: string): string {
    try {
      const s = statSync(join(this.dir, name), { throwIfNoEntry: false });
      return s ? `${s.ino}:${s.size}:${s.mtimeMs}` : '-';
    } catch {
      return '?';
    }
  }

  private exists(name: string): boolean {
    try {
      lstatSync(join(this.dir, name));
      return true;
    } catch {
      return false;
    }
  }

  /** when a file was last written, for an entry whose own date cannot be read */
  private modified(name: string): string {
    try {
      return lstatSync(join(this.dir, name)).mtime.toISOString();
    } catch {
      return new Date(0).toISOString();
    }
  }
}

function validId(id: string): boolean {
  return HistoryId.safeParse(id).success;
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
