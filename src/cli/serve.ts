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
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import type { HostOptions } from '../core/host/engineHost';
import { SpecDecError } from '../core/errors';
import { CONTENT_SECURITY_POLICY } from '../shared/csp';
import type { HostMessage } from '../shared/protocol';

export interface ServeOptions extends HostOptions {
  port: number;
  host: string;
  /** the built renderer (out/renderer) */
  rendererDir: string;
  token?: string;
}

export interface RunningServer {
  url: string;
  token: string;
  close(): Promise<void>;
  /** kill the engine host as a crash would (SIGKILL); a fresh host starts at once */
  killHost(): Promise<void>;
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

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const rendererDir = resolve(options.rendererDir);
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new Error(`No built renderer in ${rendererDir}. Run \`npm run build\` first.`);
  }
  const token = options.token ?? randomBytes(24).toString('hex');
  const clients = new Set<WebSocket>();
  const broadcast = (m: HostMessage): void => {
    const text = JSON.stringify(m);
    for (const ws of clients) ws.send(text);
  };

  // The engine host: restarted whenever it dies, with the reason told to every client.
  let host: ChildProcess;
  let lastReady: HostMessage | null = null;
  let closing = false;
  const spawn = (): void => {
    const hostOptions: HostOptions = {
      dataDir: options.dataDir,
      embeddedPair: options.embeddedPair,
      ...(options.hubHost ? { hubHost: options.hubHost } : {}),
    };
    const child = fork(fileURLToPath(new URL('./hostProcess.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, SPECDEC_HOST_OPTIONS: JSON.stringify(hostOptions) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (m: HostMessage) => {
      if (m.type === 'ready') lastReady = m;
      broadcast(m);
    });
    child.on('exit', (code, signal) => {
      if (closing) return;
      const how = signal ? `it was stopped by ${signal}` : `it exited with code ${code}`;
      broadcast({
        type: 'host-exit',
        message: `The engine process ended: ${how} (a crash, out of memory, or killed).`,
      });
      spawn();
    });
    host = child;
  };

  const deny = (res: ServerResponse, status: number, text: string): void => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const given = url.searchParams.get('token');
    if (given !== null) {
      if (!sameToken(given, token)) return deny(res, 403, 'Wrong access token.\n');
      url.searchParams.delete('token');
      res.writeHead(302, {
        'set-cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        location: url.pathname + url.search,
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
    const rel = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '');
    const file = resolve(rendererDir, rel === '' ? 'index.html' : rel);
    if (!file.startsWith(rendererDir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      return deny(res, 404, 'Not found.\n');
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'x-content-type-options': 'nosniff',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  server.on('upgrade', (req, socket, head) => {
    const origin = req.headers.origin;
    const ownOrigin = `http://${req.headers.host}`;
    if (
      new URL(req.url ?? '/', 'http://x').pathname !== '/ws' ||
      !sameToken(cookieToken(req), token) ||
      origin !== ownOrigin
    ) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('message', (data) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(String(data));
        } catch {
          ws.send(
            JSON.stringify({
              type: 'error',
              requestId: null,
              code: 'BAD_REQUEST',
              message: 'Messages must be JSON.',
            }),
          );
          return;
        }
        // The host validates every request against the protocol schema.
        host.send(parsed as object);
      });
      if (lastReady) ws.send(JSON.stringify(lastReady));
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
  spawn();
  const { port } = server.address() as AddressInfo;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${hostForUrl}:${port}/?token=${token}`,
    token,
    async killHost() {
      const dead = new Promise((ok) => host.once('exit', ok));
      host.kill('SIGKILL');
      await dead;
    },
    async close() {
      closing = true;
      for (const ws of clients) ws.terminate();
      wss.close();
      const dead = new Promise((ok) => host.once('exit', ok));
      host.kill();
      await dead;
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
