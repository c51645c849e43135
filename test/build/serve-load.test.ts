/**
 * What requests within the rate limit may cost `serve` (issue 32): quick requests take turns within
 * a bound per client and overall, a saved run comes back in parts of bounded size, beyond the bound
 * a client is told "busy, retry", and memory stays bounded with clients that never read. Loopback
 * only, on a saved run the size of the (2.5 MB of events) built from a real sweep's log.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../src/cli/serve';
import { EngineQueue, type EngineQueueLimits } from '../../src/cli/engineQueue';
import { HistoryStore } from '../../src/lab/host/historyStore';
import { RUN_PART_BYTES } from '../../src/lab/host/historyRequests';
import type { EngineEvent } from '../../src/shared/events';
import type { HostMessage, HostRequest } from '../../src/shared/protocol';
import { MICRO_A, MICRO_B, ROOT } from '../support/helpers';
import { connect, cookieOf, rawUpgrade, serverOrigin, sweepSettings } from '../support/serveClient';

/** the saved run: 2.47 MB of events */
const BIG_RUN_BYTES = 2.5e6;
const MB = 1024 * 1024;

let server: RunningServer;
let dataDir: string;
let entryId = '';
let bigRunId = '';
let bigRunEvents = 0;

/** one masked text frame, as a client sends it */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const len = payload.length;
  const head =
    len < 126 ? Buffer.from([0x81, 0x80 | len]) : Buffer.from([0x81, 0x80 | 126, len >> 8, len & 255]);
  return Buffer.concat([head, mask, payload.map((b, i) => b ^ mask[i % 4]!)]);
}

/** a client that finished the handshake, sends `requests`, and never reads again */
async function silentClient(s: RunningServer, requests: HostRequest[]): Promise<void> {
  const { socket, status } = await rawUpgrade(s, { Origin: serverOrigin(s), Cookie: cookieOf(s) });
  expect(status).toContain('101');
  socket.pause();
  for (const r of requests) socket.write(clientFrame(JSON.stringify(r)));
}

/**
 * A reader that keeps nothing but what each request ended with: the test process holds the server,
 * so a client that kept every reply would be measured with it.
 */
interface LeanClient {
  ws: WebSocket;
  send(r: HostRequest): void;
  /** resolves with the request's last message: its final part's events so far, or its error */
  ask(r: HostRequest): Promise<{ type: string; code?: string; events: number; parts: number }>;
}

async function leanClient(s: RunningServer): Promise<LeanClient> {
  const origin = serverOrigin(s);
  const ws = new WebSocket(`${origin.replace('http', 'ws')}/ws`, {
    headers: { cookie: cookieOf(s), origin },
  });
  const waiting = new Map<
    string,
    { events: number; parts: number; done: (r: Awaited<ReturnType<LeanClient['ask']>>) => void }
  >();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as HostMessage;
    const requestId = 'requestId' in m ? m.requestId : null;
    const w = requestId === null ? undefined : waiting.get(requestId);
    if (!w || requestId === null) return;
    if (m.type === 'history-run') {
      w.events += m.events.length;
      w.parts += 1;
      if (m.part < m.parts - 1) return;
    }
    waiting.delete(requestId);
    w.done({
      type: m.type,
      code: m.type === 'error' ? m.code : undefined,
      events: w.events,
      parts: w.parts,
    });
  });
  await new Promise((ok, fail) => ws.once('open', ok).once('error', fail));
  const send = (r: HostRequest): void => ws.send(JSON.stringify(r));
  return {
    ws,
    send,
    ask: (r) =>
      new Promise((done) => {
        waiting.set(r.requestId, { events: 0, parts: 0, done });
        send(r);
      }),
  };
}

const runRequest = (requestId: string): HostRequest => ({
  type: 'history-run',
  requestId,
  id: entryId,
  runId: bigRunId,
});

/** resident memory of a process, MB */
function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'specdec-load-'));
  server = await startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    rendererDir: join(ROOT, 'out', 'renderer'),
    embeddedPair: { target: MICRO_A, draft: MICRO_B },
    // the silent clients stay for the whole test: only their unread bytes may cost anything
    clientLimits: { heartbeatMs: 600_000 },
  });
  // a real saved run: a sweep's log, then the same events repeated to the size
  const c = await connect(server);
  c.send({ type: 'sweep', requestId: 'seed', settings: sweepSettings({ ks: [2] }) });
  const done = await c.next((m) => m.type === 'sweep-done' && m.requestId === 'seed');
  entryId = done.type === 'sweep-done' ? done.historyId : '';
  const row = await c.next((m) => m.type === 'sweep-row' && m.requestId === 'seed');
  const runId = row.type === 'sweep-row' ? row.row.runId : '';
  c.send({ type: 'history-run', requestId: 'real', id: entryId, runId });
  const real = await c.next((m) => m.type === 'history-run' && m.requestId === 'real');
  const events = real.type === 'history-run' ? real.events : [];
  expect(events.length).toBeGreaterThan(10);
  c.close();
  bigRunId = `${runId}-long`;
  const one = events.map((e) => ({ ...e, runId: bigRunId }) as EngineEvent);
  const copies = Math.ceil(BIG_RUN_BYTES / JSON.stringify(one).length);
  const big = Array.from({ length: copies }, () => one).flat();
  bigRunEvents = big.length;
  new HistoryStore(join(dataDir, 'history')).appendEvents(entryId, bigRunId, big);
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe('serve under load', () => {
  it('a saved run of 2.5 MB comes back whole, in parts of bounded size', async () => {
    const c = await leanClient(server);
    const sizes: number[] = [];
    c.ws.on('message', (data) => sizes.push(String(data).length));
    const reply = await c.ask(runRequest('whole'));
    expect(reply.type).toBe('history-run');
    expect(reply.events).toBe(bigRunEvents);
    expect(reply.parts).toBeGreaterThanOrEqual(4);
    expect(Math.max(...sizes)).toBeLessThan(RUN_PART_BYTES + 64 * 1024);
    c.ws.close();
  });

  it('8 clients that never read, while one replays a saved run 250 times: memory stays within 150 MB', async () => {
    const hostPid = server.hostPid()!;
    // each silent client asks for replays it never reads, as a tab asleep mid-fetch would
    for (let i = 0; i < 8; i++)
      await silentClient(
        server,
        Array.from({ length: 4 }, (_, j) => runRequest(`silent-${i}-${j}`)),
      );
    const reader = await leanClient(server);
    const start = { serve: process.memoryUsage().rss / MB, host: rssOf(hostPid) };
    const peak = { ...start };
    const sample = setInterval(() => {
      peak.serve = Math.max(peak.serve, process.memoryUsage().rss / MB);
      peak.host = Math.max(peak.host, rssOf(hostPid));
    }, 100);
    let served = 0;
    let busy = 0;
    let next = 0;
    const t0 = Date.now();
    // four at a time, as runFetch would; a busy answer is sent again a moment later
    const worker = async (): Promise<void> => {
      while (next < 250) {
        const n = next++;
        for (;;) {
          const reply = await reader.ask(runRequest(`replay-${n}-${randomBytes(3).toString('hex')}`));
          if (reply.type === 'history-run') {
            expect(reply.events).toBe(bigRunEvents);
            served += 1;
            break;
          }
          expect(reply.code).toBe('BUSY');
          busy += 1;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    clearInterval(sample);
    const end = { serve: process.memoryUsage().rss / MB, host: rssOf(hostPid) };
    console.log(
      `250 replays of ${(BIG_RUN_BYTES / 1e6).toFixed(1)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s ` +
        `(${busy} busy answers); serve+test RSS start ${start.serve.toFixed(0)} MB, peak ${peak.serve.toFixed(0)}, ` +
        `end ${end.serve.toFixed(0)}; engine RSS start ${start.host.toFixed(0)} MB, peak ${peak.host.toFixed(0)}, ` +
        `end ${end.host.toFixed(0)}; clients ${JSON.stringify(server.clientCount())}`,
    );
    expect(served).toBe(250);
    expect(peak.serve - start.serve).toBeLessThan(150);
    reader.ws.close();
  }, 150_000);

  it('200 replays at once: those beyond the bound are refused busy, and another client is answered within 2 s', async () => {
    const flood = await leanClient(server);
    const other = await leanClient(server);
    const replies = Array.from({ length: 200 }, (_, i) => flood.ask(runRequest(`flood-${i}`)));
    const t0 = performance.now();
    const list = await other.ask({ type: 'history-list', requestId: 'other-list' });
    const listMs = performance.now() - t0;
    expect(list.type).toBe('history-list');
    expect(listMs).toBeLessThan(2000);
    const all = await Promise.all(replies);
    const refused = all.filter((r) => r.type === 'error');
    expect(refused.every((r) => r.code === 'BUSY')).toBe(true);
    expect(refused.length).toBeGreaterThanOrEqual(150);
    expect(all.filter((r) => r.type === 'history-run').every((r) => r.events === bigRunEvents)).toBe(
      true,
    );
    console.log(`flood: ${refused.length} of 200 busy; another client's list in ${listMs.toFixed(0)} ms`);
    flood.ws.close();
    other.ws.close();
  }, 90_000);

  it('after all that, serve still runs a sweep', async () => {
    const c = await connect(server);
    c.send({ type: 'sweep', requestId: 'alive', settings: sweepSettings({ ks: [2], maxNewTokens: 8 }) });
    const done = await c.next(
      (m) => (m.type === 'sweep-done' || m.type === 'error') && m.requestId === 'alive',
    );
    expect(done.type, JSON.stringify(done)).toBe('sweep-done');
    c.close();
  }, 60_000);
});

/** A socket whose unread bytes the test sets. */
class FakeSocket extends EventEmitter {
  bufferedAmount = 0;
}

describe('EngineQueue turns', () => {
  const limits: EngineQueueLimits = {
    perClient: 3,
    total: 5,
    inEngine: 1,
    maxWaitMs: 60_000,
    maxUnreadBytes: 1000,
    replyTimeoutMs: 60_000,
  };
  const list = (requestId: string): HostRequest => ({ type: 'history-list', requestId });
  const answer = (requestId: string): HostMessage => ({
    type: 'history-list',
    requestId,
    entries: [],
  });

  it('takes clients in turn, refuses beyond the bounds, and skips a client that is not reading', () => {
    const handed: string[] = [];
    const refused: string[] = [];
    const queue = new EngineQueue(
      limits,
      (_ws, r) => (handed.push(r.requestId), true),
      (_ws, r) => refused.push(r.requestId),
    );
    const a = new FakeSocket() as unknown as WebSocket;
    const b = new FakeSocket() as unknown as WebSocket;
    for (const id of ['a1', 'a2', 'a3', 'a4']) queue.submit(a, list(id));
    expect(refused).toEqual(['a4']); // three per client
    for (const id of ['b1', 'b2', 'b3']) queue.submit(b, list(id));
    expect(refused).toEqual(['a4', 'b3']); // five in all
    expect(handed).toEqual(['a1']); // one in the engine at a time
    queue.onHostMessage(answer('a1'));
    queue.onHostMessage(answer('b1'));
    expect(handed).toEqual(['a1', 'b1', 'a2']); // b's turn came before a's second
    // a stops reading: b goes first although a waited longer
    (a as unknown as FakeSocket).bufferedAmount = 5000;
    queue.submit(b, list('b4'));
    queue.onHostMessage(answer('a2'));
    expect(handed).toEqual(['a1', 'b1', 'a2', 'b2']);
    queue.forget(a);
    queue.onHostMessage(answer('b2'));
    expect(handed.at(-1)).toBe('b4');
    expect(queue.accepted).toBe(1);
    queue.close();
  });

  it('refuses busy a request that waited too long, and forgets what a dead engine held', async () => {
    const refused: string[] = [];
    const queue = new EngineQueue(
      { ...limits, maxWaitMs: 100 },
      () => true,
      (_ws, r) => refused.push(r.requestId),
    );
    const a = new FakeSocket() as unknown as WebSocket;
    queue.submit(a, list('held'));
    queue.submit(a, list('waits'));
    await new Promise((r) => setTimeout(r, 300));
    expect(refused).toEqual(['waits']);
    // the same id twice while the first is in the engine: the second is refused, not counted
    queue.submit(a, list('held'));
    expect(refused).toEqual(['waits', 'held']);
    expect(queue.accepted).toBe(1);
    queue.hostGone();
    expect(queue.accepted).toBe(0);
    queue.close();
  });

  it('never hands the engine two requests with one id (their replies could not be told apart)', () => {
    const handed: string[] = [];
    const refused: string[] = [];
    const queue = new EngineQueue(
      { ...limits, inEngine: 2 },
      (_ws, r) => (handed.push(r.requestId), true),
      (_ws, r) => refused.push(r.requestId),
    );
    const a = new FakeSocket() as unknown as WebSocket;
    const b = new FakeSocket() as unknown as WebSocket;
    queue.submit(a, list('a1'));
    queue.submit(a, list('a2'));
    queue.submit(b, list('same'));
    queue.submit(b, list('same'));
    queue.onHostMessage(answer('a1'));
    queue.onHostMessage(answer('a2'));
    expect(handed).toEqual(['a1', 'a2', 'same']);
    expect(refused).toEqual(['same']);
    queue.onHostMessage(answer('same'));
    expect(queue.accepted).toBe(0);
    queue.close();
  });
});
