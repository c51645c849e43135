/**
 * A stock export takes a token tree's mask (treeMaskGraph.ts): the families' Hub layouts (weights
 * in external data, fp32, q4 with MatMulNBits, fp16 with a float16 cache, bnb4, optimum's merged
 * decoder) and a GPT-2 export run as it is. One pass over a tree gives each node the logits the
 * export gives its path on its own; exports whose attention cannot take the bias, or whose
 * activations are quantized over each pass (int8, uint8), are refused with the reason.
 */
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineRun } from '../../src/core/decoding/baseline';
import { SpeculativeRun } from '../../src/core/decoding/speculative';
import { TreeRun } from '../../src/core/decoding/tree/treeRun';
import { OnnxCausalLM } from '../../src/core/model/causalLm';
import { fuseGpt2 } from '../../src/core/model/fusedGpt2';
import { readModelFolder } from '../../src/core/model/modelFolder';
import { loadPair, releasePair, type ModelPair } from '../../src/core/model/pair';
import { NotMaskable, withTreeBias } from '../../src/core/model/treeMaskGraph';
import { MICRO_A, MICRO_B, ROOT, maxAbsDiff } from '../support/helpers';

const LAYOUTS = join(ROOT, 'test', 'fixtures', 'hub-layouts');
const MASKED = -1e9;

/**
 * The tree after a prompt of `prompt` tokens: two siblings at depth 1 (nodes 0, 1), a child of the
 * second at depth 2 (node 2), a child of that at depth 3 (node 3); each node's parent.
 */
const PARENTS = [-1, -1, 1, 2];
const depthOf = (node: number): number => (node < 0 ? 0 : 1 + depthOf(PARENTS[node]!));
const pathOf = (node: number): number[] => (node < 0 ? [] : [...pathOf(PARENTS[node]!), node]);

/** the bias over [prompt + nodes] from an empty cache: causal, and each node sees its ancestors */
function bias(prompt: number): Float32Array {
  const n = prompt + PARENTS.length;
  const out = new Float32Array(n * n);
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++) {
      const node = r - prompt;
      const other = c - prompt;
      const sees = c <= r && (other < 0 || node < 0 || pathOf(node).includes(other));
      if (!sees) out[r * n + c] = MASKED;
    }
  return out;
}

/** one tree pass's node logits against fresh export passes over each node's path */
async function treeAgainstPaths(lm: OnnxCausalLM): Promise<{ diff: number; scale: number }> {
  const prompt = [3, 14, 15, 92, 65];
  const nodeTokens = [35, 89, 79, 32];
  const tokens = [...prompt, ...nodeTokens];
  const positions = [
    ...prompt.map((_, i) => i),
    ...PARENTS.map((_, i) => prompt.length - 1 + depthOf(i)),
  ];
  lm.reset();
  const tree = await lm.forwardTree(tokens, positions, bias(prompt.length));
  const rows = PARENTS.map((_, node) => tree.row(prompt.length + node).slice());
  let diff = 0;
  let scale = 1;
  for (const [node, row] of rows.entries()) {
    lm.reset();
    const own = await lm.forward([...prompt, ...pathOf(node).map((i) => nodeTokens[i]!)]);
    const expected = own.row(own.rows - 1);
    diff = Math.max(diff, maxAbsDiff(row, expected));
    for (const x of expected) scale = Math.max(scale, Math.abs(x));
  }
  lm.reset();
  return { diff, scale };
}

describe.each(['llama3.2-1b', 'qwen2.5-0.5b', 'phi3-mini-4k'])('the %s Hub layout', (name) => {
  it.each([
    // float32: each node's logits are its path's to float32 rounding
    ['onnx/model.onnx', 1e-4],
    // 4-bit products at int8 activations (the default), in the chain's session and the tree's
    ['onnx/model_q4.onnx', 1e-4],
    // float16 (a float16 cache): the bias is cast to the scores' type
    ['onnx/model_fp16.onnx', 5e-3],
  ])('%s verifies a tree in one pass: each node gets its own path', async (file, tolerance) => {
    const lm = await OnnxCausalLM.open(readModelFolder(join(LAYOUTS, `${name}-tiny`), file));
    try {
      expect(lm.graph).toBe('exported');
      expect(lm.treeMaskNote).toBeNull();
      const { diff, scale } = await treeAgainstPaths(lm);
      console.info(`${name} ${file}: diff ${diff} scale ${scale}`);
      expect(diff).toBeLessThanOrEqual(tolerance * scale);
    } finally {
      await lm.release();
    }
  });
});

describe("the Llama layout's other files", () => {
  const dir = join(ROOT, 'test', 'fixtures', 'hub-layouts-extra', 'llama3.2-1b-tiny');

  it.each([
    // optimum's merged decoder: the bias reaches both branches of its If
    ['onnx/decoder_model_merged.onnx', 1e-4],
    // 4-bit weights in MatMulBnb4
    ['onnx/model_bnb4.onnx', 1e-4],
  ])('%s verifies a tree in one pass: each node gets its own path', async (file, tolerance) => {
    const lm = await OnnxCausalLM.open(readModelFolder(dir, file));
    try {
      expect(lm.treeMaskNote).toBeNull();
      const { diff, scale } = await treeAgainstPaths(lm);
      expect(diff).toBeLessThanOrEqual(tolerance * scale);
    } finally {
      await lm.release();
    }
  });

  it.each(['onnx/model_int8.onnx', 'onnx/model_uint8.onnx'])(
    '%s quantizes activations over each pass: no mask, with the reason',
    async (file) => {
      const lm = await OnnxCausalLM.open(readModelFolder(dir, file));
      try {
        expect(lm.takesTreeMask).toBe(false);
        expect(lm.treeMaskNote).toMatch(/quantized over each whole pass \(DynamicQuantizeLinear\)/);
      } finally {
        await lm.release();
      }
    },
  );
});

describe('a GPT-2 export run as it is (--graph exported)', () => {
  let pair: ModelPair;
  beforeAll(async () => {
    const exported = { graph: 'exported' as const };
    pair = await loadPair(MICRO_A, MICRO_B, { target: exported, draft: exported });
  });
  afterAll(() => releasePair(pair));

  it('takes the mask in its own attention: lossless, one pass per tree, as many as rows', async () => {
    const lm = pair.target.lm;
    expect(lm.graph).toBe('exported');
    const { diff, scale } = await treeAgainstPaths(lm);
    expect(diff).toBeLessThanOrEqual(1e-4 * scale);
    const prompt = 'The old man said';
    const maxNewTokens = 30;
    const base = await new BaselineRun(pair, { prompt, maxNewTokens }).runToEnd();
    for (const shape of [
      [3, 2, 1],
      [2, 2, 2, 2],
      [4, 1, 1],
    ]) {
      const chain = await new SpeculativeRun(pair, shape.length, {
        prompt,
        maxNewTokens,
      }).runToEnd();
      const [mask, rows] = [
        await new TreeRun(pair, { prompt, maxNewTokens, shape, verify: 'mask' }).runToEnd(),
        await new TreeRun(pair, { prompt, maxNewTokens, shape, verify: 'rows' }).runToEnd(),
      ];
      expect(mask.tree?.verify).toBe('mask');
      expect(mask.outputTokenIds, `${shape}`).toEqual(base.outputTokenIds);
      expect(rows.outputTokenIds, `${shape}`).toEqual(base.outputTokenIds);
      expect(mask.metrics.targetPasses).toBe(mask.kPerStep.length);
      expect(mask.metrics.targetPasses).toBe(rows.metrics.targetPasses);
      expect(mask.metrics.targetPasses).toBeLessThanOrEqual(chain.metrics.targetPasses);
    }
  });
});

describe('exports that cannot take the mask', () => {
  const folder = readModelFolder(MICRO_A);
  const bytes = readFileSync(folder.onnxPath);

  it('refuses a graph whose attention is a fused operator, naming it', () => {
    const fused = fuseGpt2(bytes, folder.config);
    expect(() => withTreeBias(fused, folder.config.nLayer, 1)).toThrow(NotMaskable);
    expect(() => withTreeBias(fused, folder.config.nLayer, 1)).toThrow(/fused MultiHeadAttention/);
  });

  it('refuses a graph whose Softmax count is not one per layer', () => {
    const layers = folder.config.nLayer + 1;
    expect(() => withTreeBias(bytes, layers, 1)).toThrow(/Softmax nodes where/);
  });

  it('a tree on such an export verifies as rows under auto; mask is refused with the reason', async () => {
    // the micro model's fused rebuild written as a folder's export: MultiHeadAttention, no Softmax
    const dir = mkdtempSync(join(tmpdir(), 'specdec-fused-export-'));
    try {
      for (const f of readdirSync(MICRO_A))
        if (f !== 'onnx') cpSync(join(MICRO_A, f), join(dir, f));
      mkdirSync(join(dir, 'onnx'));
      writeFileSync(join(dir, 'onnx', 'model.onnx'), fuseGpt2(bytes, folder.config));
      const exported = { graph: 'exported' as const };
      const pair = await loadPair(dir, MICRO_B, { target: exported });
      try {
        expect(pair.target.lm.treeMaskNote).toMatch(/fused MultiHeadAttention/);
        const prompt = 'The old man said';
        const auto = await new TreeRun(pair, { prompt, maxNewTokens: 4, shape: [2, 1] }).runToEnd();
        expect(auto.tree?.verify).toBe('rows');
        expect(
          () => new TreeRun(pair, { prompt, maxNewTokens: 4, shape: [2, 1], verify: 'mask' }),
        ).toThrow(/fused MultiHeadAttention.*--tree-verify rows/);
      } finally {
        await releasePair(pair);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bytes that are no model', () => {
    expect(() => withTreeBias(Uint8Array.from([0xff, 0xff, 0xff]), 2, 1)).toThrow(NotMaskable);
  });
});
