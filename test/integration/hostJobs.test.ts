/**
 * The engine host's job modules on their own, without models: the one-job-at-a-time slot, a
 * sweep's history record, the history requests and the dispatch of what needs no model.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEngineHost } from '../../src/lab/host/engineHost';
import { HistoryRequests } from '../../src/lab/host/historyRequests';
import { HistoryStore } from '../../src/lab/host/historyStore';
import { ModelWorkSlot } from '../../src/lab/host/modelWorkSlot';
import { SweepRecord } from '../../src/lab/host/sweepRecord';
import type { EngineEvent } from '../../src/shared/events';
import type { HostMessage } from '../../src/shared/protocol';
import { PAIR_DRAFT, PAIR_TARGET, runRow } from '../support/helpers';
import { sweepSettings } from '../support/serveClient';

const emptyDir = (): string => mkdtempSync(join(tmpdir(), 'specdec-host-jobs-'));
const startEvent: EngineEvent = {
  type: 'run-start',
  runId: 'r1',
  mode: 'baseline',
  k: null,
  maxNewTokens: 4,
  models: { target: 't', draft: null },
  promptTokenIds: [1, 2],
  promptText: 'a b',
};

describe('ModelWorkSlot', () => {
  it('holds the engine for one job at a time and cancels a job by its request id', async () => {
    const slot = new ModelWorkSlot();
    let finish = (): void => undefined;
    let signal: AbortSignal | null = null;
    const first = slot.run('a', 'a sweep', (s) => {
      signal = s;
      return new Promise<void>((ok) => (finish = ok));
    });
    await expect(slot.run('b', 'a download', () => Promise.resolve())).rejects.toThrow(
      'The engine is busy with a sweep. Cancel it or wait for it to finish.',
    );
    slot.cancel('b'); // refused, so nothing of its to cancel
    expect(signal!.aborted).toBe(false);
    slot.cancel('a');
    expect(signal!.aborted).toBe(true);
    finish();
    await first;
    await expect(slot.run('c', 'a download', () => Promise.resolve())).resolves.toBeUndefined();
  });
});

describe('SweepRecord', () => {
  it('saves the header at the first run and each row with its event log', () => {
    const store = new HistoryStore(emptyDir());
    const record = new SweepRecord(store, sweepSettings(), { target: 't', draft: 'd' });
    record.runStarted(0);
    expect(store.get(record.id)).toMatchObject({ status: 'running', rows: [] });
    record.event(startEvent);
    record.runFinished(runRow({ runId: 'r1' }));
    record.finished(null, false);
    expect(record.notSaved).toBeNull();
    expect(store.get(record.id)).toMatchObject({ status: 'finished', rows: [{ runId: 'r1' }] });
    expect(store.runEvents(record.id, 'r1')).toEqual([startEvent]);
  });

  it('keeps a controlled acceptance sweep’s targets and the pair’s measured costs, read back as saved', () => {
    const store = new HistoryStore(emptyDir());
    const settings = { ...sweepSettings(), acceptance: [0.6, 0.9] };
    const record = new SweepRecord(store, settings, { target: 't', draft: 'd' });
    record.runStarted(0);
    record.runFinished(runRow({ runId: 'r1', acceptanceTarget: 0.6 }));
    const costs = { c: 0.21, verifyCost: { '1': 1.02, '4': 1.3 } };
    record.finished(null, false, costs);
    const saved = store.get(record.id);
    expect(saved?.settings.acceptance).toEqual([0.6, 0.9]);
    expect(saved?.costs).toEqual(costs);
    expect(saved?.rows[0]?.acceptanceTarget).toBe(0.6);
  });

  it('stops saving at the first failure and says why; the rows stay in the entry', () => {
    const file = join(emptyDir(), 'a-file');
    writeFileSync(file, '');
    const store = new HistoryStore(join(file, 'history')); // a folder under a file: no save works
    const record = new SweepRecord(store, sweepSettings(), { target: 't', draft: 'd' });
    record.runStarted(0);
    record.runFinished(runRow({ runId: 'r1' }));
    expect(record.notSaved).toMatch(/^not saved: /);
    expect(record.entry.rows).toHaveLength(1);
  });

  it('leaves nothing in history when the sweep ends before its first row', () => {
    const store = new HistoryStore(emptyDir());
    const record = new SweepRecord(store, sweepSettings(), { target: 't', draft: 'd' });
    record.runStarted(0);
    record.finished(null, true);
    expect(store.list()).toEqual([]);
  });
});

describe('HistoryRequests', () => {
  it('refuses to rename or delete a sweep still being saved, and lists it as running', () => {
    const store = new HistoryStore(emptyDir());
    const record = new SweepRecord(store, sweepSettings(), { target: 't', draft: 'd' });
    record.runStarted(0);
    const posted: HostMessage[] = [];
    const history = new HistoryRequests(store, new Set([record.id]), (m) => posted.push(m));
    expect(() => history.rename('q1', record.id, 'mine')).toThrow('still running');
    expect(() => history.remove('q2', record.id)).toThrow('still running');
    history.list('q3');
    expect(posted).toMatchObject([
      { type: 'history-list', requestId: 'q3', entries: [{ id: record.id, status: 'running' }] },
    ]);
  });
});

describe('the dispatch', () => {
  it('says ready first, answers a malformed request and a stale step without holding the engine', async () => {
    const posted: HostMessage[] = [];
    let deliver: (data: unknown) => void = () => undefined;
    startEngineHost(
      { post: (m) => posted.push(m), onMessage: (listener) => (deliver = listener) },
      { dataDir: emptyDir(), embeddedPair: { target: PAIR_TARGET, draft: PAIR_DRAFT } },
    );
    expect(posted[0]).toMatchObject({ type: 'ready', embeddedPair: { context: 512 } });
    deliver({ type: 'sweep', requestId: 'x' });
    deliver({ type: 'live-next', requestId: 'gone' });
    deliver({ type: 'history-list', requestId: 'h' });
    await new Promise((ok) => setImmediate(ok));
    expect(posted.slice(1)).toMatchObject([
      { type: 'error', requestId: 'x', code: 'BAD_REQUEST' },
      { type: 'history-list', requestId: 'h', entries: [] },
      {
        type: 'error',
        requestId: 'gone',
        code: 'BAD_ARGUMENT',
        message: expect.stringContaining('no longer active') as unknown,
      },
    ]);
  });
});
