/** The serve mode's bridge and the engine host behind it, driven over a real WebSocket. */
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { connect as connectTo, liveSettings, pairOf, sweepSettings } from '../support/serveClient';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/cli/serve';
import { MICRO_A, MICRO_B, ROOT, specdec } from '../support/helpers';

let server: RunningServer;
const dataDir = mkdtempSync(join(tmpdir(), 'specdec-serve-'));
let origin: string;
let cookie: string;

beforeAll(async () => {
  server = await startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    rendererDir: join(ROOT, 'out', 'renderer'),
    embeddedPair: { target: MICRO_A, draft: MICRO_B },
  });
  origin = new URL(server.url).origin;
  cookie = `specdec_token=${server.token}`;
});
afterAll(() => server.close());

const connect = () => connectTo(server);
const settings = sweepSettings;

describe('access control', () => {
  it('refuses requests without the token (401) or with a wrong one (403)', async () => {
    expect((await fetch(`${origin}/`)).status).toBe(401);
    expect((await fetch(`${origin}/?token=nope`, { redirect: 'manual' })).status).toBe(403);
    expect((await fetch(`${origin}/`, { headers: { cookie: 'specdec_token=nope' } })).status).toBe(
      403,
    );
    const ok = await fetch(server.url, { redirect: 'manual' });
    expect(ok.status).toBe(302);
    expect(ok.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    const page = await fetch(`${origin}/`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await fetch(`${origin}/../package.json`, { headers: { cookie } })).status).toBe(404);
  });

  it('refuses WebSocket upgrades from a foreign origin or without the token', async () => {
    for (const headers of [{ cookie, origin: 'http://evil.example' }, { origin }]) {
      const ws = new WebSocket(`${origin.replace('http', 'ws')}/ws`, { headers });
      const err = await new Promise<Error>((ok) => ws.once('error', ok));
      expect(err.message).toContain('403');
    }
  });
});

describe('start-up', () => {
  it('`specdec serve` on a busy port says so in one line, names --port and exits 2', async () => {
    const busy = new URL(server.url).port;
    const r = await specdec(['serve', '--port', busy]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      `specdec: error: Port ${busy} on 127.0.0.1 is already in use (another \`specdec serve\`, or another program). Choose another with --port N, or --port 0 for any free one.`,
    ]);
  });
});

describe('the engine host over the bridge', () => {
  it('runs a sweep: batched events, one row per run, history saved', async () => {
    const c = await connect();
    await c.next((m) => m.type === 'ready');
    c.send({ type: 'sweep', requestId: 's1', settings: settings() });
    const done = await c.next((m) => m.type === 'sweep-done');
    expect(done).toMatchObject({ cancelled: false });
    const rows = c.all.filter((m) => m.type === 'sweep-row');
    expect(rows.map((m) => (m.type === 'sweep-row' ? `${m.row.mode}:${m.row.k}` : ''))).toEqual([
      'baseline:null',
      'speculative:1',
      'speculative:2',
      'speculative:4',
    ]);
    const batches = c.all.filter((m) => m.type === 'events');
    const events = batches.flatMap((m) => (m.type === 'events' ? m.events : []));
    expect(events.filter((e) => e.type === 'run-end')).toHaveLength(4);
    expect(batches.length).toBeLessThan(events.length / 5); // batched, not one message per event
    c.send({ type: 'history-list', requestId: 'h1' });
    const list = await c.next((m) => m.type === 'history-list');
    expect(
      list.type === 'history-list' &&
        list.entries.some((e) => e.status === 'finished' && e.runs === 4),
    ).toBe(true);
    c.close();
  });

  it('saves each run’s event log: a saved run replays exactly what streamed, and names and deletes are checked', async () => {
    const c = await connect();
    await c.next((m) => m.type === 'ready');
    c.send({ type: 'sweep', requestId: 'log', settings: settings({ ks: [2] }) });
    const done = await c.next((m) => m.type === 'sweep-done' && m.requestId === 'log');
    const id = done.type === 'sweep-done' ? done.historyId : '';
    const streamed = c.all
      .filter((m) => m.type === 'events' && m.requestId === 'log')
      .flatMap((m) => (m.type === 'events' ? m.events : []));
    const rows = c.all.flatMap((m) =>
      m.type === 'sweep-row' && m.requestId === 'log' ? [m.row] : [],
    );
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      c.send({ type: 'history-run', requestId: `run-${row.runId}`, id, runId: row.runId });
      const saved = await c.next((m) => m.type === 'history-run' && m.runId === row.runId);
      expect(saved.type === 'history-run' && saved.events).toEqual(
        streamed.filter((e) => e.runId === row.runId),
      );
    }
    // one gzipped line per run: a small fraction of the events' JSON
    const file = join(dataDir, 'history', `${id}.events.jsonl`);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(statSync(file).size).toBeLessThan(JSON.stringify(streamed).length / 4);

    // a run with no log is refused in words; so are bad names and unknown sweeps
    c.send({ type: 'history-run', requestId: 'nolog', id, runId: 'no-such-run' });
    const nolog = await c.next((m) => m.type === 'error' && m.requestId === 'nolog');
    expect(nolog.type === 'error' && nolog.message).toMatch(/has no step log to replay/);
    c.send({ type: 'history-rename', requestId: 'long', id, name: 'x'.repeat(81) });
    const long = await c.next((m) => m.type === 'error' && m.requestId === 'long');
    expect(long.type === 'error' && long.message).toMatch(/at most 80 characters/);
    c.send({ type: 'history-rename', requestId: 'path', id: '../etc', name: 'x' });
    const path = await c.next((m) => m.type === 'error' && m.requestId === 'path');
    expect(path.type === 'error' && path.code).toBe('BAD_REQUEST');
    c.send({ type: 'history-rename', requestId: 'gone', id: 'no-such-sweep', name: 'x' });
    const gone = await c.next((m) => m.type === 'error' && m.requestId === 'gone');
    expect(gone.type === 'error' && gone.message).toMatch(/No saved sweep no-such-sweep/);

    c.send({ type: 'history-rename', requestId: 'name', id, name: '  K=2 only  ' });
    const named = await c.next((m) => m.type === 'history-list' && m.requestId === 'name');
    expect(named.type === 'history-list' && named.entries.find((e) => e.id === id)).toMatchObject({
      name: 'K=2 only',
      replayable: true,
      best: { label: 'K=2' },
    });
    c.send({ type: 'history-delete', requestId: 'del', id });
    const after = await c.next((m) => m.type === 'history-list' && m.requestId === 'del');
    expect(after.type === 'history-list' && after.entries.some((e) => e.id === id)).toBe(false);
    expect(existsSync(file)).toBe(false);
    c.close();
  });

  it('checks a request before it opens any model', async () => {
    const c = await connect();
    // both wrong: a loaded model would have said "Model folder not found" first
    c.send({
      type: 'sweep',
      requestId: 'first',
      settings: settings({ ks: [0], pair: pairOf('/no/such/folder') }),
    });
    const err = await c.next((m) => m.type === 'error' && m.requestId === 'first');
    expect(err.type === 'error' && err.message).toMatch(/K \(draft length\) must be/);
    expect(c.all.some((m) => m.type === 'models-loaded' && m.requestId === 'first')).toBe(false);
    c.close();
  });

  it('answers bad settings with a plain error and stays usable', async () => {
    const c = await connect();
    c.send({ type: 'sweep', requestId: 'bad', settings: settings({ ks: [0] }) });
    const err = await c.next((m) => m.type === 'error' && m.requestId === 'bad');
    expect(err.type === 'error' && err.message).toMatch(
      /K \(draft length\) must be a whole number from 1 to 64/,
    );
    c.send({
      type: 'sweep',
      requestId: 'bad2',
      settings: settings({ pair: pairOf('/no/such/folder') }),
    });
    const err2 = await c.next((m) => m.type === 'error' && m.requestId === 'bad2');
    expect(err2.type === 'error' && err2.message).toMatch(
      /^Not a model folder this server can use: \/no\/such\/folder\./,
    );
    c.send({ type: 'sweep', requestId: 'ok', settings: settings({ ks: [2] }) });
    expect(await c.next((m) => m.type === 'sweep-done' && m.requestId === 'ok')).toBeTruthy();
    c.close();
  });

  it('cancel stops the sweep and keeps every finished row, in the reply and in history', async () => {
    const c = await connect();
    c.send({
      type: 'sweep',
      requestId: 'c1',
      settings: settings({ ks: [1, 2, 3, 4, 5, 6, 7, 8], repeats: 3 }),
    });
    await c.next((m) => m.type === 'sweep-row' && m.requestId === 'c1');
    c.send({ type: 'cancel', requestId: 'c1' });
    const done = await c.next((m) => m.type === 'sweep-done' && m.requestId === 'c1');
    const rows = c.all.filter((m) => m.type === 'sweep-row' && m.requestId === 'c1');
    expect(done.type === 'sweep-done' && done.cancelled).toBe(true);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(27);
    c.send({
      type: 'history-get',
      requestId: 'g1',
      id: done.type === 'sweep-done' ? done.historyId : '',
    });
    const entry = await c.next((m) => m.type === 'history-entry');
    expect(entry.type === 'history-entry' && entry.entry.status).toBe('cancelled');
    expect(entry.type === 'history-entry' && entry.entry.rows.length).toBe(rows.length);
    c.close();
  });

  it('steps a live run one speculative step per request', async () => {
    const c = await connect();
    c.send({
      type: 'live-start',
      requestId: 'l1',
      settings: liveSettings(),
    });
    const first = await c.next((m) => m.type === 'live-step' && m.requestId === 'l1');
    expect(first.type === 'live-step' && first.events[0]!.type).toBe('run-start');
    let done = first.type === 'live-step' && first.done;
    let steps = 1;
    while (!done) {
      const before = c.all.length;
      c.send({ type: 'live-next', requestId: 'l1' });
      const m = await c.next((x) => x.type === 'live-step' && c.all.indexOf(x) >= before);
      done = m.type === 'live-step' && m.done;
      steps++;
    }
    const events = c.all.flatMap((m) => (m.type === 'live-step' ? m.events : []));
    expect(events.filter((e) => e.type === 'emit')).toHaveLength(6);
    expect(steps).toBe(events.filter((e) => e.type === 'step-end').length);
    c.close();
  });

  it('survives the host dying mid-run: says so, keeps the finished rows, and starts a fresh host', async () => {
    const c = await connect();
    c.send({
      type: 'sweep',
      requestId: 'k1',
      settings: settings({ ks: [1, 2, 3, 4, 5, 6, 7, 8], repeats: 3 }),
    });
    await c.next((m) => m.type === 'sweep-row' && m.requestId === 'k1');
    await server.killHost();
    const exit = await c.next((m) => m.type === 'host-exit');
    expect(exit.type === 'host-exit' && exit.message.length).toBeGreaterThan(0);
    await c.next((m) => m.type === 'ready' && c.all.indexOf(m) > c.all.indexOf(exit));
    const kept = c.all.filter((m) => m.type === 'sweep-row' && m.requestId === 'k1').length;
    c.send({ type: 'history-list', requestId: 'h2' });
    const list = await c.next((m) => m.type === 'history-list' && m.requestId === 'h2');
    const failed =
      list.type === 'history-list' ? list.entries.find((e) => e.status === 'failed') : undefined;
    expect(failed?.runs).toBeGreaterThanOrEqual(kept);
    c.send({ type: 'sweep', requestId: 'k2', settings: settings({ ks: [3] }) });
    expect(await c.next((m) => m.type === 'sweep-done' && m.requestId === 'k2')).toMatchObject({
      cancelled: false,
    });
    c.close();
  });
});
