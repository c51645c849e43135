/**
 * Choosing the execution provider: `auto` measures and keeps the fastest, the probe's native
 * output never reaches the user, its verdict is cached, and arguments are checked before any of
 * it. The SwiftShader tests run where Debian's chromium ships its software Vulkan driver.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { ProviderChoice } from '../../src/shared/decoding';
import { providerUnavailable } from '../../src/core/model/executionProvider';
import { readModelFolder } from '../../src/core/model/modelFolder';
import { chooseProviders, probeFiles } from '../../src/core/model/providerProbe';
import { MICRO_A, MICRO_B, PAIR_DRAFT, PAIR_TARGET, ROOT, specdec } from '../support/helpers';

const FAKE_CHILD = join(ROOT, 'test', 'fixtures', 'probe', 'fakeProbeChild.mjs');
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const micro = ['--target', MICRO_A, '--draft', MICRO_B];

describe('arguments first', () => {
  it.each([
    ['K out of range', ['--k', '0'], /K \(draft length\) must be a whole number from 1 to 64/],
    ['max new tokens', ['--max-new-tokens', '0'], /--max-new-tokens must be a whole number from 1 to/],
    ['an empty prompt', ['--prompt', ' '], /The prompt is empty/],
  ])('%s is refused in one line, exit 2, before any model is opened', async (_n, args, msg) => {
    const data = mkdtempSync(join(tmpdir(), 'specdec-args-'));
    // a model folder that does not exist: had anything been loaded, that would be the error
    const r = await specdec(['sweep', '--target', '/nonexistent/model', ...args], {
      XDG_DATA_HOME: data,
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(msg);
    // and nothing was probed
    expect(existsSync(join(data, 'specdec-studio', 'logs'))).toBe(false);
  });

  it('a usage error (an unknown option) exits 2 as well', async () => {
    const r = await specdec(['sweep', '--no-such-option']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      "specdec: error: unknown option '--no-such-option'",
    ]);
  });
});

describe('a sweep on auto', () => {
  it('writes nothing to stderr, and says per model which provider runs it and why', async () => {
    const r = await specdec(['sweep', ...micro, '--k', '2', '--max-new-tokens', '5']);
    expect(r.code).toBe(0);
    // probing GPU providers prints native warnings where Vulkan is installed: they go to the log
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^target on \w+/);
    expect(lines[1]).toMatch(/^draft on \w+/);
    if (providerUnavailable('cuda')) expect(lines[0]).toContain('cuda: not installed');
  });
});

describe('chooseProviders with a scripted probe', () => {
  const gpuReason = providerUnavailable('webgpu');
  const folder = readModelFolder(MICRO_A);
  const setup = (script: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'specdec-probe-'));
    const starts = join(dir, 'starts.txt');
    process.env.FAKE_PROBE = script;
    process.env.FAKE_PROBE_STARTS = starts;
    const options = {
      ...probeFiles(dir),
      launcher: { script: FAKE_CHILD, execArgv: [] },
    };
    const started = () =>
      existsSync(starts) ? readFileSync(starts, 'utf8').split('\n').length - 1 : 0;
    return { options, started };
  };

  it.skipIf(gpuReason !== null)(
    'keeps the fastest, caches the verdict, re-probes on request',
    async () => {
      const { options, started } = setup('fast-gpu');
      const [first] = await chooseProviders([{ folder, choice: 'auto' }], options);
      expect(first!.provider).not.toBe('cpu');
      expect(first!.cached).toBe(false);
      const cpu = first!.trials.find((t) => t.provider === 'cpu')!;
      expect(cpu).toMatchObject({ medianPassMs: 2, reason: 'slower (2.0 ms a pass)' });
      expect(first!.summary).toContain('cpu: 2.0 ms a pass');
      // the child's stderr went to the log, not to ours
      expect(readFileSync(options.logFile!, 'utf8')).toContain('Warning: a driver says something');

      const [again] = await chooseProviders([{ folder, choice: 'auto' }], options);
      expect(again).toEqual({ ...first, cached: true });
      expect(started()).toBe(1);
      await chooseProviders([{ folder, choice: 'auto' }], { ...options, reprobe: true });
      expect(started()).toBe(2);
      // cpu asked for by name: no probe at all
      const [onCpu] = await chooseProviders([{ folder, choice: 'cpu' }], options);
      expect(onCpu!.provider).toBe('cpu');
      expect(started()).toBe(2);
    },
  );

  it.skipIf(gpuReason !== null)(
    'a provider that crashes the probe is skipped, named, and not cached',
    async () => {
      const { options, started } = setup('crash');
      const [choice] = await chooseProviders([{ folder, choice: 'auto' }], options);
      expect(choice!.provider).toBe('cpu');
      const crashed = choice!.trials.find((t) => t.reason?.startsWith('crashed'));
      expect(crashed?.detail).toMatch(/^crashed \(SIGABRT\) while probing/);
      await chooseProviders([{ folder, choice: 'auto' }], options);
      expect(started()).toBe(2); // a crash is not a verdict: the next run probes again
      // asked for by name, a crashing provider is refused with the reason and the log's place
      await expect(chooseProviders([{ folder, choice: 'webgpu' }], options)).rejects.toThrow(
        `The webgpu execution provider is not available here (crashed (SIGABRT) while probing; details in ${options.logFile})`,
      );
    },
  );
});

describe('the bundled probe script the desktop app runs', () => {
  const gpuReason = providerUnavailable('webgpu');
  it.skipIf(gpuReason !== null)('is self-contained and measures cpu from out/main', async () => {
    const chunks = join(ROOT, 'out', 'main', 'chunks');
    const script = readdirSync(chunks).find((f) => f.startsWith('providerProbeChild-'));
    expect(script, 'electron-vite emits the probe as its own chunk').toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'specdec-bundled-'));
    const [choice] = await chooseProviders([{ folder: readModelFolder(MICRO_A), choice: 'auto' }], {
      ...probeFiles(dir),
      launcher: { script: join(chunks, script!), execArgv: [] },
    });
    const cpu = choice!.trials.find((t) => t.provider === 'cpu')!;
    expect(cpu.medianPassMs).toBeGreaterThan(0);
    expect(cpu.detail).toBeNull();
  });
});

const vulkanReason = !existsSync(SWIFTSHADER)
  ? `${SWIFTSHADER} not found (Debian's chromium ships it)`
  : providerUnavailable('webgpu');

describe.skipIf(vulkanReason !== null)('WebGPU on SwiftShader (software Vulkan)', () => {
  const env = {
    VK_ICD_FILENAMES: SWIFTSHADER,
    XDG_DATA_HOME: mkdtempSync(join(tmpdir(), 'specdec-vk-')),
  };
  const pair = ['--target', PAIR_TARGET, '--draft', PAIR_DRAFT];
  const small = ['--k', '2', '--max-new-tokens', '8', '--warmup', '0', '--json'];
  let cpuTokens: number[] = [];

  it('auto measures webgpu, keeps cpu for the embedded pair and records both pass times', async () => {
    const csv = join(env.XDG_DATA_HOME, 'runs.csv');
    const t0 = performance.now();
    const r = await specdec(['sweep', ...pair, ...small, '--csv', csv], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout) as {
      config: { providerChoice: { target: ProviderChoice; draft: ProviderChoice } };
      runs: Array<{ mode: string; outputTokenIds: number[] }>;
    };
    for (const choice of Object.values(doc.config.providerChoice)) {
      expect(choice.provider).toBe('cpu');
      const cpu = choice.trials.find((t) => t.provider === 'cpu')!;
      const webgpu = choice.trials.find((t) => t.provider === 'webgpu')!;
      expect(webgpu.medianPassMs).toBeGreaterThan(cpu.medianPassMs!);
      expect(webgpu.reason).toMatch(/^slower \(/);
      expect(choice.summary).toMatch(/^cpu \([\d.]+ m?s a pass; webgpu: [\d.]+ m?s a pass/);
    }
    const rows = parse(readFileSync(csv, 'utf8'), { columns: true }) as Array<
      Record<string, string>
    >;
    expect(rows[0]!.targetProvider).toBe('cpu');
    expect(rows[0]!.targetProviderTrials).toMatch(/^cpu [\d.]+ ms; webgpu [\d.]+ m?s/);
    cpuTokens = doc.runs.find((x) => x.mode === 'baseline')!.outputTokenIds;
    // the probe's time: well under 15 s of the whole run
    console.log(
      `auto on SwiftShader, whole sweep: ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  });

  it('times webgpu with the KV cache where the engine will keep it: on the device unless told host', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'specdec-probe-kv-'));
    const files = probeFiles(dir);
    const folder = readModelFolder(MICRO_A);
    const saved = process.env.VK_ICD_FILENAMES;
    process.env.VK_ICD_FILENAMES = SWIFTSHADER;
    try {
      const [device] = await chooseProviders([{ folder, choice: 'auto' }], files);
      const [host] = await chooseProviders([{ folder, choice: 'auto', kvLocation: 'host' }], files);
      for (const choice of [device!, host!]) {
        const webgpu = choice.trials.find((t) => t.provider === 'webgpu')!;
        expect(webgpu.detail).toBeNull();
        expect(webgpu.medianPassMs).toBeGreaterThan(0);
        expect(choice.cached).toBe(false); // the cache's place is part of the verdict's key
      }
      const log = readFileSync(files.logFile!, 'utf8');
      expect(log).toMatch(/micro-a on webgpu \(cache on the device\): median /);
      expect(log).toMatch(/micro-a on webgpu: median /);
      expect(log).toMatch(/micro-a on cpu: median /);
    } finally {
      if (saved === undefined) delete process.env.VK_ICD_FILENAMES;
      else process.env.VK_ICD_FILENAMES = saved;
    }
  });

  it('--ep webgpu runs there, quietly, and gives the same greedy tokens as cpu', async () => {
    const r = await specdec(['sweep', ...pair, ...small, '--ep', 'webgpu'], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout) as {
      config: { executionProviders: unknown };
      runs: Array<{ mode: string; outputTokenIds: number[]; identical: boolean }>;
    };
    expect(doc.config.executionProviders).toEqual({ target: 'webgpu', draft: 'webgpu' });
    expect(doc.runs.find((x) => x.mode === 'baseline')!.outputTokenIds).toEqual(cpuTokens);
    expect(doc.runs.every((x) => x.identical)).toBe(true);
    // SwiftShader compiles every shader on the CPU: 78 s on 2 idle cores, more beside other work
  }, 240_000);
});
