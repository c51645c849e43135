/**
 * Stopping `specdec serve` leaves nothing behind (issue 32): SIGTERM or SIGHUP to the command as
 * shipped (bin/specdec.js), to the shell npm puts in front of it, or with the engine host stuck,
 * ends the server, the engine host and every other process it started, and frees the port.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/helpers';

const BIN = join(ROOT, 'bin', 'specdec.js');

beforeAll(() => {
  // bin/specdec.js runs the built CLI when there is one: build it from this checkout
  execFileSync(process.execPath, [join(ROOT, 'tools', 'build-cli.mjs')], { cwd: ROOT });
});

/** every process a test started, ended by force after it if the test failed part-way */
const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0).filter(running)) {
    for (const sig of ['SIGCONT', 'SIGKILL'] as const) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  }
});

/** every process below `pid` now, from /proc (Linux) */
function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    const tasks = join('/proc', String(pid), 'task');
    for (const tid of readdirSync(tasks))
      children.push(
        ...readFileSync(join(tasks, tid, 'children'), 'utf8').split(' ').filter(Boolean).map(Number),
      );
  } catch {
    // gone while read
  }
  children = [...new Set(children)];
  return children.flatMap((c) => [c, ...descendants(c)]);
}

/** a process that still runs (a zombie waiting for its parent to reap it has ended) */
function running(pid: number): boolean {
  const stat = join('/proc', String(pid), 'stat');
  if (!existsSync(stat)) return false;
  try {
    return readFileSync(stat, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** `command` started in a data folder of its own; resolves with the URL serve printed */
async function startServe(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; url: URL; exit: Promise<number | null> }> {
  const child = spawn(command, args, {
    cwd: tmpdir(),
    env: {
      ...process.env,
      npm_lifecycle_event: undefined,
      XDG_DATA_HOME: mkdtempSync(join(tmpdir(), 'specdec-data-')),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<URL>((resolve, reject) => {
    // the processes serve starts, recorded as soon as its URL says it has started them
    child.stdout!.once('data', () => started.push(child.pid!, ...descendants(child.pid!)));
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /serving at (\S+)/.exec(out);
      if (m) resolve(new URL(m[1]!));
    });
    void exit.then((code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
  return { child, url, exit };
}

/** wait until none of `pids` runs (at most `ms`); returns those still running */
async function allEnded(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = pids.filter(running);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** the engine host: serve's child running hostProcess */
function hostOf(pids: number[]): number | undefined {
  return pids.find((p) =>
    readFileSync(join('/proc', String(p), 'cmdline'), 'utf8').includes('hostProcess'),
  );
}

describe('stopping specdec serve', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)(
    '%s to `node bin/specdec.js serve` ends the server and the engine host and frees the port',
    async (signal, status) => {
      const { child, url, exit } = await startServe(process.execPath, [BIN, 'serve', '--port', '0']);
      const tree = [child.pid!, ...descendants(child.pid!)];
      expect(hostOf(tree)).toBeDefined();
      child.kill(signal);
      expect(await exit).toBe(status);
      expect(await allEnded(tree, 5000)).toEqual([]);
      expect(await portFree(Number(url.port))).toBe(true);
    },
  );

  it('a stuck engine host (stopped, so it cannot act on SIGTERM) is killed after a grace period', async () => {
    const { child, url, exit } = await startServe(process.execPath, [BIN, 'serve', '--port', '0']);
    const tree = [child.pid!, ...descendants(child.pid!)];
    const host = hostOf(tree)!;
    process.kill(host, 'SIGSTOP');
    const t0 = Date.now();
    child.kill('SIGTERM');
    expect(await exit).toBe(143);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(await allEnded(tree, 2000)).toEqual([]);
    expect(await portFree(Number(url.port))).toBe(true);
  });

  it("under npm, the shell npm starts (and signals) dying is enough: serve follows it", async () => {
    // `npx specdec serve` and `npm run serve` run `sh -c "..."`; npm passes SIGTERM to that
    // shell, which dies without passing it on
    const { child, url } = await startServe(
      'sh',
      ['-c', `true && "${process.execPath}" "${BIN}" serve --port 0`],
      { npm_lifecycle_event: 'serve' },
    );
    const tree = descendants(child.pid!);
    expect(hostOf(tree)).toBeDefined();
    child.kill('SIGTERM');
    expect(await allEnded(tree, 5000)).toEqual([]);
    expect(await portFree(Number(url.port))).toBe(true);
  });
});
