/** The serve mode's bridge and the engine host behind it, driven over a real WebSocket. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { connect as connectTo, liveSettings, pairOf, sweepSettings } from './serveClient';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/cli/serve';
import { MICRO_A, MICRO_B, ROOT, specdec } from './helpers';

let server: RunningServer;
let origin: string;
let cookie: string;

beforeAll(async () => {
  server = await startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir: mkdtempSync(join(tmpdir(), 'specdec-serve-')),
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
