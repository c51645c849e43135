/** Driving a live `serve` from tests: a recording WebSocket client and request builders. */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import WebSocket from 'ws';
import type { RunningServer } from '../../src/cli/serve';
import type {
  HostMessage,
  HostRequest,
  LiveSettings,
  PairChoice,
  SweepSettings,
} from '../../src/shared/protocol';

export interface Client {
  send(r: HostRequest): void;
  /** the first message (already seen or still to come) that matches */
  next(pred: (m: HostMessage) => boolean, timeoutMs?: number): Promise<HostMessage>;
  all: HostMessage[];
  ws: WebSocket;
  close(): void;
}

export const serverOrigin = (server: RunningServer): string => new URL(server.url).origin;
export const cookieOf = (server: RunningServer): string => `specdec_token=${server.token}`;

/** A client that records every message and can wait for one. */
export async function connect(server: RunningServer): Promise<Client> {
  const origin = serverOrigin(server);
  const ws = new WebSocket(`${origin.replace('http', 'ws')}/ws`, {
    headers: { cookie: cookieOf(server), origin },
  });
  const all: HostMessage[] = [];
  const waiters: Array<{ pred: (m: HostMessage) => boolean; resolve: (m: HostMessage) => void }> =
    [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as HostMessage;
    all.push(m);
    for (const w of [...waiters]) {
      if (w.pred(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  await new Promise((ok, fail) => ws.once('open', ok).once('error', fail));
  return {
    all,
    ws,
    send: (r) => ws.send(JSON.stringify(r)),
    next: (pred, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const seen = all.find(pred);
        if (seen) return resolve(seen);
        const timer = setTimeout(
          () => reject(new Error('timed out waiting for a message')),
          timeoutMs,
        );
        waiters.push({ pred, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      }),
    close: () => ws.close(),
  };
}

export const pairOf = (target: string | null, ep: 'auto' | 'cpu' = 'auto'): PairChoice => ({
  target: { source: target, dtype: 'fp32', ep },
  draft: { source: null, dtype: 'fp32', ep },
  offline: false,
});

export const sweepSettings = (over: Partial<SweepSettings> = {}): SweepSettings => ({
  pair: pairOf(null),
  prompts: ['The old man said'],
  maxNewTokens: 30,
  ks: [1, 2, 4],
  repeats: 1,
  policies: ['fixed'],
  drafters: ['model'],
  pMin: 0.5,
  sampling: null,
  ...over,
});

export const liveSettings = (over: Partial<LiveSettings> = {}): LiveSettings => ({
  pair: pairOf(null),
  prompt: 'The old man said',
  maxNewTokens: 6,
  k: 2,
  policy: 'fixed',
  drafter: 'model',
  pMin: 0.5,
  sampling: null,
  ...over,
});

/** A raw GET (fetch would normalise the path and the Host header away). */
export function rawGet(
  server: RunningServer,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path,
        headers: { cookie: cookieOf(server), ...headers },
      },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, headers: res.headers });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A WebSocket handshake over a raw socket; resolves with the socket and the status line. */
export function rawUpgrade(
  server: RunningServer,
  headers: Record<string, string>,
): Promise<{ socket: Socket; status: string }> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = netConnect(Number(port), '127.0.0.1');
    socket.on('error', reject);
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve({ socket, status: head.split('\r\n')[0]! });
    };
    socket.on('data', onData);
    const lines = [
      'GET /ws HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    socket.write(lines.join('\r\n') + '\r\n\r\n');
  });
}
