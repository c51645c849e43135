/**
 * `specdec serve`: the renderer in any browser, with the engine host in a child process behind a
 * WebSocket bridge. The way to drive a remote GPU machine from a laptop: run it there, tunnel the
 * port (ssh -L), open the printed URL.
 *
 * Every request needs the random access token (the printed URL carries it once; the server then
 * sets an HttpOnly, SameSite=Strict cookie). WebSocket upgrades must come from the page's own
 * origin.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { HostOptions } from '../lab/host/engineHost';
import { DEFAULT_CLIENT_LIMITS, ServeClients, type ClientLimits } from './serveClients';
import {
  BUSY_MESSAGE,
  DEFAULT_QUEUE_LIMITS,
  EngineQueue,
  type EngineQueueLimits,
} from './engineQueue';
import { RestartPolicy } from '../lab/host/restartPolicy';
import { hostProcessLauncher, probeLauncher } from './childScripts';
import { SpecDecError, describeError } from '../core/errors';
import { CONTENT_SECURITY_POLICY } from '../shared/csp';
import {
  MAX_REQUEST_BYTES,
  parseRequestText,
  type HostMessage,
  type HostRequest,
} from '../shared/protocol';

export interface ServeOptions extends HostOptions {
  port: number;
  host: string;
  /** the built renderer (out/renderer) */
  rendererDir: string;
  token?: string;
  /** per-client send budget and heartbeat (DEFAULT_CLIENT_LIMITS) */
  clientLimits?: Partial<ClientLimits>;
  /** how many quick requests (history, attach, probe) the engine takes, and in what turns */
  queueLimits?: Partial<EngineQueueLimits>;
}

export interface RunningServer {
  url: string;
  token: string;
  close(): Promise<void>;
  /** kill the engine host as a crash would (SIGKILL); a fresh host starts at once */
  killHost(): Promise<void>;
  /** the engine host's process id, null while none runs */
  hostPid(): number | null;
  /** clients connected now, and dropped so far for a full backlog or a missed ping */
  clientCount(): { connected: number; dropped: number };
  /** quick requests accepted now (waiting or in the engine), and refused busy so far */
  queueCount(): { accepted: number; refused: number };
}

const COOKIE = 'specdec_token';
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

function sameToken(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieToken(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return v.join('=');
  }
  return undefined;
}

/** WebSocket clients at once; more are refused (503) before any work. */
const MAX_CLIENTS = 16;
/** messages a client may send: a burst of MESSAGE_BURST, refilled at MESSAGES_PER_S */
const MESSAGE_BURST = 200;
const MESSAGES_PER_S = 50;
/** how long a closing serve waits for the engine host to end on SIGTERM before SIGKILL */
const HOST_KILL_GRACE_MS = 3000;
/** the engine's last stderr kept to explain why it cannot start */
const STDERR_TAIL = 2000;

/** The Host header values this server answers to: its own address, and loopback names if local. */
function allowedHosts(listenHost: string, port: number): Set<string> {
  const names = new Set<string>([listenHost]);
  const loopback = ['127.0.0.1', 'localhost', '::1'];
  if (loopback.includes(listenHost)) loopback.forEach((n) => names.add(n));
  if (listenHost === '0.0.0.0' || listenHost === '::') {
    // listening everywhere: every address of this machine, and its name
    names.add(hostname());
    loopback.forEach((n) => names.add(n));
    for (const list of Object.values(networkInterfaces()))
      for (const a of list ?? []) names.add(a.address);
  }
  return new Set([...names].map((n) => (n.includes(':') ? `[${n}]:${port}` : `${n}:${port}`)));
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const rendererDir = resolve(options.rendererDir);
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new Error(`No built renderer in ${rendererDir}. Run \`npm run build\` first.`);
  }
  const realRendererDir = realpathSync(rendererDir);
  const token = options.token ?? randomBytes(24).toString('hex');
  const clients = new ServeClients({ ...DEFAULT_CLIENT_LIMITS, ...options.clientLimits }, (line) =>
    process.stderr.write(line + '\n'),
  );
  const sendTo = (ws: WebSocket, m: HostMessage): void => clients.send(ws, m);
  const broadcast = (m: HostMessage): void => clients.broadcast(m);

  // The engine host: restarted when it dies (with backoff if it keeps dying at start-up), with
  // the reason told to every client.
  let host: ChildProcess | null = null;
  let lastReady: HostMessage | null = null;
  let closing = false;
  let stderrTail = '';
  let restartTimer: NodeJS.Timeout | null = null;
  const restarts = new RestartPolicy();
  const spawn = (): void => {
    restartTimer = null;
    const probe = options.probeLauncher ?? probeLauncher();
    const hostOptions: HostOptions = {
      dataDir: options.dataDir,
      embeddedPair: options.embeddedPair,
      remoteClients: true,
      ...(options.hubHost ? { hubHost: options.hubHost } : {}),
      ...(probe ? { probeLauncher: probe } : {}),
    };
    const launcher = hostProcessLauncher();
    const child = fork(launcher.script, [], {
      execArgv: launcher.execArgv,
      env: { ...process.env, SPECDEC_HOST_OPTIONS: JSON.stringify(hostOptions) },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL);
    });
    // a send racing the child's death (EPIPE) is answered by the exit handler below
    child.on('error', () => {});
    child.on('message', (m: HostMessage) => {
      if (m.type === 'ready') {
        lastReady = m;
        restarts.ready();
      }
      clients.deliver(m);
      queue.onHostMessage(m);
    });
    child.on('exit', (code, signal) => {
      if (host === child) host = null;
      queue.hostGone();
      if (closing) return;
      const how = signal ? `it was stopped by ${signal}` : `it exited with code ${code}`;
      const delay = restarts.exited();
      if (delay === null) {
        const last = stderrTail.trim().split('\n').filter(Boolean).slice(-1)[0] ?? how;
        broadcast({
          type: 'host-exit',
          message: `The engine cannot start: ${last}. Fix that, then send a request again (or restart serve).`,
        });
        return;
      }
      broadcast({
        type: 'host-exit',
        message: `The engine process ended: ${how} (a crash, out of memory, or killed).`,
      });
      restartTimer = setTimeout(spawn, delay);
    });
    host = child;
  };
  /** a request to the engine now; false when none runs (the client is told, one is started) */
  const sendToHost = (ws: WebSocket, request: HostRequest): boolean => {
    if (!host?.connected) {
      sendTo(ws, {
        type: 'error',
        requestId: request.requestId,
        code: 'INTERNAL',
        message: 'The engine is restarting; send the request again in a moment.',
      });
      if (!host && !restartTimer && !closing) {
        restarts.reset();
        spawn();
      }
      return false;
    }
    clients.routeReplies(ws, request);
    host.send(request);
    return true;
  };
  // quick requests take turns within bounds; sweeps, live runs and downloads go at once (the
  // engine runs one at a time and refuses the rest)
  const queue = new EngineQueue(
    { ...DEFAULT_QUEUE_LIMITS, ...options.queueLimits },
    sendToHost,
    (ws, request) =>
      sendTo(ws, {
        type: 'error',
        requestId: request.requestId,
        code: 'BUSY',
        message: BUSY_MESSAGE,
      }),
  );
  const toHost = (ws: WebSocket, request: HostRequest): void => {
    if (EngineQueue.takes(request)) queue.submit(ws, request);
    else sendToHost(ws, request);
  };

  const deny = (res: ServerResponse, status: number, text: string): void => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
  };
  let hosts = new Set<string>();

  const serveRequest = (req: IncomingMessage, res: ServerResponse): void => {
    // another name for this address (DNS rebinding) is another site: refuse it
    if (!hosts.has(req.headers.host ?? '')) return deny(res, 421, 'Unknown Host header.\n');
    let url: URL;
    let pathname: string;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
      pathname = decodeURIComponent(url.pathname);
    } catch {
      return deny(res, 400, 'Malformed URL.\n');
    }
    const given = url.searchParams.get('token');
    if (given !== null) {
      if (!sameToken(given, token)) return deny(res, 403, 'Wrong access token.\n');
      url.searchParams.delete('token');
      // always a path on this server: "//evil.example" or "/\\evil.example" would leave it
      const location = '/' + url.pathname.replace(/^[/\\]+/, '') + url.search;
      res.writeHead(302, {
        'set-cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        location,
      });
      return void res.end();
    }
    const cookie = cookieToken(req);
    if (cookie === undefined)
      return deny(
        res,
        401,
        'Open the URL that `specdec serve` printed (it carries the access token).\n',
      );
    if (!sameToken(cookie, token)) return deny(res, 403, 'Wrong access token.\n');
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return deny(res, 405, 'Method not allowed.\n');
    const file = staticFile(pathname);
    if (!file) return deny(res, 404, 'Not found.\n');
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'x-content-type-options': 'nosniff',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
  };

  /** a regular file inside the renderer folder, symlinks resolved, or null */
  const staticFile = (pathname: string): string | null => {
    const rel = normalize(pathname).replace(/^([/\\])+/, '');
    const file = resolve(rendererDir, rel === '' ? 'index.html' : rel);
    try {
      const real = realpathSync(file);
      return real.startsWith(realRendererDir + sep) && statSync(real).isFile() ? real : null;
    } catch {
      return null;
    }
  };

  const server = createServer((req, res) => {
    try {
      serveRequest(req, res);
    } catch (err) {
      process.stderr.write(`serve: ${describeError(err)}\n`);
      if (!res.headersSent) deny(res, 500, 'Internal error.\n');
      else res.destroy();
    }
  });
  // a malformed request or a reset before the request was read: close that socket, nothing else
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroy();
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_REQUEST_BYTES });
  /** refuse an upgrade: the socket is ours until closed, so its errors (a reset) are too */
  const refuse = (socket: Duplex, status: string): void => {
    socket.on('error', () => socket.destroy());
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    socket.destroy();
  };
  server.on('upgrade', (req, socket, head) => {
    const origin = req.headers.origin ?? '';
    const host = req.headers.host ?? '';
    let path: string | null = null;
    try {
      path = new URL(req.url ?? '/', 'http://x').pathname;
    } catch {
      // a malformed URL: refused below
    }
    if (
      path !== '/ws' ||
      !hosts.has(host) ||
      origin !== `http://${host}` ||
      !sameToken(cookieToken(req), token)
    ) {
      return refuse(socket, '403 Forbidden');
    }
    if (clients.size >= MAX_CLIENTS) return refuse(socket, '503 Service Unavailable');
    socket.on('error', () => socket.destroy());
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => queue.forget(ws));
      // protocol errors (a frame over the limit, invalid UTF-8, bad opcodes): drop that client
      ws.on('error', () => ws.terminate());
      let allowance = MESSAGE_BURST;
      let last = performance.now();
      ws.on('message', (data, isBinary) => {
        const now = performance.now();
        allowance = Math.min(MESSAGE_BURST, allowance + ((now - last) / 1000) * MESSAGES_PER_S);
        last = now;
        if (--allowance < 0) {
          ws.close(1008, 'too many messages');
          return;
        }
        const reply = (message: string, requestId: string | null = null): void =>
          sendTo(ws, { type: 'error', requestId, code: 'BAD_REQUEST', message });
        if (isBinary) return reply('Messages must be JSON text.');
        const parsed = parseRequestText(String(data));
        if (!parsed.ok) return reply(parsed.message, parsed.requestId);
        toHost(ws, parsed.request);
      });
      if (lastReady) sendTo(ws, lastReady);
    });
  });

  // Listen first: a busy port must fail before an engine process exists to keep us alive.
  await new Promise<void>((ok, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      fail(
        err.code === 'EADDRINUSE'
          ? new SpecDecError(
              'BAD_ARGUMENT',
              `Port ${options.port} on ${options.host} is already in use (another \`specdec serve\`, or another program). Choose another with --port N, or --port 0 for any free one.`,
            )
          : err,
      ),
    );
    server.listen(options.port, options.host, () => ok());
  });
  server.on('error', (err) => process.stderr.write(`serve: ${describeError(err)}\n`));
  const { port } = server.address() as AddressInfo;
  hosts = allowedHosts(options.host, port);
  spawn();
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${hostForUrl}:${port}/?token=${token}`,
    token,
    async killHost() {
      if (!host) return;
      const dead = new Promise((ok) => host!.once('exit', ok));
      host.kill('SIGKILL');
      await dead;
    },
    hostPid: () => host?.pid ?? null,
    clientCount: () => ({ connected: clients.size, dropped: clients.dropped }),
    queueCount: () => ({ accepted: queue.accepted, refused: queue.refused }),
    async close() {
      closing = true;
      if (restartTimer) clearTimeout(restartTimer);
      clients.closeAll();
      queue.close();
      wss.close();
      if (host) {
        const child = host;
        const dead = new Promise((ok) => child.once('exit', ok));
        child.kill('SIGTERM');
        // an engine stuck in a long native call may not end on SIGTERM: it never outlives serve
        const stuck = setTimeout(() => child.kill('SIGKILL'), HOST_KILL_GRACE_MS);
        await dead;
        clearTimeout(stuck);
      }
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
