/**
 * Models from a Hub: a local server in the Hub's URL layout serves the embedded pair, and the
 * engine downloads it through transformers.js into a cache. Progress adds up, the cache is used
 * without a request, offline mode works from the cache and fails clearly without it, and a 404,
 * a cut-off file, a missing file, no network, a full disk and a cancel each give a clear error
 * and leave nothing in the cache that could be loaded.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownloadProgress } from '../../src/shared/protocol';
import { SpecDecError } from '../../src/core/errors';
import { readCompleteMarker, resolveModels, type HubOptions } from '../../src/core/hub/hub';
import { openPair } from '../../src/core/hub/openPair';
import { releasePair } from '../../src/core/model/pair';
import { SpeculativeRun } from '../../src/core/decoding/speculative';
import { BaselineRun } from '../../src/core/decoding/baseline';
import { MICRO_A, PAIR_DRAFT, PAIR_TARGET, ROOT, specdec as run } from '../support/helpers';
import { startHubServer, type HubServer } from '../support/hubServer';

const STANDIN_TINY = join(ROOT, 'test', 'fixtures', 'standins', 'gpt2-tiny');
const TARGET = 'specdec/brown-target';
const DRAFT = 'specdec/brown-draft';
let hub: HubServer;
let configOnly: string;

beforeAll(async () => {
  configOnly = mkdtempSync(join(tmpdir(), 'specdec-hub-config-only-'));
  writeFileSync(join(configOnly, 'config.json'), '{"model_type":"gpt2"}');
  hub = await startHubServer({
    [TARGET]: PAIR_TARGET,
    [DRAFT]: PAIR_DRAFT,
    'specdec/config-only': configOnly,
    // stand-ins for the seed pair, so --pair seed can be run end to end
    'Xenova/gpt2-medium': PAIR_TARGET,
    'Xenova/gpt2': PAIR_DRAFT,
    // every Hub file format of a small stand-in (tools/build_standin.py --tiny)
    'specdec/gpt2-tiny': STANDIN_TINY,
  });
});
afterAll(async () => hub?.close());

const freshCache = (): string => mkdtempSync(join(tmpdir(), 'specdec-cache-'));
const pair = [
  { source: TARGET, dtype: 'fp32' as const },
  { source: DRAFT, dtype: 'fp32' as const },
];
const options = (cacheDir: string, extra: Partial<HubOptions> = {}): HubOptions => ({
  cacheDir,
  hubHost: hub.url,
  ...extra,
});
const fileSize = (dir: string, f: string): number => statSync(join(dir, f)).size;
const bodyRequests = (): string[] =>
  hub.requests.filter((r) => r.startsWith('GET') && r.includes('/resolve/'));

async function failure(work: Promise<unknown>): Promise<SpecDecError> {
  const err = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SpecDecError);
  return err as SpecDecError;
}

/** nothing loadable and nothing half-written: no marker, no temporary files */
function expectNoBrokenEntry(cacheDir: string, repo: string): void {
  const dir = join(cacheDir, ...repo.split('/'));
  expect(readCompleteMarker(dir, 'fp32')).toBeNull();
  if (!existsSync(dir)) return;
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' });
  expect(files.filter((f) => /\.tmp\./.test(f))).toEqual([]);
}

describe('downloads from a Hub', () => {
  const cacheDir = freshCache();

  it('fetches both models with progress that adds up, then runs them losslessly', async () => {
    const events: DownloadProgress[] = [];
    const resolved = await resolveModels(
      pair,
      options(cacheDir, { onProgress: (p) => events.push(p) }),
    );
    const expected = ['config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json']
      .map((f) => fileSize(PAIR_TARGET, f) + fileSize(PAIR_DRAFT, f))
      .reduce((a, b) => a + b, 0);
    expect(events.length).toBeGreaterThan(2);
    expect(events.every((e) => e.totalBytes === expected)).toBe(true);
    const loaded = events.map((e) => e.loadedBytes);
    expect(loaded).toEqual([...loaded].sort((a, b) => a - b));
    expect(loaded.at(-1)).toBe(expected);
    expect(events.at(-1)!.etaS).toBe(0);
    expect(events.some((e) => e.repo === TARGET) && events.some((e) => e.repo === DRAFT)).toBe(
      true,
    );
    expect(resolved.map((r) => r.repo)).toEqual([TARGET, DRAFT]);
    expect(resolved[0]!.downloadedBytes + resolved[1]!.downloadedBytes).toBe(expected);
    // the cached files are byte-for-byte the served ones
    expect(fileSize(resolved[0]!.dir, 'onnx/model.onnx')).toBe(
      fileSize(PAIR_TARGET, 'onnx/model.onnx'),
    );

    const opened = await openPair(
      { source: TARGET, dtype: 'fp32', ep: 'cpu', threads: 2 },
      { source: DRAFT, dtype: 'fp32', ep: 'cpu' },
      options(cacheDir),
    );
    try {
      expect(opened.target.repo).toBe(TARGET);
      expect(opened.target.provider).toBe('cpu');
      // the threads each session runs on, as the app shows them (a small model: one by default)
      expect([opened.target.threads, opened.draft!.threads]).toEqual([2, 1]);
      expect(opened.downloadedBytes).toBe(0);
      const prompt = 'The old man said';
      const base = await new BaselineRun(opened.pair, { prompt, maxNewTokens: 16 }).runToEnd();
      const spec = await new SpeculativeRun(opened.pair, 3, {
        prompt,
        maxNewTokens: 16,
      }).runToEnd();
      expect(spec.outputTokenIds).toEqual(base.outputTokenIds);
    } finally {
      await releasePair(opened.pair);
    }
  });

  it('uses the cache on the second run without a single request', async () => {
    const before = hub.requests.length;
    const resolved = await resolveModels(pair, options(cacheDir));
    expect(hub.requests.length).toBe(before);
    expect(resolved.map((r) => r.downloadedBytes)).toEqual([0, 0]);
  });

  it('works offline from the cache, and offline without it says what to do', async () => {
    const before = hub.requests.length;
    await resolveModels(pair, options(cacheDir, { offline: true, hubHost: 'http://127.0.0.1:1/' }));
    const err = await failure(resolveModels(pair, options(freshCache(), { offline: true })));
    expect(err.code).toBe('HUB_OFFLINE');
    expect(err.message).toMatch(/not in the download cache.*Run once online/);
    expect(hub.requests.length).toBe(before);
  });
});

describe('download errors', () => {
  it('an unknown repo (404) is named, and leaves no cache entry', async () => {
    const cacheDir = freshCache();
    const err = await failure(
      resolveModels([{ source: 'nobody/no-such-model', dtype: 'fp32' }], options(cacheDir)),
    );
    expect(err.code).toBe('HUB_NOT_FOUND');
    expect(err.message).toContain('nobody/no-such-model');
    expect(existsSync(join(cacheDir, 'nobody'))).toBe(false);
  });

  it('a repo without the ONNX decoder names the files it looked for', async () => {
    const err = await failure(
      resolveModels([{ source: 'specdec/config-only', dtype: 'q8' }], options(freshCache())),
    );
    expect(err.code).toBe('HUB_FILE_MISSING');
    expect(err.message).toContain('onnx/model_quantized.onnx');
  });

  it('a file cut off halfway gives a clear error, keeps nothing, and the next run restarts it', async () => {
    const cacheDir = freshCache();
    hub.truncate.add('onnx/model.onnx');
    try {
      const err = await failure(resolveModels([pair[1]!], options(cacheDir)));
      expect(err.code).toBe('HUB_INTERRUPTED');
      expect(err.message).toMatch(/nothing partial was kept.*Run again/);
      expectNoBrokenEntry(cacheDir, DRAFT);
      expect(existsSync(join(cacheDir, 'specdec', 'brown-draft', 'onnx', 'model.onnx'))).toBe(
        false,
      );
    } finally {
      hub.truncate.clear();
    }
    const [again] = await resolveModels([pair[1]!], options(cacheDir));
    expect(fileSize(again!.dir, 'onnx/model.onnx')).toBe(fileSize(PAIR_DRAFT, 'onnx/model.onnx'));
  });

  it('leftovers of a killed download are removed before it starts again', async () => {
    const cacheDir = freshCache();
    const dir = join(cacheDir, 'specdec', 'brown-draft', 'onnx');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.onnx.tmp.12345.abc'), 'half a file');
    await resolveModels([pair[1]!], options(cacheDir));
    expect(readdirSync(dir)).toEqual(['model.onnx']);
  });

  it('no network: says the host cannot be reached and what to do', async () => {
    const err = await failure(
      resolveModels(pair, options(freshCache(), { hubHost: 'http://127.0.0.1:1/' })),
    );
    expect(err.code).toBe('HUB_UNREACHABLE');
    expect(err.message).toMatch(/Cannot reach http:\/\/127\.0\.0\.1:1\/.*in the cache \(offline\)/);
    expect(err instanceof SpecDecError && err.settings).toEqual(['hubHost', 'offline']);
  });

  it('a full disk is caught before downloading', async () => {
    const before = bodyRequests().length;
    const cacheDir = freshCache();
    const err = await failure(resolveModels(pair, options(cacheDir, { freeBytes: () => 1e6 })));
    expect(err.code).toBe('DISK_FULL');
    expect(err.message).toMatch(/needs \d+\.\d MB and 1\.0 MB is free/);
    // only the 1-byte metadata probes went out, no file bodies
    const sent = bodyRequests().slice(before);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.filter((r) => !r.endsWith('[range]'))).toEqual([]);
    expectNoBrokenEntry(cacheDir, TARGET);
    expect(existsSync(join(cacheDir, 'specdec', 'brown-target', 'onnx'))).toBe(false);
  });

  it('a cancel stops the download and keeps nothing partial', async () => {
    const cacheDir = freshCache();
    const controller = new AbortController();
    hub.throttleBytesPerS = 4e6;
    try {
      const err = await failure(
        resolveModels(
          [pair[0]!],
          options(cacheDir, {
            signal: controller.signal,
            onProgress: (p) => {
              if (p.loadedBytes > 1e6) controller.abort();
            },
          }),
        ),
      );
      expect(err.code).toBe('CANCELLED');
      expectNoBrokenEntry(cacheDir, TARGET);
      expect(existsSync(join(cacheDir, 'specdec', 'brown-target', 'onnx', 'model.onnx'))).toBe(
        false,
      );
    } finally {
      hub.throttleBytesPerS = null;
    }
  });
});

describe('specdec sweep with Hub models', () => {
  const specdec = (args: string[], command = 'sweep') => run([command, ...args]);
  const cacheDir = freshCache();
  const small = ['--max-new-tokens', '8', '--k', '2', '--warmup', '0', '--json'];

  it('downloads repo ids given as --target/--draft, then runs from the cache offline', async () => {
    const hubArgs = ['--target', TARGET, '--draft', DRAFT, '--cache-dir', cacheDir];
    const first = await specdec([...hubArgs, '--hub-host', hub.url, ...small]);
    expect(first.code).toBe(0);
    const doc = JSON.parse(first.stdout) as {
      config: { target: string; draft: string };
      runs: Array<{ identical: boolean; targetProvider: string }>;
    };
    expect(doc.config).toMatchObject({ target: TARGET, draft: DRAFT });
    expect(doc.runs.every((r) => r.identical && r.targetProvider === 'cpu')).toBe(true);
    expect(first.stderr).toMatch(/Downloading .*100%/);
    // time left in words (cli-progress' own {eta} token would print bare seconds)
    expect(first.stderr).toMatch(/\| less than 1 s left \|/);

    const before = hub.requests.length;
    const offline = await specdec([
      ...hubArgs,
      '--offline',
      '--hub-host',
      'http://127.0.0.1:1/',
      ...small,
    ]);
    expect(offline.code).toBe(0);
    expect(hub.requests.length).toBe(before);
  });

  it.each(['fp16', 'q8'] as const)(
    '--dtype %s fetches that variant of a repo and runs it (the CSV names the dtype)',
    async (dtype) => {
      const csv = join(freshCache(), 'runs.csv');
      const r = await specdec([
        '--target',
        'specdec/gpt2-tiny',
        '--draft',
        MICRO_A,
        '--dtype',
        dtype,
        '--cache-dir',
        freshCache(),
        '--hub-host',
        hub.url,
        '--repeats',
        '1',
        '--csv',
        csv,
        ...small,
      ]);
      expect(r.code, r.stderr).toBe(0);
      const file = dtype === 'fp16' ? 'model_fp16.onnx' : 'model_quantized.onnx';
      expect(
        bodyRequests().some((u) => u.includes(`specdec/gpt2-tiny/resolve/main/onnx/${file}`)),
      ).toBe(true);
      const [head, first] = readFileSync(csv, 'utf8').split('\n');
      const cols = head!.split(',');
      expect(first!.split(',')[cols.indexOf('targetDtype')]).toBe(dtype);
    },
  );

  it('--pair seed asks for gpt2 and gpt2-medium, and says what to do when they are not cached', async () => {
    const r = await specdec(['--pair', 'seed', '--offline', '--cache-dir', freshCache(), ...small]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Xenova\/gpt2-medium \(fp32\) is not in the download cache/);
    const both = await specdec(['--pair', 'seed', '--target', TARGET, ...small]);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/--pair.*cannot be used with.*--target/);
  });

  it('--pair seed fetches gpt2 and gpt2-medium from the Hub, and `specdec models` lists them as cached', async () => {
    const seedCache = freshCache();
    const r = await specdec([
      '--pair',
      'seed',
      '--cache-dir',
      seedCache,
      '--hub-host',
      hub.url,
      ...small,
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { config: { target: string; draft: string } };
    expect(doc.config).toMatchObject({ target: 'Xenova/gpt2-medium', draft: 'Xenova/gpt2' });
    const models = await specdec(['--cache-dir', seedCache], 'models');
    expect(models.code).toBe(0);
    const line = (name: string) =>
      models.stdout.split('\n').find((l) => l.startsWith(`│ ${name} `));
    expect(line('gpt2')).toMatch(/│ fp32\s+│$/);
    expect(line('gpt2-medium')).toMatch(/│ fp32\s+│$/);
    expect(line('gpt2-large')).toMatch(/│ -\s+│$/);
  });
});
