/**
 * `serve` against what a network, a browser and a disk throw at it, on loopback: every crash
 * seen in a real probe as a regression test, then a fuzz pass of random and mutated frames and
 * messages. After each, the server must still answer and the engine still run a sweep.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  cpSync,
  writeFileSync,
} from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/cli/serve';
import { seededRandom } from '../../src/core/decoding/sampling';
import { HostRequest, type HostMessage } from '../../src/shared/protocol';
import { MICRO_A, MICRO_B, ROOT } from '../support/helpers';
import {
  connect,
  cookieOf,
  rawUpgrade,
  liveSettings,
  pairOf,
  rawGet,
  serverOrigin,
  sweepSettings,
  type Client,
} from '../support/serveClient';

const RENDERER = join(ROOT, 'out', 'renderer');

function serve(over: { dataDir?: string; rendererDir?: string } = {}): Promise<RunningServer> {
  return startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir: over.dataDir ?? mkdtempSync(join(tmpdir(), 'specdec-faults-')),
    rendererDir: over.rendererDir ?? RENDERER,
    embeddedPair: { target: MICRO_A, draft: MICRO_B },
  });
}

/** The server answers HTTP and its engine runs a (small) sweep. */
async function assertAlive(server: RunningServer): Promise<void> {
  expect((await rawGet(server, '/')).status).toBe(200);
  const c = await connect(server);
  const id = `alive-${randomBytes(4).toString('hex')}`;
  c.send({ type: 'sweep', requestId: id, settings: sweepSettings({ ks: [2], maxNewTokens: 8 }) });
  const done = await c.next(
    (m) => (m.type === 'sweep-done' || m.type === 'error') && m.requestId === id,
  );
  expect(done.type, JSON.stringify(done)).toBe('sweep-done');
  c.close();
}

const goodHeaders = (server: RunningServer): Record<string, string> => ({
  Origin: serverOrigin(server),
  Cookie: cookieOf(server),
});

/** One WebSocket frame as a client sends it, with every field under the test's control. */
function frame(
  opcode: number,
  payload: Buffer,
  { mask = true, rsv = 0, fin = true }: { mask?: boolean; rsv?: number; fin?: boolean } = {},
): Buffer {
  const len = payload.length;
  const head = [((fin ? 1 : 0) << 7) | (rsv << 4) | opcode];
  const ext: number[] = [];
  if (len < 126) head.push(((mask ? 1 : 0) << 7) | len);
  else if (len < 65536) {
    head.push(((mask ? 1 : 0) << 7) | 126);
    ext.push(len >> 8, len & 255);
  } else {
    head.push(((mask ? 1 : 0) << 7) | 127);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(len));
    ext.push(...b);
  }
  const key = mask ? randomBytes(4) : Buffer.alloc(0);
  const body = Buffer.from(payload);
  if (mask) for (let i = 0; i < body.length; i++) body[i]! ^= key[i % 4]!;
  return Buffer.concat([Buffer.from(head), Buffer.from(ext), key, body]);
}

const closed = (socket: Socket): Promise<void> =>
  new Promise((ok) => (socket.destroyed ? ok() : socket.once('close', () => ok())));

describe('serve survives hostile clients', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serve();
  });
  afterAll(() => server.close());

  it('a refused upgrade followed by a TCP reset (x50), and a foreign page opening 200 sockets', async () => {
    for (let i = 0; i < 50; i++) {
      const { socket, status } = await rawUpgrade(server, { Origin: 'http://localhost:8088' });
      expect(status).toBe('HTTP/1.1 403 Forbidden');
      socket.resetAndDestroy();
    }
    // a foreign page: 200 sockets with its own origin and no cookie, then the tab closes
    const sockets = await Promise.all(
      Array.from({ length: 200 }, () =>
        rawUpgrade(server, { Origin: 'http://localhost:8088' }).catch(() => null),
      ),
    );
    for (const s of sockets) s?.socket.resetAndDestroy();
    await assertAlive(server);
  });

  it('WebSocket protocol errors drop that client only', async () => {
    const violations: Array<[string, Buffer]> = [
      ['a message over 1 MiB', frame(1, Buffer.alloc((1 << 20) + 10, 0x20))],
      ['invalid UTF-8', frame(1, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))],
      ['an unmasked frame', frame(1, Buffer.from('{}'), { mask: false })],
      ['RSV bits set', frame(1, Buffer.from('{}'), { rsv: 7 })],
      ['a reserved opcode', frame(3, Buffer.from('{}'))],
      ['a fragmented control frame', frame(9, Buffer.from('x'), { fin: false })],
      ['a truncated frame, then a reset', frame(1, Buffer.from('{"type":')).subarray(0, 5)],
    ];
    for (const [name, bytes] of violations) {
      const { socket, status } = await rawUpgrade(server, goodHeaders(server));
      expect(status, name).toBe('HTTP/1.1 101 Switching Protocols');
      socket.write(bytes);
      if (name.includes('reset')) socket.resetAndDestroy();
      else await closed(socket);
    }
    await assertAlive(server);
  });

  it('deep JSON, wrong shapes and non-JSON get a clear error and the connection stays', async () => {
    const c = await connect(server);
    const deep = '['.repeat(300_000) + ']'.repeat(300_000);
    c.ws.send(deep);
    const err = await c.next((m) => m.type === 'error' && /nested deeper/.test(m.message));
    expect(err).toMatchObject({ code: 'BAD_REQUEST' });
    c.ws.send('not json');
    await c.next((m) => m.type === 'error' && m.message === 'Messages must be JSON.');
    c.ws.send(JSON.stringify({ type: 'sweep', requestId: 'x', settings: { ks: 'all' } }));
    await c.next((m) => m.type === 'error' && /^Malformed request at settings/.test(m.message));
    c.ws.send(Buffer.from('{}'), { binary: true });
    await c.next((m) => m.type === 'error' && /JSON text/.test(m.message));
    c.close();
    await assertAlive(server);
  });

  it('malformed URLs answer 400; redirects stay on this server', async () => {
    expect((await rawGet(server, '/%')).status).toBe(400);
    expect((await rawGet(server, '/%E0%A4%A')).status).toBe(400);
    for (const path of ['/.//evil.example/', '//evil.example/', '/\\evil.example/']) {
      const r = await rawGet(server, `${path}?token=${server.token}`);
      expect(r.status).toBe(302);
      // a path on this server: one slash, never "//host" or "/\\host"
      expect(String(r.headers.location)).toMatch(/^\/(?![/\\])/);
    }
  });

  it('another Host name (DNS rebinding) is refused for pages and sockets', async () => {
    const port = new URL(server.url).port;
    expect((await rawGet(server, '/', { host: `evil.example:${port}` })).status).toBe(421);
    const { socket, status } = await rawUpgrade(server, {
      ...goodHeaders(server),
      Origin: `http://evil.example:${port}`,
    });
    expect(status).toBe('HTTP/1.1 403 Forbidden');
    socket.destroy();
  });

  it('limits connections per server and messages per connection', async () => {
    const clients: Client[] = [];
    for (let i = 0; i < 16; i++) clients.push(await connect(server));
    const { socket, status } = await rawUpgrade(server, goodHeaders(server));
    expect(status).toBe('HTTP/1.1 503 Service Unavailable');
    socket.destroy();
    clients.slice(1).forEach((c) => c.close());
    const flood = clients[0]!;
    const code = new Promise<number>((ok) => flood.ws.once('close', (c) => ok(c)));
    for (let i = 0; i < 400; i++) flood.send({ type: 'history-list', requestId: `f${i}` });
    expect(await code).toBe(1008);
    await assertAlive(server);
  });

  it('survives the host dying with messages in flight (8 kills)', async () => {
    const c = await connect(server);
    await c.next((m) => m.type === 'ready');
    for (let kill = 0; kill < 8; kill++) {
      const flood = setInterval(() => c.send({ type: 'history-list', requestId: `k${kill}` }), 5);
      await new Promise((ok) => setTimeout(ok, 40));
      const before = c.all.length;
      await server.killHost();
      clearInterval(flood);
      // a host that had started is started again at once, however often it dies
      await c.next((m) => m.type === 'ready' && c.all.indexOf(m) >= before, 30_000);
    }
    c.close();
    await assertAlive(server);
  });

  it('a cancel sent right after a start always cancels it', async () => {
    const c = await connect(server);
    await c.next((m) => m.type === 'ready');
    for (let i = 0; i < 10; i++) {
      // alternate the pair's provider choice, so every sweep loads its models again
      const settings = sweepSettings({
        ks: [1, 2, 3, 4, 5, 6, 7, 8],
        repeats: 5,
        pair: pairOf(null, i % 2 === 0 ? 'cpu' : 'auto'),
      });
      c.send({ type: 'sweep', requestId: `c${i}`, settings });
      c.send({ type: 'cancel', requestId: `c${i}` });
      const end = await c.next(
        (m) => (m.type === 'sweep-done' || m.type === 'error') && m.requestId === `c${i}`,
      );
      expect(end, `sweep ${i}: ${JSON.stringify(end)}`).toMatchObject({
        type: 'sweep-done',
        cancelled: true,
      });
      expect(c.all.filter((m) => m.type === 'sweep-row' && m.requestId === `c${i}`).length).toBe(0);
    }
    c.close();
  });

  it('the same limits for live-start as for a sweep; "busy" names the job', async () => {
    const c = await connect(server);
    c.send({
      type: 'live-start',
      requestId: 'l1',
      settings: liveSettings({ maxNewTokens: 1e9 }),
    });
    const err = await c.next((m) => m.type === 'error' && m.requestId === 'l1');
    expect(err.type === 'error' && err.message).toMatch(/Max new tokens 1000000000 is past/);
    c.send({
      type: 'sweep',
      requestId: 'b1',
      settings: sweepSettings({ ks: [1, 2, 3, 4, 5, 6, 7, 8], repeats: 5 }),
    });
    await c.next((m) => m.type === 'sweep-progress' && m.requestId === 'b1');
    c.send({ type: 'download', requestId: 'b2', pair: pairOf(null) });
    const busy = await c.next((m) => m.type === 'error' && m.requestId === 'b2');
    expect(busy.type === 'error' && busy.message).toBe(
      'The engine is busy with a sweep. Cancel it or wait for it to finish.',
    );
    c.send({ type: 'cancel', requestId: 'b1' });
    await c.next((m) => m.type === 'sweep-done' && m.requestId === 'b1');
    c.close();
  });

  it('a model folder error tells a remote client nothing about the server’s files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'specdec-secret-'));
    const secret = join(dir, 'secret.txt');
    writeFileSync(secret, 'SECRET-CONTENTS {');
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    symlinkSync(secret, join(folder, 'config.json'));
    const c = await connect(server);
    const answers: string[] = [];
    for (const [i, path] of ['/nonexistent/model', '/etc', folder].entries()) {
      c.send({
        type: 'sweep',
        requestId: `m${i}`,
        settings: sweepSettings({ pair: pairOf(path) }),
      });
      const e = await c.next((m) => m.type === 'error' && m.requestId === `m${i}`);
      expect(e).toMatchObject({ code: 'MODEL_FOLDER_INVALID' });
      answers.push(e.type === 'error' ? e.message.replace(path, '<path>') : '');
    }
    // one answer whether the path exists, is a folder without config.json, or leaks a file
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).not.toContain('SECRET');
    c.close();
  });
});

describe('the static server', () => {
  it('serves only regular files under the renderer folder: no symlinks out', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'specdec-renderer-')), 'renderer');
    cpSync(RENDERER, dir, { recursive: true });
    const outside = join(dir, '..', 'outside.txt');
    writeFileSync(outside, 'outside');
    symlinkSync(outside, join(dir, 'leak.txt'));
    symlinkSync('/etc', join(dir, 'etc'));
    const server = await serve({ rendererDir: dir });
    try {
      expect((await rawGet(server, '/leak.txt')).status).toBe(404);
      expect((await rawGet(server, '/etc/hostname')).status).toBe(404);
      expect((await rawGet(server, '/../outside.txt')).status).toBe(404);
      expect((await rawGet(server, '/index.html')).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

/** A small tmpfs as the data folder (root only: where mount is refused, these tests skip). */
function tmpfs(sizeKb: number): { dir: string; remount(opts: string): void; drop(): void } | null {
  const dir = mkdtempSync(join(tmpdir(), 'specdec-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir], {
      stdio: 'ignore',
    });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  return {
    dir,
    remount: (opts) => execFileSync('mount', ['-o', `remount,${opts}`, dir], { stdio: 'ignore' }),
    drop: () => {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
const mountable = (() => {
  const t = tmpfs(64);
  t?.drop();
  return t !== null;
})();

describe.skipIf(!mountable)('disk faults (a tmpfs data folder)', () => {
  const sweepAndWait = async (c: Client, id: string): Promise<HostMessage> => {
    c.send({
      type: 'sweep',
      requestId: id,
      settings: sweepSettings({ ks: [1, 2], maxNewTokens: 12 }),
    });
    return c.next((m) => (m.type === 'sweep-done' || m.type === 'error') && m.requestId === id);
  };

  it('a read-only data folder: the engine starts (no crash loop), results arrive marked not saved', async () => {
    const fs = tmpfs(1024)!;
    fs.remount('ro');
    const server = await serve({ dataDir: fs.dir });
    try {
      const c = await connect(server);
      await c.next((m) => m.type === 'ready');
      const pid = server.hostPid();
      const done = await sweepAndWait(c, 'ro1');
      expect(done, JSON.stringify(done)).toMatchObject({
        type: 'sweep-done',
        notSaved: `not saved: the data folder ${join(fs.dir, 'history')} is read-only`,
      });
      expect(c.all.filter((m) => m.type === 'sweep-row' && m.requestId === 'ro1')).toHaveLength(3);
      expect(server.hostPid()).toBe(pid);
      expect(c.all.some((m) => m.type === 'host-exit')).toBe(false);
      c.close();
    } finally {
      await server.close();
      fs.drop();
    }
  });

  it('a full disk: results arrive marked not saved, no .tmp left, the next sweep saves once there is room', async () => {
    const fs = tmpfs(4);
    // the data folder's own files (the probe's cache and log) must not be what fills it
    const server = await serve({ dataDir: fs!.dir });
    try {
      writeFileSync(join(fs!.dir, 'filler'), Buffer.alloc(0));
      const c = await connect(server);
      await c.next((m) => m.type === 'ready');
      try {
        // fill what is left
        writeFileSync(join(fs!.dir, 'filler'), Buffer.alloc(64 << 10));
      } catch {
        // ENOSPC: full now
      }
      const done = await sweepAndWait(c, 'full1');
      expect(done).toMatchObject({
        type: 'sweep-done',
        notSaved: `not saved: disk full at ${join(fs!.dir, 'history')}`,
      });
      expect(c.all.filter((m) => m.type === 'sweep-row' && m.requestId === 'full1')).toHaveLength(
        3,
      );
      const leftovers = (d: string): string[] =>
        readdirSync(d, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.tmp'));
      expect(leftovers(fs!.dir)).toEqual([]);
      rmSync(join(fs!.dir, 'filler'));
      fs!.remount('size=2048k');
      const again = await sweepAndWait(c, 'full2');
      expect(again).toMatchObject({ type: 'sweep-done', notSaved: null });
      c.send({
        type: 'history-get',
        requestId: 'g',
        id: again.type === 'sweep-done' ? again.historyId : '',
      });
      const entry = await c.next((m) => m.type === 'history-entry' && m.requestId === 'g');
      expect(entry.type === 'history-entry' && entry.entry.rows).toHaveLength(3);
      c.close();
    } finally {
      await server.close();
      fs!.drop();
    }
  });
});

describe('fuzz: random and mutated frames and messages against a live serve', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serve();
  });
  afterAll(() => server.close());

  it('at least 2,000 inputs: the server keeps answering, the engine keeps running, memory stays bounded', async () => {
    // seeded, so a failure can be replayed
    const rand = seededRandom(20261201);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const templates: unknown[] = [
      { type: 'sweep', requestId: 'z', settings: sweepSettings({ ks: [0] }) },
      { type: 'live-start', requestId: 'z', settings: { k: 2 } },
      { type: 'history-get', requestId: 'z', id: '../../etc/passwd' },
      { type: 'cancel', requestId: 'z' },
      { type: 'live-next', requestId: 'z' },
      { type: 'download', requestId: 'z', pair: pairOf('/nonexistent') },
    ];
    const junk = (): unknown =>
      pick([
        null,
        true,
        -1,
        1e308,
        'x'.repeat(Math.floor(rand() * 5000)),
        [],
        {},
        { type: pick(['sweep', 'cancel', 'nope', 42]) },
        Array.from({ length: 50 }, () => rand()),
      ]);
    const mutate = (value: unknown, depth = 0): unknown => {
      if (value === null || typeof value !== 'object' || depth > 4)
        return rand() < 0.3 ? junk() : value;
      const copy: Record<string, unknown> = Array.isArray(value)
        ? ([...value] as never)
        : { ...value };
      for (const key of Object.keys(copy)) {
        const r = rand();
        if (r < 0.15) delete copy[key];
        else if (r < 0.35) copy[key] = junk();
        else copy[key] = mutate(copy[key], depth + 1);
      }
      return copy;
    };
    const counts = { messages: 0, frames: 0, resets: 0, validSkipped: 0 };
    const rssBefore = process.memoryUsage().rss;
    let c = await connect(server);
    let onThis = 0;
    while (counts.messages + counts.frames < 2000) {
      if (onThis >= 120 || c.ws.readyState !== c.ws.OPEN) {
        c.ws.terminate();
        c = await connect(server);
        onThis = 0;
      }
      const kind = rand();
      if (kind < 0.6) {
        const value = mutate(pick(templates));
        // a mutation that happens to be a real sweep would only make the test slow
        const parsed = HostRequest.safeParse(JSON.parse(JSON.stringify(value) ?? 'null'));
        if (parsed.success && ['sweep', 'live-start', 'download'].includes(parsed.data.type)) {
          counts.validSkipped++;
          continue;
        }
        c.ws.send(JSON.stringify(value));
      } else if (kind < 0.75) {
        c.ws.send(randomBytes(Math.floor(rand() * 2000)).toString('latin1'));
      } else if (kind < 0.85) {
        const depth = Math.floor(rand() * 5000);
        c.ws.send('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
      } else {
        // a raw connection with a broken frame, or a reset mid-frame
        const { socket } = await rawUpgrade(server, goodHeaders(server));
        const bytes = frame(
          pick([0, 1, 2, 3, 8, 9, 10, 11, 15]),
          randomBytes(Math.floor(rand() * 300)),
          { mask: rand() < 0.7, rsv: Math.floor(rand() * 8), fin: rand() < 0.8 },
        );
        socket.write(rand() < 0.5 ? bytes : bytes.subarray(0, Math.floor(rand() * bytes.length)));
        if (rand() < 0.5) {
          socket.resetAndDestroy();
          counts.resets++;
        } else socket.destroy();
        counts.frames++;
        continue;
      }
      counts.messages++;
      onThis++;
    }
    c.close();
    console.log(
      `fuzz: ${counts.messages} messages, ${counts.frames} raw frames (${counts.resets} reset), ${counts.validSkipped} valid jobs skipped; 0 crashes`,
    );
    await assertAlive(server);
    const grownMb = (process.memoryUsage().rss - rssBefore) / 1e6;
    console.log(`fuzz: RSS grew ${grownMb.toFixed(1)} MB`);
    expect(grownMb).toBeLessThan(300);
  });
});
