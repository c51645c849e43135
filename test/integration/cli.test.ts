/** `specdec sweep` end to end: JSON and CSV output, and one clear line for each bad argument. */
import { mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import {
  cpuThreadOptions,
  cpuThreadsFor,
  physicalCores,
  resolveThreads,
} from '../../src/core/model/cpuThreads';
import { providerUnavailable } from '../../src/core/model/executionProvider';
import { shortReason } from '../../src/core/model/providerProbe';
import { RUN_CSV_COLUMNS } from '../../src/results/runsCsv';
import { expectedSpeedup, expectedSpeedupMeasuredCost } from '../../src/results/theory';
import { MICRO_A, MICRO_B, PAIR_TARGET, copyFolder, specdec } from '../support/helpers';

const micro = ['--target', MICRO_A, '--draft', MICRO_B];

describe('specdec sweep', () => {
  it('--json prints one JSON document with every run, and --csv writes one row per run', async () => {
    const csv = join(mkdtempSync(join(tmpdir(), 'specdec-')), 'out.csv');
    const r = await specdec([
      'sweep',
      ...micro,
      '--k',
      '1,3',
      '--max-new-tokens',
      '12',
      '--repeats',
      '2',
      '--json',
      '--csv',
      csv,
      '--no-kv-cache',
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      config: { ks: number[] };
      runs: Array<Record<string, unknown>>;
    };
    expect(doc.config.ks).toEqual([1, 3]);
    // per repeat: baseline, baseline without cache, K=1, K=3
    expect(doc.runs.map((x) => `${x.mode}:${x.k}:${x.repeat}`)).toEqual([
      'baseline:null:0',
      'baseline-no-cache:null:0',
      'speculative:1:0',
      'speculative:3:0',
      'baseline:null:1',
      'baseline-no-cache:null:1',
      'speculative:1:1',
      'speculative:3:1',
    ]);
    for (const x of doc.runs) {
      for (const key of [
        'timeS',
        'newTokens',
        'targetPasses',
        'draftPasses',
        'verificationSteps',
        'draftedTokens',
        'acceptedTokens',
        'acceptanceRate',
        'tokensPerTargetPass',
        'speedup',
        'identical',
        'stopReason',
        'outputText',
        'outputTokenIds',
      ]) {
        expect(x).toHaveProperty(key);
      }
      expect(x.identical).toBe(true);
      expect(x.newTokens).toBe(12);
      expect((x.outputTokenIds as number[]).length).toBe(12);
    }
    const rows = parse(readFileSync(csv, 'utf8'), { columns: true }) as Array<
      Record<string, string>
    >;
    expect(rows).toHaveLength(8);
    // one schema with the app's summary export: a row says what it measured
    const header = readFileSync(csv, 'utf8').split('\n')[0]!;
    expect(header).toBe(RUN_CSV_COLUMNS.join(','));
    expect(header).toMatch(
      /^runId,promptIndex,prompt,target,draft,targetDtype,draftDtype,targetProvider,draftProvider,mode,k,policy,drafter,repeat,/,
    );
    expect(rows[0]).toMatchObject({
      prompt: 'Artificial intelligence is rapidly transforming our world by',
      target: 'models/micro-a',
      draft: 'models/micro-b',
      targetDtype: 'fp32',
    });
    expect(rows[2]!.mode).toBe('speculative');
    expect(rows[2]!.k).toBe('1');
    expect(Number(rows[2]!.targetPasses)).toBe(doc.runs[2]!.targetPasses);
    expect(rows[2]!.outputText).toBe(doc.runs[2]!.outputText);
  });

  it('puts theory beside measurement: alpha from K=1, a measured c, predicted speedup per run', async () => {
    const r = await specdec([
      'sweep',
      ...micro,
      '--k',
      '1,4',
      '--max-new-tokens',
      '12',
      '--json',
      '--ep',
      'cpu',
    ]);
    const doc = JSON.parse(r.stdout) as {
      theory: { alpha: number; c: number; bestK: number; verifyCost: Record<string, number> };
      best: { label: string; k: number; speedup: number; tiedWith: string[] };
      runs: Array<{
        mode: string;
        k: number | null;
        acceptanceRate: number | null;
        predictedSpeedup: number | null;
        predictedSpeedupMeasuredCost: number | null;
      }>;
    };
    // the verification cost of each K swept, and the prediction that uses it
    expect(Object.keys(doc.theory.verifyCost)).toEqual(['1', '4']);
    for (const run of doc.runs.filter((x) => x.mode === 'speculative')) {
      const v = doc.theory.verifyCost[String(run.k)]!;
      expect(v).toBeGreaterThan(0.5);
      expect(run.predictedSpeedupMeasuredCost).toBeCloseTo(
        expectedSpeedupMeasuredCost(doc.theory.alpha, doc.theory.c, run.k!, v),
        12,
      );
    }
    expect(['K=1 model / fixed', 'K=4 model / fixed']).toContain(doc.best.label);
    expect(doc.best.tiedWith).toEqual(expect.any(Array));
    const k1 = doc.runs.find((x) => x.k === 1)!;
    expect(doc.theory.alpha).toBe(k1.acceptanceRate);
    expect(doc.theory.c).toBeGreaterThan(0);
    for (const run of doc.runs) {
      if (run.mode !== 'speculative') expect(run.predictedSpeedup).toBeNull();
      else
        expect(run.predictedSpeedup).toBeCloseTo(
          expectedSpeedup(doc.theory.alpha, doc.theory.c, run.k!),
          12,
        );
    }
  });

  it("prints the seed's summary table", async () => {
    const r = await specdec(['sweep', ...micro, '--k', '2', '--max-new-tokens', '8']);
    expect(r.code).toBe(0);
    for (const col of [
      'Time (s)',
      'Target Passes',
      'Avg Accepted Tokens per Verification',
      'Output Text Sample',
      'Acceptance Rate',
      'Speedup',
      'Identical',
    ]) {
      expect(r.stdout.replace(/\s+/g, ' ')).toContain(col.split(' ')[0]);
    }
    expect(r.stdout).toContain('Baseline (greedy, KV cache)');
  });

  it('names the execution provider in use, in the JSON config and in every run', async () => {
    const r = await specdec([
      'sweep',
      ...micro,
      '--k',
      '2',
      '--max-new-tokens',
      '4',
      '--json',
      '--ep',
      'cpu',
    ]);
    const doc = JSON.parse(r.stdout) as {
      config: { executionProviders: unknown };
      runs: Array<{ executionProviders: unknown }>;
    };
    expect(doc.config.executionProviders).toEqual({ target: 'cpu', draft: 'cpu' });
    for (const run of doc.runs)
      expect(run.executionProviders).toEqual({ target: 'cpu', draft: 'cpu' });
  });

  it('--threads sets the CPU threads per model; by default a small model runs on one', async () => {
    const args = ['sweep', ...micro, '--k', '2', '--max-new-tokens', '4', '--ep', 'cpu'];
    const two = await specdec([...args, '--threads', '2']);
    expect(two.code).toBe(0);
    expect(two.stdout.split('\n').slice(0, 2)).toEqual([
      expect.stringMatching(/^target on cpu, fused graph, 2 threads$/),
      expect.stringMatching(/^draft on cpu, fused graph, 2 threads$/),
    ]);
    const json = await specdec([...args, '--json']);
    const doc = JSON.parse(json.stdout) as { config: { threads: unknown } };
    expect(doc.config.threads).toEqual({ target: 1, draft: 1 });
    // 0 asks for a thread per physical core, and the report and the JSON name the count
    const cores = physicalCores();
    const perCore = await specdec([...args, '--threads', '0', '--json']);
    const perCoreDoc = JSON.parse(perCore.stdout) as { config: { threads: unknown } };
    expect(perCoreDoc.config.threads).toEqual({ target: cores, draft: cores });
    const bad = await specdec([...args, '--threads', '-1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      '--threads must be a whole number from 0 (one per physical core) to 256 (got -1).',
    );
  });

  it('a model file over 128 MB gets a thread per core by default, a smaller one a single thread', () => {
    const dir = mkdtempSync(join(tmpdir(), 'specdec-threads-'));
    const big = join(dir, 'big.onnx');
    writeFileSync(big, '');
    truncateSync(big, 129 * 2 ** 20); // sparse: no disk used
    expect(cpuThreadsFor(big)).toBe(0);
    expect(cpuThreadsFor(join(MICRO_A, 'onnx', 'model.onnx'))).toBe(1);
    // a small graph whose weights are external data counts them
    const graph = join(dir, 'model.onnx');
    writeFileSync(graph, 'graph');
    writeFileSync(`${graph}_data`, '');
    truncateSync(`${graph}_data`, 200 * 2 ** 20);
    expect(cpuThreadsFor(graph)).toBe(0);
  });

  it('a thread per core is a count of the physical cores this process may use', () => {
    const cores = physicalCores();
    expect(cores).toBeGreaterThanOrEqual(1);
    expect(cores).toBeLessThanOrEqual(availableParallelism());
    expect(resolveThreads(0)).toBe(cores);
    expect(resolveThreads(3)).toBe(3);
    // a pool of more than half the cores does not spin after its pass: the other model's needs them
    const noSpin = { extra: { session: { intra_op: { allow_spinning: '0' } } } };
    expect(cpuThreadOptions(2, 2)).toEqual({
      intraOpNumThreads: 2,
      interOpNumThreads: 1,
      ...noSpin,
    });
    expect(cpuThreadOptions(16, 16)).toMatchObject(noSpin);
    expect(cpuThreadOptions(9, 16)).toMatchObject(noSpin);
    expect(cpuThreadOptions(8, 16)).toEqual({ intraOpNumThreads: 8, interOpNumThreads: 1 });
    expect(cpuThreadOptions(1, 1)).toEqual({ intraOpNumThreads: 1, interOpNumThreads: 1 });
    expect(cpuThreadOptions(1)).toEqual({ intraOpNumThreads: 1, interOpNumThreads: 1 });
  });

  it('says why an unavailable execution provider cannot be used', async (ctx) => {
    const reason = providerUnavailable('cuda');
    if (reason === null) return ctx.skip('CUDA is available on this machine');
    const r = await specdec([
      'sweep',
      ...micro,
      '--k',
      '2',
      '--max-new-tokens',
      '4',
      '--ep',
      'cuda',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([
      `specdec: error: The cuda execution provider is not available here (${reason}). Choose auto or cpu instead; the README's GPU set-up lists what cuda needs. (set with --ep, --target-ep or --draft-ep)`,
    ]);
    const auto = await specdec([
      'sweep',
      ...micro,
      '--k',
      '2',
      '--max-new-tokens',
      '4',
      '--ep',
      'auto',
    ]);
    expect(auto.code).toBe(0);
    expect(auto.stderr).toBe('');
    expect(auto.stdout.split('\n')[0]).toMatch(/^target on (cpu|webgpu) \(/);
    expect(auto.stdout.split('\n')[0]).toContain(`cuda: ${shortReason('cuda', reason)}`);
  });

  const corrupt = (() => {
    const dir = copyFolder(MICRO_A);
    const onnx = join(dir, 'onnx', 'model.onnx');
    truncateSync(onnx, Math.floor(statSync(onnx).size / 2));
    return dir;
  })();

  const swapped = (() => {
    // Same size, but two tokens trade ids: the pair check must name the first difference.
    const dir = copyFolder(MICRO_B);
    const path = join(dir, 'tokenizer.json');
    const tok = JSON.parse(readFileSync(path, 'utf8')) as {
      model: { vocab: Record<string, number> };
    };
    const v = tok.model.vocab;
    [v['Ġthe'], v['and']] = [v['and']!, v['Ġthe']!];
    writeFileSync(path, JSON.stringify(tok));
    return dir;
  })();

  it.each([
    ['K below 1', ['--k', '0'], /K \(draft length\) must be a whole number from 1 to 64/],
    ['K above 64', ['--k', '1,65'], /from 1 to 64 \(got 65\)/],
    ['K not a number', ['--k', 'two'], /K values must be whole numbers/],
    [
      'max new tokens below 1',
      ['--max-new-tokens', '0'],
      /--max-new-tokens must be a whole number from 1 to 100000 \(got 0\)\.$/,
    ],
    [
      'max new tokens past the context',
      ['--max-new-tokens', '60'],
      /past the context: the prompt is \d+ tokens and the models hold 64/,
    ],
    [
      'a missing model folder',
      ['--target', '/nonexistent/model'],
      /Model folder not found: \/nonexistent\/model/,
    ],
    [
      'a corrupt ONNX file',
      ['--target', corrupt],
      /Could not load .*model\.onnx.*truncated or corrupt/,
    ],
    [
      'a pair of different sizes',
      ['--target', PAIR_TARGET],
      /different vocabularies \(8192 vs 557 tokens\): token ".+" is id \d+ in the target but (missing|id \d+) in the draft \(the first id where they differ\)/,
    ],
    [
      'a pair with different token ids',
      ['--draft', swapped],
      /different vocabularies: token "(Ġthe|and)" is id \d+ in the target but id \d+ in the draft/,
    ],
    [
      'an empty prompt',
      ['--prompt', '  '],
      /The prompt is empty\. Give a prompt\. \(set with --prompt\)$/,
    ],
    [
      'a top-p out of range',
      ['--temperature', '0.8', '--top-p', '1.5'],
      /--top-p must be a number above 0 and at most 1 \(got 1\.5\)\.$/,
    ],
    // the ranges every surface shares (src/shared/limits.ts): the protocol and the app's form
    // refuse the same values
    [
      'repeats past MAX_REPEATS',
      ['--repeats', '1000'],
      /--repeats must be a whole number from 1 to 20 \(got 1000\)\.$/,
    ],
    [
      'warm-up past MAX_WARMUP',
      ['--warmup', '1000000'],
      /--warmup must be a whole number from 0 to 20 \(got 1000000\)\.$/,
    ],
    [
      'a seed past 32 bits',
      ['--temperature', '1', '--seed', '4294967296'],
      /--seed must be a whole number from 0 to 4294967295 \(got 4294967296\)\.$/,
    ],
    [
      'a seed of 1e38',
      ['--temperature', '1', '--seed', '1e38'],
      /--seed must be a whole number from 0 to 4294967295 \(got 1e38\)\.$/,
    ],
    [
      'a negative seed',
      ['--temperature', '1', '--seed', '-1'],
      /--seed must be a whole number from 0 to 4294967295 \(got -1\)\.$/,
    ],
    [
      'an empty temperature (never greedy by accident)',
      ['--temperature', ''],
      /--temperature must be a number from 0 \(greedy\) to 10 \(got ""\)\.$/,
    ],
    [
      'a temperature that is not a number',
      ['--temperature', 'hot'],
      /--temperature must be a number from 0 \(greedy\) to 10 \(got "hot"\)\.$/,
    ],
    [
      'top-k past MAX_TOP_K',
      ['--top-k', '1000001'],
      /--top-k must be a whole number from 0 \(all\) to 1000000 \(got 1000001\)\.$/,
    ],
    [
      'an empty top-p',
      ['--top-p', ' '],
      /--top-p must be a number above 0 and at most 1 \(got " "\)\.$/,
    ],
    [
      'a no-repeat n-gram past its bound',
      ['--no-repeat-ngram', '21'],
      /--no-repeat-ngram must be a whole number from 0 \(off\) to 20 \(got 21\)\.$/,
    ],
    [
      'p-min outside (0, 1)',
      ['--policy', 'confidence', '--p-min', '1.5'],
      /--p-min must be a number between 0 and 1/,
    ],
  ])('exits 2 with one clear line for %s', async (_name, args, message) => {
    const r = await specdec(['sweep', ...micro, '--max-new-tokens', '5', ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^specdec: error: /);
    expect(lines[0]).toMatch(message);
  });
});
