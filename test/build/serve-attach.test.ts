/**
 * A second client of `serve` while a sweep runs (issue 31): it is shown the running sweep (its
 * settings, rows so far, the events of the run under way) and then follows the rest of it; Run
 * from it is answered with that sweep, not a bare "busy"; and a sweep whose only client left
 * still finishes and is in history.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/cli/serve';
import type { EngineEvent } from '../../src/shared/events';
import type { HostMessage, RunRow } from '../../src/shared/protocol';
import { MICRO_A, MICRO_B, ROOT } from '../support/helpers';
import { connect, sweepSettings, type Client } from '../support/serveClient';

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir: mkdtempSync(join(tmpdir(), 'specdec-attach-')),
    rendererDir: join(ROOT, 'out', 'renderer'),
    embeddedPair: { target: MICRO_A, draft: MICRO_B },
  });
});
afterAll(() => server.close());

/** long enough to connect a second client while it runs: 27 runs */
const longSweep = sweepSettings({ ks: [1, 2, 3, 4, 5, 6, 7, 8], repeats: 3 });

const rowsOf = (c: Client, requestId: string, from = 0): RunRow[] =>
  c.all.slice(from).flatMap((m) => (m.type === 'sweep-row' && m.requestId === requestId ? [m.row] : []));
const eventsOf = (c: Client, requestId: string, from = 0): EngineEvent[] =>
  c.all
    .slice(from)
    .flatMap((m) => (m.type === 'events' && m.requestId === requestId ? m.events : []));
const attachReply = (requestId: string) => (m: HostMessage) =>
  m.type === 'sweep-attach' && m.requestId === requestId;

describe('a second client while a sweep runs', () => {
  it('is sent the running sweep, then follows it to its end; Run from it shows that sweep', async () => {
    const a = await connect(server);
    await a.next((m) => m.type === 'ready');
    a.send({ type: 'sweep', requestId: 'first', settings: longSweep });
    await a.next((m) => m.type === 'sweep-row' && m.requestId === 'first');

    const b = await connect(server);
    b.send({ type: 'attach', requestId: 'b-attach' });
    const reply = await b.next(attachReply('b-attach'));
    if (reply.type !== 'sweep-attach' || reply.sweep === null) throw new Error('no running sweep');
    const snapshot = reply.sweep;
    expect(reply.refused).toBe(false);
    expect(snapshot.requestId).toBe('first');
    expect(snapshot.settings).toEqual(longSweep);
    expect(snapshot.progress).toMatchObject({ total: 27 });
    expect(snapshot.rows.length).toBeGreaterThan(0);
    // the run under way, from its run-start
    expect(snapshot.events[0]?.type).toBe('run-start');
    const current = snapshot.events[0]!.runId;
    expect(snapshot.events.every((e) => e.runId === current)).toBe(true);

    // Run pressed in the second client: its sweep is not started, the running one is shown
    b.send({ type: 'sweep', requestId: 'b-run', settings: sweepSettings({ ks: [2] }) });
    const refused = await b.next(attachReply('b-run'));
    expect(refused).toMatchObject({ refused: true, sweep: { requestId: 'first' } });

    const after = b.all.indexOf(reply) + 1;
    const done = await b.next((m) => m.type === 'sweep-done' && m.requestId === 'first');
    expect(done).toMatchObject({ cancelled: false });
    await a.next((m) => m.type === 'sweep-done' && m.requestId === 'first');
    // the snapshot and what came after it are the sweep as its own client saw it: no gap, no repeat
    expect([...snapshot.rows, ...rowsOf(b, 'first', after)]).toEqual(rowsOf(a, 'first'));
    expect(rowsOf(a, 'first')).toHaveLength(27);
    const streamedOfCurrent = eventsOf(a, 'first').filter((e) => e.runId === current);
    expect([
      ...snapshot.events,
      ...eventsOf(b, 'first', after).filter((e) => e.runId === current),
    ]).toEqual(streamedOfCurrent);
    // the replies went to the client that asked only
    expect(a.all.some((m) => m.type === 'sweep-attach')).toBe(false);
    expect(b.all.some((m) => 'requestId' in m && m.requestId === 'b-run' && m.type !== 'sweep-attach')).toBe(false);

    // nothing runs now: attach says so
    b.send({ type: 'attach', requestId: 'b-idle' });
    expect(await b.next(attachReply('b-idle'))).toMatchObject({ sweep: null, refused: false });
    a.close();
    b.close();
  });

  it('a sweep whose only client left finishes and is in history with all its rows', async () => {
    const a = await connect(server);
    await a.next((m) => m.type === 'ready');
    // 72 runs: far from done when its client leaves after the first
    const orphanSweep = sweepSettings({ ks: [1, 2, 3, 4, 5, 6, 7, 8], repeats: 8 });
    a.send({ type: 'sweep', requestId: 'orphan', settings: orphanSweep });
    await a.next((m) => m.type === 'sweep-row' && m.requestId === 'orphan');
    a.close();

    const c = await connect(server);
    c.send({ type: 'attach', requestId: 'c-attach' });
    const reply = await c.next(attachReply('c-attach'));
    // still running after its client left
    expect(reply.type === 'sweep-attach' && reply.sweep?.requestId).toBe('orphan');
    const done = await c.next((m) => m.type === 'sweep-done' && m.requestId === 'orphan');
    expect(done).toMatchObject({ cancelled: false });
    const historyId = done.type === 'sweep-done' ? done.historyId : '';

    const d = await connect(server);
    d.send({ type: 'history-list', requestId: 'd-list' });
    const list = await d.next((m) => m.type === 'history-list' && m.requestId === 'd-list');
    expect(list.type === 'history-list' && list.entries.find((e) => e.id === historyId)).toMatchObject({
      status: 'finished',
      runs: 72,
    });
    d.send({ type: 'history-get', requestId: 'd-get', id: historyId });
    const entry = await d.next((m) => m.type === 'history-entry' && m.requestId === 'd-get');
    expect(entry.type === 'history-entry' && entry.entry.rows).toHaveLength(72);
    c.close();
    d.close();
  });
});
