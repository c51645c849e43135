/**
 * The CLI as `npm run build` ships it (out/cli, JavaScript): it starts without compiling
 * TypeScript, answers --help and a bad argument without loading the engine, runs a sweep (the
 * provider probe's child included) and serves (the engine host's child included).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HostMessage } from '../../src/shared/protocol';
import { MICRO_A, MICRO_B, ROOT, type CliResult } from '../support/helpers';

const BUILT = join(ROOT, 'out', 'cli', 'main.js');

/** `node <script> <args>`; never throws for a non-zero exit */
async function node(script: string, args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script, ...args], {
      cwd: tmpdir(),
      env: { ...process.env, XDG_DATA_HOME: mkdtempSync(join(tmpdir(), 'specdec-data-')) },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as CliResult;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** the packages a built file loads before it runs, through the chunks it imports statically */
function staticPackages(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  const found = new Set<string>();
  for (const [, spec] of text.matchAll(/^(?:import|export)\b[^;]*?from\s*"([^"]+)"/gms)) {
    if (spec!.startsWith('./')) {
      for (const p of staticPackages(join(dirname(file), spec!), seen)) found.add(p);
    } else if (!spec!.startsWith('node:')) found.add(spec!);
  }
  return [...found].sort();
}

beforeAll(() => {
  // the step `npm run build` runs after electron-vite's (which the build group's setup ran)
  execFileSync(process.execPath, [join(ROOT, 'tools', 'build-cli.mjs')], { cwd: ROOT });
});

describe('the built CLI', () => {
  it('is part of npm run build, with its child-process entries beside it', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.build).toMatch(/electron-vite build && node tools\/build-cli\.mjs$/);
    for (const entry of ['main.js', 'hostProcess.js', 'providerProbeChild.js'])
      expect(existsSync(join(ROOT, 'out', 'cli', entry))).toBe(true);
    // commander's parsing loads no engine: onnxruntime-node and transformers.js stay in the
    // chunks the commands import when they run
    expect(staticPackages(BUILT)).toEqual(['commander', 'zod']);
  });

  it('answers --help (with examples) and a bad argument, through bin/specdec.js too', async () => {
    for (const script of [BUILT, join(ROOT, 'bin', 'specdec.js')]) {
      const help = await node(script, ['--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('Examples:');
      const bad = await node(script, ['sweep', '--k', 'two']);
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim().split('\n')).toEqual([
        "specdec: error: option '--k <list>' argument 'two' is invalid. K values must be whole numbers separated by commas, e.g. 1,2,4.",
      ]);
    }
  });

  it('runs a sweep, probing the providers in its built child', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'specdec-probe-'));
    const r = await node(BUILT, [
      'sweep',
      ...['--target', MICRO_A, '--draft', MICRO_B, '--k', '2', '--max-new-tokens', '6'],
      ...['--repeats', '1', '--warmup', '0', '--data-dir', dataDir, '--json'],
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { runs: Array<{ identical: boolean }> };
    expect(doc.runs).toHaveLength(2);
    expect(doc.runs.every((x) => x.identical)).toBe(true);
  });

  it('serves, with the built engine host answering over the WebSocket', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'specdec-serve-'));
    const child = spawn(process.execPath, [BUILT, 'serve', '--port', '0', '--data-dir', dataDir], {
      cwd: tmpdir(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const url = await new Promise<URL>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          const m = /serving at (\S+)/.exec(out);
          if (m) resolve(new URL(m[1]!));
        });
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
      });
      const ws = new WebSocket(`ws://${url.host}/ws`, {
        headers: { cookie: `specdec_token=${url.searchParams.get('token')}`, origin: url.origin },
      });
      const ready = await new Promise<HostMessage>((resolve, reject) => {
        ws.on('message', (data) => {
          const m = JSON.parse(String(data)) as HostMessage;
          if (m.type === 'ready') resolve(m);
        });
        ws.once('error', reject);
        setTimeout(() => reject(new Error('no ready from the engine host')), 60_000);
      });
      expect(ready.type).toBe('ready');
      ws.close();
    } finally {
      child.kill('SIGTERM');
    }
  });
});
