/**
 * History is a store that never loses data (issue 32): the history store on temporary folders,
 * fed the files earlier versions wrote, copies made by hand, torn and hostile files. No model is
 * loaded; FIFOs and links to devices are listed in a child process, so that a store that blocks
 * or reads without bound fails here on a timeout instead of hanging the suite.
 */
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HistoryRequests } from '../../src/lab/host/historyRequests';
import { HistoryStore } from '../../src/lab/host/historyStore';
import { SweepRecord } from '../../src/lab/host/sweepRecord';
import type { EngineEvent } from '../../src/shared/events';
import {
  HistoryId,
  type HistoryEntry,
  type HistorySummary,
  type HostMessage,
} from '../../src/shared/protocol';
import { runRow } from '../support/helpers';
import { sweepSettings } from '../support/serveClient';

const newDir = (): string => mkdtempSync(join(tmpdir(), 'specdec-history-store-'));
const isRoot = process.getuid?.() === 0;

const startEvent = (runId: string): EngineEvent => ({
  type: 'run-start',
  runId,
  mode: 'speculative',
  k: 1,
  maxNewTokens: 4,
  models: { target: 't', draft: 'd' },
  promptTokenIds: [1, 2],
  promptText: 'a b',
});

/** a sweep saved as today's host saves it: header, rows.jsonl, events.jsonl */
function savedSweep(store: HistoryStore, runs = 2): string {
  const record = new SweepRecord(store, sweepSettings(), { target: 't', draft: 'd' });
  for (let i = 0; i < runs; i++) {
    record.runStarted(i);
    record.event(startEvent(`r${i}`));
    record.runFinished(
      runRow({
        runId: `r${i}`,
        mode: i === 0 ? 'baseline' : 'speculative',
        k: i === 0 ? null : i,
      }),
    );
  }
  record.finished(null, false);
  return record.id;
}

/** a header as earlier versions wrote it: the rows inside `{id}.json`, no rows.jsonl */
function oldFormatEntry(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const entry: HistoryEntry = {
    id,
    createdAt: '2025-01-02T03:04:05.000Z',
    settings: sweepSettings(),
    models: { target: 't', draft: 'd' },
    rows: [
      runRow({ runId: 'a', mode: 'baseline', k: null, speedup: 1 }),
      runRow({ runId: 'b', k: 1 }),
      runRow({ runId: 'c', k: 2 }),
    ],
    theory: null,
    status: 'finished',
  };
  return { schemaVersion: 1, ...entry, notes: 'kept by hand', ...extra };
}

const byId = (list: HistorySummary[], id: string): HistorySummary | undefined =>
  list.find((e) => e.id === id);

/** Every entry the list shows can be opened (unless it says it cannot) and deleted. */
function expectAllOpenableOrDeletable(store: HistoryStore): void {
  for (const e of store.list()) {
    expect(HistoryId.safeParse(e.id).success, e.id).toBe(true);
    if (e.unreadable === undefined) expect(store.get(e.id), e.id).not.toBeNull();
  }
  for (const e of store.list()) store.remove(e.id);
  expect(store.list()).toEqual([]);
}

/** HistoryStore#list run in a child process with a time limit: what it lists, or why not */
function listInChild(
  dir: string,
  timeoutMs: number,
): { entries: HistorySummary[] | null; ms: number } {
  const storeModule = resolve(__dirname, '../../src/lab/host/historyStore.ts');
  const script = join(newDir(), 'list.mts');
  writeFileSync(
    script,
    `import { HistoryStore } from ${JSON.stringify(storeModule)};\n` +
      `process.stdout.write(JSON.stringify(new HistoryStore(process.argv[2]).list()));\n`,
  );
  const started = Date.now();
  const child = spawnSync(process.execPath, ['--import', 'tsx', script, dir], {
    timeout: timeoutMs,
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  const ms = Date.now() - started;
  if (child.status !== 0) return { entries: null, ms };
  return { entries: JSON.parse(child.stdout) as HistorySummary[], ms };
}

describe('every format ever written is read and rewritten losslessly', () => {
  it('renames an entry saved with its rows inside {id}.json and keeps its rows and unknown fields', () => {
    const dir = newDir();
    writeFileSync(join(dir, 'old-1.json'), JSON.stringify(oldFormatEntry('old-1'), null, 2));
    const store = new HistoryStore(dir);
    expect(store.get('old-1')?.rows).toHaveLength(3);
    expect(byId(store.list(), 'old-1')).toMatchObject({ name: null, runs: 3 });
    expect(store.rename('old-1', 'kept')).toBe(true);
    const renamed = store.get('old-1')!;
    expect(renamed.name).toBe('kept');
    expect(renamed.rows.map((r) => r.runId)).toEqual(['a', 'b', 'c']);
    const stored = JSON.parse(readFileSync(join(dir, 'old-1.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(stored).toMatchObject({ schemaVersion: 1, notes: 'kept by hand', name: 'kept' });
    expect(stored.rows).toHaveLength(3);
    expect(byId(store.list(), 'old-1')).toMatchObject({ name: 'kept', runs: 3 });
  });

  it('renames a sweep saved today and keeps its rows and event logs', () => {
    const dir = newDir();
    const store = new HistoryStore(dir);
    const id = savedSweep(store);
    expect(store.rename(id, 'mine')).toBe(true);
    expect(store.get(id)).toMatchObject({ name: 'mine', status: 'finished' });
    expect(store.get(id)!.rows).toHaveLength(2);
    expect(store.runEvents(id, 'r1')).toEqual([startEvent('r1')]);
  });

  it('lists an entry with a status it does not know as failed, and says why', () => {
    const dir = newDir();
    writeFileSync(
      join(dir, 'future.json'),
      JSON.stringify(oldFormatEntry('future', { status: 'archived' })),
    );
    const store = new HistoryStore(dir);
    const listed = byId(store.list(), 'future');
    expect(listed).toMatchObject({ status: 'failed', runs: 3 });
    expect(listed?.problems?.join(' ')).toMatch(/status "archived" is unknown to this version/);
    // and a rename keeps the status as stored
    store.rename('future', 'later');
    expect(JSON.parse(readFileSync(join(dir, 'future.json'), 'utf8'))).toMatchObject({
      status: 'archived',
      name: 'later',
    });
  });
});

describe('duplicates and broken rows are listed as such', () => {
  it('lists a copy made with cp as a copy, and deleting one never touches the other', () => {
    const dir = newDir();
    const store = new HistoryStore(dir);
    const id = savedSweep(store);
    copyFileSync(join(dir, `${id}.json`), join(dir, `${id}-copy.json`));
    const list = store.list();
    expect(list.map((e) => e.id).sort()).toEqual([id, `${id}-copy`]);
    expect(new Set(list.map((e) => e.id)).size).toBe(list.length); // the list's key is unique
    const copy = byId(list, `${id}-copy`)!;
    expect(copy.duplicateOf).toBe(id);
    expect(copy.problems?.[0]).toMatch(/^A copy of .*\.json .*Delete the one you do not need/);
    expect(byId(list, id)?.duplicateOf).toBeUndefined();
    expect(store.get(`${id}-copy`)?.id).toBe(`${id}-copy`);

    store.remove(`${id}-copy`);
    expect(store.get(id)?.rows).toHaveLength(2);
    expect(store.runEvents(id, 'r0')).toEqual([startEvent('r0')]);
    expect(store.list().map((e) => e.id)).toEqual([id]);

    // and the other way round: the original deleted, the copy stays, listed on its own
    copyFileSync(join(dir, `${id}.json`), join(dir, `${id}-copy.json`));
    store.remove(id);
    expect(store.list().map((e) => [e.id, e.duplicateOf])).toEqual([[`${id}-copy`, undefined]]);
  });

  it('lists a copy named by a file manager ("X copy", "X (1)") and can open and delete it', () => {
    const dir = newDir();
    const store = new HistoryStore(dir);
    const id = savedSweep(store);
    copyFileSync(join(dir, `${id}.json`), join(dir, `${id} (1).json`));
    expect(byId(store.list(), `${id} (1)`)?.duplicateOf).toBe(id);
    expectAllOpenableOrDeletable(store);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('drops a line saved twice in rows.jsonl once, and the entry still opens', () => {
    const dir = newDir();
    const store = new HistoryStore(dir);
    const id = savedSweep(store, 3);
    const rows = join(dir, `${id}.rows.jsonl`);
    expect(byId(store.list(), id)?.problems).toBeUndefined(); // listed once before the change
    const lines = readFileSync(rows, 'utf8').split('\n');
    appendFileSync(rows, `${lines[1]}\n`);
    const entry = store.get(id)!;
    expect(entry.rows.map((r) => r.runId)).toEqual(['r0', 'r1', 'r2']);
    const listed = byId(store.list(), id)!;
    expect(listed.runs).toBe(3);
    expect(listed.problems?.join(' ')).toMatch(/1 run was saved twice and is shown once/);
  });

  it('skips rows out of range (k 1e9, negative times, NaN) and says how many and why', () => {
    const dir = newDir();
    const store = new HistoryStore(dir);
    const id = savedSweep(store);
    const rows = join(dir, `${id}.rows.jsonl`);
    expect(byId(store.list(), id)?.runs).toBe(2); // listed once before the change
    appendFileSync(rows, JSON.stringify(runRow({ runId: 'huge', k: 1e9 })) + '\n');
    appendFileSync(rows, JSON.stringify(runRow({ runId: 'neg', timeS: -1 })) + '\n');
    appendFileSync(rows, JSON.stringify(runRow({ runId: 'many', newTokens: 1e12 })) + '\n');
    appendFileSync(
      rows,
      JSON.stringify(runRow({ runId: 'nan' })).replace('"timeS":1', '"timeS":NaN') + '\n',
    );
    const entry = store.get(id)!;
    expect(entry.rows.map((r) => r.runId)).toEqual(['r0', 'r1']);
    const problems = byId(store.list(), id)!.problems!.join(' ');
    expect(problems).toMatch(
      /^4 saved runs were skipped: 3 with values out of range \(k: .*\); 1 not readable as JSON .*fix or remove those lines in .*\.rows\.jsonl/,
    );
  });
});

describe('reads are bounded and skip special files; one bad entry never hides the others', () => {
  it('does not block on a FIFO named pipe.json, and lists it as what it is', () => {
    const dir = newDir();
    const id = savedSweep(new HistoryStore(dir));
    spawnSync('mkfifo', [join(dir, 'pipe.json')]);
    const { entries, ms } = listInChild(dir, 8_000);
    expect(entries, `the list did not answer in ${ms} ms`).not.toBeNull();
    expect(entries!.map((e) => e.id).sort()).toEqual([id, 'pipe']);
    expect(byId(entries!, 'pipe')?.unreadable).toMatch(
      /^pipe\.json is a named pipe, not a saved file, and was not read: move it out of the history folder\./,
    );
    // Delete removes the pipe itself
    const store = new HistoryStore(dir);
    store.remove('pipe');
    expect(existsSync(join(dir, 'pipe.json'))).toBe(false);
  });

  it('skips a link to /dev/zero without reading it', () => {
    const dir = newDir();
    const id = savedSweep(new HistoryStore(dir));
    symlinkSync('/dev/zero', join(dir, 'zero.json'));
    const { entries, ms } = listInChild(dir, 8_000);
    expect(entries, `the list did not answer in ${ms} ms`).not.toBeNull();
    expect(byId(entries!, id)?.runs).toBe(2);
    expect(byId(entries!, 'zero')?.unreadable).toMatch(
      /^zero\.json is a link to \/dev\/zero, outside the history folder, and was not read: copy the file itself into the history folder, or remove the link\./,
    );
  });

  it('skips a link to a file outside the folder', () => {
    const dir = newDir();
    const outside = join(newDir(), 'elsewhere.json');
    writeFileSync(outside, JSON.stringify(oldFormatEntry('elsewhere')));
    symlinkSync(outside, join(dir, 'elsewhere.json'));
    // a link inside the folder is read as the file it names
    writeFileSync(join(dir, 'real.json'), JSON.stringify(oldFormatEntry('real')));
    symlinkSync(join(dir, 'real.json'), join(dir, 'alias.json'));
    const list = new HistoryStore(dir).list();
    expect(byId(list, 'elsewhere')?.unreadable).toMatch(/outside the history folder/);
    expect(byId(list, 'alias')).toMatchObject({ runs: 3, duplicateOf: 'real' });
  });

  it('lists files over their size bound as too large, with what to do, without reading them', () => {
    const dir = newDir();
    const store = new HistoryStore(dir);
    const big = savedSweep(store);
    truncateSync(join(dir, `${big}.rows.jsonl`), 65 << 20); // 65 MB of zeros, sparse
    writeFileSync(join(dir, 'huge.json'), '');
    truncateSync(join(dir, 'huge.json'), 17 << 20);
    const list = store.list();
    expect(byId(list, big)?.problems?.join(' ')).toMatch(
      /rows\.jsonl is 65 MB, over the 64 MB this file may take, and was not read: move it out of the history folder to keep it/,
    );
    expect(byId(list, 'huge')?.unreadable).toMatch(/^huge\.json is 17 MB, over the 16 MB/);
  });

  it('sends the first prompt cut to a few hundred characters, however long it is', () => {
    const dir = newDir();
    const long = 'x'.repeat(2_000_000);
    writeFileSync(
      join(dir, 'long.json'),
      JSON.stringify(oldFormatEntry('long', { settings: sweepSettings({ prompts: [long, 'b'] }) })),
    );
    const listed = byId(new HistoryStore(dir).list(), 'long')!;
    expect(listed.prompt.length).toBeLessThanOrEqual(300);
    expect(listed.prompt.startsWith('xxx')).toBe(true);
    expect(listed.prompts).toBe(2);
    expect(JSON.stringify(listed).length).toBeLessThan(5_000);
  });

  it('lists the others when one rows.jsonl is a folder or unreadable', () => {
    const dir = newDir();
    const store = new HistoryStore(dir);
    const good = savedSweep(store);
    const folder = savedSweep(store);
    const rows = join(dir, `${folder}.rows.jsonl`);
    unlinkSync(rows);
    mkdirSync(rows);
    const posted: HostMessage[] = [];
    new HistoryRequests(store, new Set(), (m) => posted.push(m)).list('q');
    const entries = (posted[0] as Extract<HostMessage, { type: 'history-list' }>).entries;
    expect(byId(entries, good)?.runs).toBe(2);
    expect(byId(entries, folder)?.problems?.join(' ')).toMatch(
      /rows\.jsonl is a folder, not a saved file, and was not read/,
    );
  });

  it.skipIf(isRoot)('lists the others when one rows.jsonl cannot be read (no permission)', () => {
    const dir = newDir();
    const store = new HistoryStore(dir);
    const good = savedSweep(store);
    const locked = savedSweep(store);
    chmodSync(join(dir, `${locked}.rows.jsonl`), 0);
    const list = store.list();
    expect(byId(list, good)?.runs).toBe(2);
    expect(byId(list, locked)?.problems?.join(' ')).toMatch(/permission denied/);
  });

  it('lists an entry whose id inside says ../ under its file name, so it opens and deletes', () => {
    const dir = newDir();
    writeFileSync(join(dir, 'evil.json'), JSON.stringify(oldFormatEntry('../../escape')));
    writeFileSync(join(dir, 'not-json.json'), '{"id": "torn');
    writeFileSync(join(dir, 'semi;colon.json'), JSON.stringify(oldFormatEntry('x')));
    const store = new HistoryStore(dir);
    const list = store.list();
    expect(list.map((e) => e.id).sort()).toEqual(['evil', 'not-json']);
    expect(store.get('evil')?.rows).toHaveLength(3);
    // opening or renaming the broken one says why and what to do
    const requests = new HistoryRequests(store, new Set(), () => undefined);
    expect(() => requests.open('q1', 'not-json')).toThrow(
      /^not-json\.json is not valid JSON .*: restore it from a backup, or delete it\.$/,
    );
    expect(() => requests.rename('q2', 'not-json', 'x')).toThrow(
      /^Could not rename the saved sweep: not-json\.json is not valid JSON/,
    );
    expect(byId(list, 'not-json')?.unreadable).toMatch(
      /^not-json\.json is not valid JSON .*: restore it from a backup, or delete it\./,
    );
    expectAllOpenableOrDeletable(store);
  });
});
