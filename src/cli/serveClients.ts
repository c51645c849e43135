/**
 * The WebSocket clients of `serve` and what each may cost the server. A client that stops reading
 * (a laptop asleep behind an ssh tunnel) must not make the server buffer without bound: each has
 * a send budget, a heartbeat, and receives the replies to its own requests only.
 */
import { WebSocket } from 'ws';
import type { HostMessage, HostRequest } from '../shared/protocol';

export interface ClientLimits {
  /** bytes queued to one client beyond which it is dropped (it may reconnect and catch up) */
  maxBacklogBytes: number;
  /** a ping this often; a client that has not answered the previous one is closed */
  heartbeatMs: number;
}

export const DEFAULT_CLIENT_LIMITS: ClientLimits = {
  maxBacklogBytes: 8 * 1024 * 1024,
  heartbeatMs: 30_000,
};

/**
 * Replies that answer one request: they go to the client that sent it. Everything else (the
 * sweep's stream, downloads, the engine's state) goes to every client, so a second tab sees the
 * running sweep.
 */
const REPLIES = new Set<HostMessage['type']>([
  'history-list',
  'history-entry',
  'history-run',
  'probe-result',
  'sweep-attach',
]);

/** requests remembered for routing their replies; the oldest are forgotten beyond this */
const MAX_ROUTES = 4096;

export class ServeClients {
  private readonly clients = new Map<WebSocket, { alive: boolean }>();
  private readonly routes = new Map<string, WebSocket>();
  private readonly heartbeat: NodeJS.Timeout;
  /** clients dropped for a full backlog or a missed heartbeat, for the log and the tests */
  dropped = 0;

  constructor(
    private readonly limits: ClientLimits,
    private readonly log: (line: string) => void,
  ) {
    this.heartbeat = setInterval(() => this.beat(), limits.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  add(ws: WebSocket): void {
    const state = { alive: true };
    this.clients.set(ws, state);
    ws.on('pong', () => (state.alive = true));
    ws.on('close', () => this.forget(ws));
  }

  /** a request from ws is on its way to the engine: its reply comes back to ws */
  routeReplies(ws: WebSocket, request: HostRequest): void {
    this.routes.delete(request.requestId);
    this.routes.set(request.requestId, ws);
    if (this.routes.size > MAX_ROUTES) this.routes.delete(this.routes.keys().next().value!);
  }

  /** an engine message: to its requester if it is a reply (or an error about a request), else to all */
  deliver(m: HostMessage): void {
    const requestId = 'requestId' in m ? m.requestId : null;
    const owner = requestId === null ? undefined : this.routes.get(requestId);
    if (REPLIES.has(m.type) || (m.type === 'error' && requestId !== null)) {
      if (owner) this.send(owner, m);
      else if (m.type === 'error') this.broadcast(m); // a request from before a restart
      return;
    }
    this.broadcast(m);
  }

  broadcast(m: HostMessage): void {
    const text = JSON.stringify(m);
    for (const ws of this.clients.keys()) this.sendText(ws, text);
  }

  send(ws: WebSocket, m: HostMessage): void {
    this.sendText(ws, JSON.stringify(m));
  }

  closeAll(): void {
    clearInterval(this.heartbeat);
    for (const ws of this.clients.keys()) ws.terminate();
  }

  private sendText(ws: WebSocket, text: string): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    // A message larger than the budget still goes to a client that has read everything so far.
    if (ws.bufferedAmount > 0 && ws.bufferedAmount + text.length > this.limits.maxBacklogBytes) {
      this.drop(ws, `it had ${ws.bufferedAmount} bytes unread`);
      return;
    }
    ws.send(text);
  }

  private beat(): void {
    for (const [ws, state] of this.clients) {
      if (!state.alive) {
        this.drop(ws, 'it did not answer a ping');
        continue;
      }
      state.alive = false;
      try {
        ws.ping();
      } catch {
        this.drop(ws, 'its connection failed');
      }
    }
  }

  private drop(ws: WebSocket, why: string): void {
    this.dropped += 1;
    this.log(`serve: closed a client: ${why} (it can reconnect)`);
    this.forget(ws);
    ws.terminate();
  }

  private forget(ws: WebSocket): void {
    this.clients.delete(ws);
    for (const [id, owner] of this.routes) if (owner === ws) this.routes.delete(id);
  }
}
