/**
 * One saved sweep read back from its files, in every format ever written (rows inside `{id}.json`
 * as earlier versions saved them, rows in `{id}.rows.jsonl` as they are now), keeping what it can
 * and saying what it could not: a row out of range or torn is skipped and counted, a run saved
 * twice is shown once, an unknown status is shown as failed.
 */
import { z } from 'zod';
import { HistoryEntry, RunRow } from '../../shared/protocol';
import {
  forEachLine,
  HistoryFileError,
  MAX_HEADER_BYTES,
  MAX_ROWS_BYTES,
  readBounded,
} from './historyFiles';

/** a saved sweep as read: `entry.id` is its file name (unique in the folder) */
export interface ReadEntry {
  entry: HistoryEntry;
  /** the header as stored, every field kept (a rename rewrites it with only the name changed) */
  stored: Record<string, unknown>;
  /** the id written inside it (a copy made with `cp` keeps the original's) */
  storedId: string;
  /** what was not as expected, each with what to do */
  problems: string[];
}

const STATUSES = new Set<string>(HistoryEntry.shape.status.options);
const HeaderFields = HistoryEntry.omit({ rows: true, status: true, id: true });

/** a value quoted in a message, bounded */
export function quoted(value: unknown, max = 40): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return JSON.stringify(text.length > max ? `${text.slice(0, max - 1)}…` : text);
}

/** The header as stored; throws HistoryFileError (in words) when it is missing or not a sweep. */
export function readStoredHeader(dir: string, key: string): Record<string, unknown> {
  const file = `${key}.json`;
  const text = readBounded(dir, file, MAX_HEADER_BYTES);
  if (text === null) throw new HistoryFileError(`${file} is gone (it may have been deleted).`);
  let stored: unknown;
  try {
    stored = JSON.parse(text);
  } catch {
    throw new HistoryFileError(
      `${file} is not valid JSON (cut short by a crash, or edited by hand), so it cannot be opened: restore it from a backup, or delete it.`,
    );
  }
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored))
    throw new HistoryFileError(
      `${file} is not a saved sweep: move it out of the history folder, or delete it.`,
    );
  return stored as Record<string, unknown>;
}

/** the first of zod's complaints, as "path: message" */
function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  return issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}

/** Rows are kept by runId, the first of each; the rest counted, by why. */
class RowCollector {
  readonly rows: RunRow[] = [];
  private readonly seen = new Set<string>();
  outOfRange = 0;
  firstOutOfRange = '';
  torn = 0;
  twice = 0;

  add(value: unknown): void {
    const parsed = RunRow.safeParse(value);
    if (!parsed.success) {
      if (this.outOfRange++ === 0) this.firstOutOfRange = firstIssue(parsed.error);
      return;
    }
    if (this.seen.has(parsed.data.runId)) {
      this.twice++;
      return;
    }
    this.seen.add(parsed.data.runId);
    this.rows.push(parsed.data);
  }

  addLine(line: Buffer | null): void {
    if (line === null) {
      this.torn++;
      return;
    }
    const start = line.findIndex((byte) => byte !== 0x20 && byte !== 0x09 && byte !== 0x0d);
    if (start === -1) return; // an empty line
    if (line[start] !== 0x7b) {
      this.torn++; // not a JSON object: not worth decoding (garbage costs no time)
      return;
    }
    const text = line.toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.torn++;
      return;
    }
    this.add(value);
  }

  problems(rowsFile: string): string[] {
    const out: string[] = [];
    const skipped = this.outOfRange + this.torn;
    if (skipped > 0) {
      const why = [
        this.outOfRange > 0 &&
          `${this.outOfRange} with values out of range (${this.firstOutOfRange.slice(0, 120)})`,
        this.torn > 0 && `${this.torn} not readable as JSON (cut short by a crash or a full disk)`,
      ].filter(Boolean);
      out.push(
        `${skipped} saved run${skipped === 1 ? ' was' : 's were'} skipped: ${why.join('; ')}. The other runs are shown; the file is left as it is (fix or remove those lines in ${rowsFile} to see them).`,
      );
    }
    if (this.twice > 0)
      out.push(
        `${this.twice} run${this.twice === 1 ? ' was' : 's were'} saved twice and ${this.twice === 1 ? 'is' : 'are'} shown once: nothing is lost.`,
      );
    return out;
  }
}

/**
 * Read the saved sweep in `{key}.json` and its rows. Throws HistoryFileError when its header
 * cannot be read; anything wrong past the header is a problem of a readable entry.
 */
export function readEntry(dir: string, key: string): ReadEntry {
  const stored = readStoredHeader(dir, key);
  const file = `${key}.json`;
  const problems: string[] = [];
  const fields = HeaderFields.safeParse(stored);
  if (!fields.success)
    throw new HistoryFileError(
      `${file} is not a saved sweep this version can read (${firstIssue(fields.error).slice(0, 160)}): move it out of the history folder, or delete it.`,
    );
  let status: HistoryEntry['status'] = 'failed';
  if (typeof stored.status === 'string' && STATUSES.has(stored.status))
    status = stored.status as HistoryEntry['status'];
  else
    problems.push(
      `Its status ${quoted(stored.status)} is unknown to this version (saved by a newer one?), so it is shown as failed; its runs are shown as saved.`,
    );

  const rows = new RowCollector();
  // rows inside the header: as earlier versions saved them
  if (Array.isArray(stored.rows)) for (const row of stored.rows as unknown[]) rows.add(row);
  const rowsFile = `${key}.rows.jsonl`;
  try {
    forEachLine(dir, rowsFile, MAX_ROWS_BYTES, (line) => rows.addLine(line));
  } catch (err) {
    if (!(err instanceof HistoryFileError)) throw err;
    problems.push(`Its runs could not all be read: ${err.message}`);
  }
  problems.push(...rows.problems(rowsFile));
  const storedId = typeof stored.id === 'string' ? stored.id : key;
  return {
    entry: { ...fields.data, id: key, status, rows: rows.rows },
    stored,
    storedId,
    problems,
  };
}
