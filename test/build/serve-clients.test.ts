/**
 * What a client that stops reading may cost `serve` (issue 32): the replies to a request go to its
 * sender only, a client that lets its backlog pass the budget is dropped, one that does not answer
 * pings is closed, and every slot it held is free again. Loopback only; the budget on a fake socket,
 * whose unread bytes the test controls.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startServer, type RunningServer } from '../../src/cli/serve';
import { ServeClients, type ClientLimits } from '../../src/cli/serveClients';
import type { HostMessage } from '../../src/shared/protocol';
import { MICRO_A, MICRO_B, ROOT } from '../support/helpers';
import { connect, cookieOf, rawUpgrade, serverOrigin } from '../support/serveClient';

let server: RunningServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

function serve(clientLimits: Partial<ClientLimits>): Promise<RunningServer> {
  return startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir: mkdtempSync(join(tmpdir(), 'specdec-clients-')),
    rendererDir: join(ROOT, 'out', 'renderer'),
    embeddedPair: { target: MICRO_A, draft: MICRO_B },
    clientLimits,
  });
}

/** a client that finished the handshake and never reads again */
async function silentClient(s: RunningServer): Promise<void> {
  const { socket, status } = await rawUpgrade(s, {
    Origin: serverOrigin(s),
    Cookie: cookieOf(s),
  });
  expect(status).toContain('101');
  socket.pause();
}

const until = async (what: () => boolean, ms = 20_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('serve clients', () => {
  it('sends the reply to a request to its sender only', async () => {
    server = await serve({});
    const a = await connect(server);
    const b = await connect(server);
    a.send({ type: 'history-list', requestId: 'list-a' });
    await a.next((m) => m.type === 'history-list' && m.requestId === 'list-a');
    // b asks too, after a's reply: by then a's reply would have reached b as well
    b.send({ type: 'history-list', requestId: 'list-b' });
    await b.next((m) => m.type === 'history-list' && m.requestId === 'list-b');
    expect(b.all.some((m) => 'requestId' in m && m.requestId === 'list-a')).toBe(false);
    expect(a.all.some((m) => 'requestId' in m && m.requestId === 'list-b')).toBe(false);
    a.close();
    b.close();
  });

  it('closes a client that does not answer pings, and its slot is free again', async () => {
    server = await serve({ heartbeatMs: 150 });
    const s = server;
    for (let i = 0; i < 3; i++) await silentClient(s);
    const reader = await connect(s);
    expect(s.clientCount().connected).toBe(4);
    await until(() => s.clientCount().connected === 1);
    expect(s.clientCount().dropped).toBe(3);
    // the reader answered every ping and is still served
    reader.send({ type: 'history-list', requestId: 'still-here' });
    await reader.next((m) => m.type === 'history-list' && m.requestId === 'still-here');
    reader.close();
  });
});

/** A socket whose unread bytes the test sets: the kernel's buffers make a real one unpredictable. */
class FakeSocket extends EventEmitter {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  sent: string[] = [];
  terminated = false;
  send(text: string): void {
    this.sent.push(text);
  }
  ping(): void {}
  terminate(): void {
    this.terminated = true;
    this.readyState = WebSocket.CLOSED;
    this.emit('close');
  }
}

describe('ServeClients budget', () => {
  const ready = { type: 'ready' } as HostMessage;
  it('drops a client whose unread backlog would pass the budget, and keeps the others', () => {
    const lines: string[] = [];
    const clients = new ServeClients({ maxBacklogBytes: 1000, heartbeatMs: 60_000 }, (l) =>
      lines.push(l),
    );
    const slow = new FakeSocket();
    const fast = new FakeSocket();
    clients.add(slow as unknown as WebSocket);
    clients.add(fast as unknown as WebSocket);
    const big = { type: 'host-exit', message: 'x'.repeat(600) } as HostMessage;
    clients.broadcast(big);
    // nothing unread yet: a message over half the budget still goes out
    expect([slow.sent.length, fast.sent.length]).toEqual([1, 1]);
    slow.bufferedAmount = 700;
    clients.broadcast(big);
    expect(slow.terminated).toBe(true);
    expect(fast.sent.length).toBe(2);
    expect(clients.size).toBe(1);
    expect(clients.dropped).toBe(1);
    expect(lines[0]).toMatch(/700 bytes unread.*can reconnect/);
    clients.broadcast(ready);
    expect(slow.sent.length).toBe(1);
    clients.closeAll();
  });

  it('routes a reply to its requester only, and forgets the route when the requester leaves', () => {
    const clients = new ServeClients({ maxBacklogBytes: 1e6, heartbeatMs: 60_000 }, () => {});
    const a = new FakeSocket();
    const b = new FakeSocket();
    clients.add(a as unknown as WebSocket);
    clients.add(b as unknown as WebSocket);
    clients.routeReplies(a as unknown as WebSocket, { type: 'history-list', requestId: 'r1' });
    const reply = { type: 'history-list', requestId: 'r1', entries: [] } as unknown as HostMessage;
    clients.deliver(reply);
    expect([a.sent.length, b.sent.length]).toEqual([1, 0]);
    a.terminate();
    clients.deliver(reply);
    expect(b.sent.length).toBe(0);
    clients.deliver(ready);
    expect(b.sent.length).toBe(1);
    clients.closeAll();
  });
});
