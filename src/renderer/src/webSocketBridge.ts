/**
 * The serve mode's bridge: requests go out as JSON text over a WebSocket to the page's own host
 * (the server authenticated this browser with a cookie when the page was opened with its token).
 * Every incoming message is validated against the protocol; a closed socket is reopened with
 * exponential backoff, and requests made meanwhile wait in a queue.
 */
import type { HostMessage, HostRequest } from '../../shared/protocol';
import type { Connection, StudioBridge } from './bridge';
import { parseHostMessage } from './lib/hostMessage';
import { downloadText } from './lib/download';

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;
/** requests kept while disconnected; older ones are dropped past this */
const MAX_QUEUE = 100;

export class WebSocketBridge implements StudioBridge {
  readonly kind = 'browser' as const;
  private socket: WebSocket | null = null;
  private readonly listeners = new Set<(message: HostMessage) => void>();
  private readonly connectionListeners = new Set<(connection: Connection) => void>();
  private connection: Connection = { state: 'connecting', retryInMs: null };
  private queue: string[] = [];
  private attempts = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly url: string) {
    this.connect();
  }

  send(request: HostRequest): void {
    const text = JSON.stringify(request);
    if (this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(text);
      return;
    }
    this.queue.push(text);
    if (this.queue.length > MAX_QUEUE) this.queue.shift();
  }

  onMessage(listener: (message: HostMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onConnection(listener: (connection: Connection) => void): () => void {
    this.connectionListeners.add(listener);
    listener(this.connection);
    return () => this.connectionListeners.delete(listener);
  }

  /** A browser cannot open the server's folders: the UI asks for a typed path instead. */
  async chooseModelFolder(): Promise<string | null> {
    return null;
  }

  async saveText(suggestedName: string, text: string): Promise<boolean> {
    downloadText(suggestedName, text);
    return true;
  }

  private setConnection(connection: Connection): void {
    this.connection = connection;
    for (const listener of this.connectionListeners) listener(connection);
  }

  private connect(): void {
    this.retryTimer = null;
    this.setConnection({ state: 'connecting', retryInMs: null });
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url);
    } catch (err) {
      console.warn('WebSocket could not be opened', err);
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.attempts = 0;
      this.setConnection({ state: 'open', retryInMs: null });
      const pending = this.queue;
      this.queue = [];
      for (const text of pending) socket.send(text);
    });
    socket.addEventListener('message', (event: MessageEvent<unknown>) => this.receive(event.data));
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.scheduleRetry();
    });
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== null) return;
    const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.attempts);
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempts++;
    this.setConnection({ state: 'closed', retryInMs: delay });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string') {
      console.warn('Dropped a non-text message from the server');
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      console.warn('Dropped a message that is not JSON:', data.slice(0, 200));
      return;
    }
    const message = parseHostMessage(json);
    if (!message) return;
    for (const listener of this.listeners) listener(message);
  }
}
