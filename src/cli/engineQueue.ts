/**
 * The quick requests serve passes to the engine (history, attach, probe), bounded and taken in
 * turn: a client that floods the engine with saved-run replays gets "busy, retry" beyond a few,
 * and another client's request is answered after one of its turns, not after all of them.
 */
import type { WebSocket } from 'ws';
import type { HostMessage, HostRequest } from '../shared/protocol';

export interface EngineQueueLimits {
  /** requests one client may have accepted (waiting here or in the engine); more are refused */
  perClient: number;
  /** requests all clients together may have accepted */
  total: number;
  /** requests handed to the engine at once; the rest wait here, one client's turn after another */
  inEngine: number;
  /** a request that waited this long without its turn is refused: it cannot be served soon */
  maxWaitMs: number;
  /** a client with more bytes unread than this gets no turn until it has read them */
  maxUnreadBytes: number;
  /** a request whose reply has not come after this long stops counting (a lost reply) */
  replyTimeoutMs: number;
}

export const DEFAULT_QUEUE_LIMITS: EngineQueueLimits = {
  perClient: 4,
  total: 32,
  inEngine: 2,
  maxWaitMs: 10_000,
  maxUnreadBytes: 1024 * 1024,
  replyTimeoutMs: 120_000,
};

/** the requests this queue takes; sweeps, live runs and downloads hold the model slot instead */
const QUICK = new Set<HostRequest['type']>([
  'history-list',
  'history-get',
  'history-run',
  'history-rename',
  'history-delete',
  'attach',
  'probe',
]);
/** counted against the bounds but handed over at once: one model job at a time in the engine */
const UNPACED = new Set<HostRequest['type']>(['probe']);

export const BUSY_MESSAGE =
  'The engine is busy with earlier requests: send this again in a moment.';

/** the request a message ends (its last reply, or an error about it), or null */
function finishedRequest(m: HostMessage): string | null {
  switch (m.type) {
    case 'history-list':
    case 'history-entry':
    case 'sweep-attach':
    case 'probe-result':
    case 'error':
      return m.requestId;
    case 'history-run':
      return m.part === m.parts - 1 ? m.requestId : null;
    default:
      return null;
  }
}

interface Waiting {
  request: HostRequest;
  since: number;
}

interface ClientWork {
  waiting: Waiting[];
  /** requests of this client handed to the engine, not yet answered */
  inEngine: number;
}

interface Handed {
  ws: WebSocket;
  paced: boolean;
  since: number;
}

export class EngineQueue {
  /** clients with accepted work */
  private readonly clients = new Map<WebSocket, ClientWork>();
  /** when each client last had a turn (a count): the one that waited longest for one goes next */
  private readonly lastTurn = new WeakMap<WebSocket, number>();
  private turns = 0;
  private readonly handed = new Map<string, Handed>();
  private waitingCount = 0;
  private pacedInEngine = 0;
  private readonly timer: NodeJS.Timeout;
  /** requests refused busy so far, for the log and the tests */
  refused = 0;

  constructor(
    private readonly limits: EngineQueueLimits,
    /** hand a request to the engine; false when it could not (the caller has answered it) */
    private readonly dispatch: (ws: WebSocket, request: HostRequest) => boolean,
    private readonly refuse: (ws: WebSocket, request: HostRequest) => void,
  ) {
    // a waiting client may read its backlog, or a request wait too long, with nothing else happening
    this.timer = setInterval(() => this.pump(), 50);
    this.timer.unref();
  }

  static takes(request: HostRequest): boolean {
    return QUICK.has(request.type);
  }

  /** accepted requests now: waiting here and in the engine */
  get accepted(): number {
    return this.waitingCount + this.handed.size;
  }

  /** a quick request from ws: queued for its turn, or refused busy at once */
  submit(ws: WebSocket, request: HostRequest): void {
    this.expire(performance.now());
    const work = this.clients.get(ws) ?? { waiting: [], inEngine: 0 };
    if (
      work.waiting.length + work.inEngine >= this.limits.perClient ||
      this.accepted >= this.limits.total ||
      this.handed.has(request.requestId)
    ) {
      this.refused += 1;
      this.refuse(ws, request);
      return;
    }
    this.clients.set(ws, work);
    work.waiting.push({ request, since: performance.now() });
    this.waitingCount += 1;
    this.pump();
  }

  /** every engine message passes here: a final reply frees its request's place */
  onHostMessage(m: HostMessage): void {
    const requestId = finishedRequest(m);
    if (requestId === null) return;
    const handed = this.handed.get(requestId);
    if (!handed) return;
    this.finish(requestId, handed);
    this.pump();
  }

  /** the engine died: nothing it held will be answered (the clients are told it ended) */
  hostGone(): void {
    for (const [requestId, handed] of this.handed) this.finish(requestId, handed);
  }

  /** a client left: what it still waits for is dropped; what the engine holds finishes there */
  forget(ws: WebSocket): void {
    const work = this.clients.get(ws);
    if (!work) return;
    this.waitingCount -= work.waiting.length;
    work.waiting = [];
    if (work.inEngine === 0) this.clients.delete(ws);
    this.pump();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** hand requests to the engine while it has room, one client's turn after another's */
  private pump(): void {
    const now = performance.now();
    this.expire(now);
    this.refuseStale(now);
    for (;;) {
      const next = this.nextTurn();
      if (!next) return;
      const [ws, work] = next;
      const { request } = work.waiting.shift()!;
      this.waitingCount -= 1;
      this.lastTurn.set(ws, ++this.turns);
      // a request id already in the engine: its replies could not be told apart
      if (this.handed.has(request.requestId)) {
        this.refused += 1;
        this.refuse(ws, request);
        if (work.inEngine === 0 && work.waiting.length === 0) this.clients.delete(ws);
        continue;
      }
      const paced = !UNPACED.has(request.type);
      this.handed.set(request.requestId, { ws, paced, since: now });
      work.inEngine += 1;
      if (paced) this.pacedInEngine += 1;
      if (!this.dispatch(ws, request))
        this.finish(request.requestId, this.handed.get(request.requestId)!);
    }
  }

  /** of the clients whose next request may go now, the one whose last turn is oldest */
  private nextTurn(): [WebSocket, ClientWork] | null {
    let best: [WebSocket, ClientWork] | null = null;
    let bestTurn = Infinity;
    for (const entry of this.clients) {
      const [ws, work] = entry;
      const head = work.waiting[0];
      if (!head) continue;
      if (ws.bufferedAmount > this.limits.maxUnreadBytes) continue;
      if (!UNPACED.has(head.request.type) && this.pacedInEngine >= this.limits.inEngine) continue;
      const turn = this.lastTurn.get(ws) ?? 0;
      if (turn < bestTurn) [best, bestTurn] = [entry, turn];
    }
    return best;
  }

  private finish(requestId: string, handed: Handed): void {
    this.handed.delete(requestId);
    if (handed.paced) this.pacedInEngine -= 1;
    const work = this.clients.get(handed.ws);
    if (!work) return;
    work.inEngine -= 1;
    if (work.inEngine === 0 && work.waiting.length === 0) this.clients.delete(handed.ws);
  }

  /** requests that waited past maxWaitMs are refused busy */
  private refuseStale(now: number): void {
    for (const [ws, work] of this.clients) {
      while (work.waiting[0] && now - work.waiting[0].since > this.limits.maxWaitMs) {
        const { request } = work.waiting.shift()!;
        this.waitingCount -= 1;
        this.refused += 1;
        this.refuse(ws, request);
      }
      if (work.inEngine === 0 && work.waiting.length === 0) this.clients.delete(ws);
    }
  }

  /** a reply that never came stops holding a place */
  private expire(now: number): void {
    for (const [requestId, handed] of this.handed)
      if (now - handed.since > this.limits.replyTimeoutMs) this.finish(requestId, handed);
  }
}
