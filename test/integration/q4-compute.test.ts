/**
 * `--q4-compute` (src/core/model/matmulNBits.ts): the CPU provider runs a 4-bit file's
 * MatMulNBits products with int8 activations (accuracy_level 4, set at load where the file sets
 * none) or as the file has them. On the committed tiny Hub layouts: the rewrite touches only
 * that attribute (the weights stay in external data), the logits move by a bounded amount, greedy
 * speculation stays lossless within the mode, and the choice shows in the JSON.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxCausalLM } from '../../src/core/model/causalLm';
import {
  INT8_ACCURACY_LEVEL,
  computeOf,
  prepareGraph,
  rewriteAccuracyLevels,
  sessionSource,
} from '../../src/core/model/matmulNBits';
import { readModelFolder } from '../../src/core/model/modelFolder';
import { ROOT, maxAbsDiff, specdec } from '../support/helpers';
import { startHubServer, type HubServer } from '../support/hubServer';

const LAYOUTS = join(ROOT, 'test', 'fixtures', 'hub-layouts');
const FAMILIES = join(ROOT, 'test', 'fixtures', 'families');
const LAYOUTS_LLAMA = join(LAYOUTS, 'llama3.2-1b-tiny');
const MODELS = ['llama3.2-1b', 'qwen2.5-0.5b', 'phi3-mini-4k'] as const;
const FOUR_BIT = ['onnx/model_q4.onnx', 'onnx/model_q4f16.onnx'] as const;
/**
 * How far int8 activations move the logits from the float32 products, relative to the largest
 * logit: measured 0.017 to 0.028 on the q4 files and up to 0.044 on q4f16 (float16 activations
 * rounded again), on these tiny random models' peaked logits. A wrong weight or a lost scale
 * moves them by the logits' own size.
 */
const INT8_BOUND = 0.06;

const inputIdsOf = (name: string): number[] =>
  (
    JSON.parse(readFileSync(join(LAYOUTS, `${name}-tiny`, 'reference-logits.json'), 'utf8')) as {
      inputIds: number[];
    }
  ).inputIds;

describe('the MatMulNBits rewrite', () => {
  it('changes only accuracy_level: the file read back unchanged is byte-identical', () => {
    const path = join(LAYOUTS, 'llama3.2-1b-tiny', 'onnx', 'model_q4.onnx');
    const file = readFileSync(path);
    const counted = rewriteAccuracyLevels(file, false);
    expect(Buffer.compare(Buffer.from(counted.bytes), file)).toBe(0);
    expect(counted.summary.rewritten).toBe(0);
    // the Hub's q4 files (onnxruntime's quantizer, as transformers.js calls it) set no level
    expect(counted.summary.levels).toEqual({ 0: counted.summary.nodes });
    expect(counted.summary.nodes).toBeGreaterThan(0);

    const int8 = rewriteAccuracyLevels(file, true);
    expect(int8.summary).toEqual({
      nodes: counted.summary.nodes,
      rewritten: counted.summary.nodes,
      levels: { [INT8_ACCURACY_LEVEL]: counted.summary.nodes },
    });
    // each node grew by the one attribute; a second pass finds every level already set
    expect(int8.bytes.length).toBeGreaterThan(file.length);
    const again = rewriteAccuracyLevels(int8.bytes, true);
    expect(again.summary.rewritten).toBe(0);
    expect(Buffer.compare(Buffer.from(again.bytes), Buffer.from(int8.bytes))).toBe(0);
    // what a session opens: the same bytes, assembled from the file's ranges without reading it whole
    const prepared = prepareGraph(path, true, 'int8');
    expect(prepared.ran).toBe('int8');
    expect(Buffer.compare(Buffer.from(prepared.bytes!), Buffer.from(int8.bytes))).toBe(0);
    // a big graph (weights inline) goes through a temporary file instead, removed once opened
    const spilled = sessionSource(path, true, 'int8', 0);
    expect(spilled.source).not.toBe(path);
    const spilledPath = spilled.source as string;
    expect(Buffer.compare(readFileSync(spilledPath), Buffer.from(int8.bytes))).toBe(0);
    expect(spilled.externalDataDir).toBe(join(LAYOUTS, 'llama3.2-1b-tiny', 'onnx'));
    spilled.dispose();
    expect(existsSync(spilledPath)).toBe(false);
    // a temporary folder it cannot write is said as such, with what to do, not as a broken file
    const tmp = process.env.TMPDIR;
    process.env.TMPDIR = join(ROOT, 'no-such-folder', 'tmp');
    try {
      expect(() => sessionSource(path, true, 'int8', 0)).toThrow(
        /Could not write model_q4\.onnx with int8 activations to a temporary file in .*no-such-folder.*q4 compute: exported/,
      );
    } finally {
      if (tmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmp;
    }
  });

  it('names what the CPU computes in from the levels the nodes run at', () => {
    // onnxruntime's CPU kernel: level 4 int8 activations, every other level float32
    const of = (levels: Record<number, number>) =>
      computeOf({ nodes: Object.values(levels).reduce((a, b) => a + b, 0), rewritten: 0, levels });
    expect(of({ 4: 3 })).toBe('int8');
    expect(of({ 0: 2, 1: 1, 3: 1 })).toBe('float');
    expect(of({ 0: 1, 4: 2 })).toBe('mixed');
    expect(of({})).toBeNull();
  });

  it('leaves a float file alone and gives other providers the file as it is', () => {
    const dir = join(LAYOUTS, 'qwen2.5-0.5b-tiny', 'onnx');
    const fp32 = prepareGraph(join(dir, 'model.onnx'), true, 'int8');
    expect(fp32).toMatchObject({ bytes: null, ran: null, summary: { nodes: 0 } });
    const gpu = prepareGraph(join(dir, 'model_q4.onnx'), false, 'int8');
    expect(gpu).toMatchObject({ bytes: null, ran: 'exported', summary: { rewritten: 0 } });
    const asExported = prepareGraph(join(dir, 'model_q4.onnx'), true, 'exported');
    expect(asExported).toMatchObject({ bytes: null, ran: 'float' });
  });
});

describe.each(MODELS)('%s-tiny with int8 activations', (name) => {
  const dir = join(LAYOUTS, `${name}-tiny`);

  it.each(FOUR_BIT)(
    '%s: logits within the stated bound of the float32 products, and moved by them',
    async (file) => {
      const ids = inputIdsOf(name);
      const run = async (q4Compute: 'int8' | 'exported') => {
        // opened from bytes, the graph still finds its weights in model_q4.onnx_data beside it
        const lm = await OnnxCausalLM.open(readModelFolder(dir, file), { q4Compute });
        try {
          return { ran: lm.q4Compute, logits: Float32Array.from((await lm.forward(ids)).data) };
        } finally {
          await lm.release();
        }
      };
      const float = await run('exported');
      const int8 = await run('int8');
      expect(float.ran).toBe('float');
      expect(int8.ran).toBe('int8');
      const scale = Math.max(1, ...float.logits.map(Math.abs));
      const diff = maxAbsDiff(int8.logits, float.logits);
      expect(diff).toBeLessThan(INT8_BOUND * scale);
      // the level took effect: int8 activations are not the float32 products
      expect(diff).toBeGreaterThan(1e-3);
    },
  );
});

describe('specdec sweep --q4-compute', () => {
  let hub: HubServer;
  beforeAll(async () => {
    hub = await startHubServer({ 'specdec/llama3.2-1b': join(LAYOUTS, 'llama3.2-1b-tiny') });
  });
  afterAll(async () => hub?.close());

  const sweep = (extra: string[]) =>
    specdec([
      'sweep',
      '--target',
      'specdec/llama3.2-1b',
      '--draft',
      join(FAMILIES, 'llama-tiny-draft'),
      '--dtype',
      'q4',
      '--cache-dir',
      mkdtempSync(join(tmpdir(), 'specdec-q4c-')),
      '--hub-host',
      hub.url,
      '--chat-template',
      'off',
      '--max-new-tokens',
      '24',
      '--repeats',
      '1',
      '--warmup',
      '0',
      '--json',
      ...extra,
    ]);

  interface Doc {
    config: {
      q4Compute: { target: string | null; draft: string | null };
      q4ComputeChoice: string;
    };
    runs: Array<{ identical: boolean; k: number | null; mode: string; accepted: number }>;
  }

  it.each([
    ['int8', 'int8'],
    ['exported', 'float'],
  ])(
    'with %s, greedy speculation gives the same text as its own baseline for K=1..4',
    async (choice, ran) => {
      const csv = join(mkdtempSync(join(tmpdir(), 'specdec-q4c-csv-')), 'runs.csv');
      const r = await sweep(['--k', '1,2,3,4', '--q4-compute', choice, '--csv', csv]);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as Doc;
      // the float32 draft has no MatMulNBits: null
      expect(doc.config.q4Compute).toEqual({ target: ran, draft: null });
      // every run's CSV row says what the products ran in; the float32 draft's cell is empty
      const rows = parse(readFileSync(csv, 'utf8'), { columns: true }) as Record<string, string>[];
      expect(rows).toHaveLength(doc.runs.length);
      for (const row of rows) expect([row.targetQ4Compute, row.draftQ4Compute]).toEqual([ran, '']);
      expect(doc.config.q4ComputeChoice).toBe(choice);
      const speculative = doc.runs.filter((run) => run.mode === 'speculative');
      expect(speculative.map((run) => run.k).sort()).toEqual([1, 2, 3, 4]);
      expect(doc.runs.every((run) => run.identical)).toBe(true);
    },
  );

  it('is exported by default (lossless), says so in the report, and refuses a value it does not know', async () => {
    const bad = await specdec(['sweep', '--q4-compute', 'fp8', '--offline']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--q4-compute.*fp8.*int8, exported/s);
    const report = join(mkdtempSync(join(tmpdir(), 'specdec-q4c-report-')), 'report.md');
    const r = await sweep(['--k', '2', '--report', report]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Doc).config.q4Compute.target).toBe('float');
    // the report names it beside the model; the float32 draft has no 4-bit products to name
    const markdown = readFileSync(report, 'utf8');
    expect(markdown).toMatch(/Target model: [^;\n]*\(4-bit products: float32\);/);
    expect(markdown).not.toMatch(/draft model: [^\n]*4-bit products/);
  });
});

describe('specdec bench --q4-compute', () => {
  // bench reads a folder's onnx/model.onnx: here the tiny Llama's q4 file under that name, its
  // external data beside it under the names the graph gives
  let folder: string;
  beforeAll(() => {
    folder = join(mkdtempSync(join(tmpdir(), 'specdec-q4-bench-')), 'llama3.2-1b-q4');
    cpSync(LAYOUTS_LLAMA, folder, { recursive: true });
    rmSync(join(folder, 'onnx', 'model.onnx'));
    renameSync(join(folder, 'onnx', 'model_q4.onnx'), join(folder, 'onnx', 'model.onnx'));
  });

  const bench = (extra: string[]) =>
    specdec([
      ...['bench', '--target', folder, '--draft', folder, '--ep', 'cpu'],
      ...['--tree', '2', '--k', '1', '--repeats', '1', '--max-new-tokens', '8', ...extra],
    ]);

  it.each([
    ['int8', 'with int8 activations'],
    ['exported', 'in float32 \\(as exported\\)'],
  ])('--q4-compute %s opens both models so and says so', async (choice, words) => {
    const r = await bench(['--q4-compute', choice]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^pair: .*target: 4-bit products ${words}, draft: 4-bit products ${words}`, 'm'),
    );
  });

  it('refuses a value it does not know, naming the two', async () => {
    const r = await bench(['--q4-compute', 'fp8']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--q4-compute.*fp8.*int8, exported/s);
  });
});
