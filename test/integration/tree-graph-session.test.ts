/**
 * Once its tree graph has opened and passed its check, a model runs every pass in it (a zero
 * tree_bias where no tree is given) and holds that one session: the session it opened with is
 * released. A zero bias adds exact zeros to the scores, so a chain's and the baseline's logits
 * and tokens through the tree graph are bit for bit the opened graph's (treeGraph.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineRun } from '../../src/core/decoding/baseline';
import { SpeculativeRun } from '../../src/core/decoding/speculative';
import { TreeRun } from '../../src/core/decoding/tree/treeRun';
import { OnnxCausalLM } from '../../src/core/model/causalLm';
import { argmax } from '../../src/core/model/argmax';
import { readModelFolder } from '../../src/core/model/modelFolder';
import { decodeGraph, FLOAT32 } from '../../src/core/model/onnxGraph';
import { writeTreeMaskFile } from '../../src/core/model/treeMaskFile';
import { withTreeBias } from '../../src/core/model/treeMaskGraph';
import { loadPair, releasePair, type ModelPair } from '../../src/core/model/pair';
import { MICRO_A, MICRO_B, ROOT } from '../support/helpers';

const LAYOUTS = join(ROOT, 'test', 'fixtures', 'hub-layouts');
const PROMPT = [3, 14, 15, 92, 65];

/**
 * What a baseline and a chain read from a model: a greedy decode's every logits row (the prompt's
 * pass, then one token a pass), and a 4-token chain pass's rows on top of the prompt.
 */
async function passes(lm: OnnxCausalLM): Promise<{ tokens: number[]; rows: Float32Array[] }> {
  const rows: Float32Array[] = [];
  const tokens: number[] = [];
  lm.reset();
  let logits = await lm.forward(PROMPT);
  for (let i = 0; i < 6; i++) {
    const row = logits.row(logits.rows - 1).slice();
    rows.push(row);
    tokens.push(argmax(row));
    logits = await lm.forward([tokens.at(-1)!]);
  }
  lm.reset();
  await lm.forward(PROMPT);
  const chain = await lm.forward(tokens.slice(0, 4));
  for (let r = 0; r < chain.rows; r++) rows.push(chain.row(r).slice());
  lm.reset();
  return { tokens, rows };
}

/** each row's values equal, bit for bit (Object.is: -0 and NaN too) */
function expectSameBits(a: Float32Array[], b: Float32Array[]): void {
  expect(b.length).toBe(a.length);
  for (const [r, row] of a.entries()) {
    const other = b[r]!;
    let differing = 0;
    for (let i = 0; i < row.length; i++) if (!Object.is(row[i], other[i])) differing++;
    expect(differing, `row ${r}`).toBe(0);
  }
}

describe.each(['llama3.2-1b', 'qwen2.5-0.5b', 'phi3-mini-4k'])('the %s tiny stand-in', (name) => {
  it.each(['onnx/model.onnx', 'onnx/model_q4.onnx', 'onnx/model_fp16.onnx'])(
    "%s: the tree graph becomes the one session, its chain and baseline logits bit for bit the export's",
    async (file) => {
      const folder = readModelFolder(join(LAYOUTS, `${name}-tiny`), file);
      const [exported, tree] = [await OnnxCausalLM.open(folder), await OnnxCausalLM.open(folder)];
      try {
        expect([tree.passGraph, tree.openSessions]).toEqual(['model', 1]);
        await tree.prepareTreeMask();
        expect([tree.passGraph, tree.openSessions]).toEqual(['tree', 1]);
        expect(exported.passGraph).toBe('model');
        const [a, b] = [await passes(exported), await passes(tree)];
        expect(b.tokens).toEqual(a.tokens);
        expectSameBits(a.rows, b.rows);
      } finally {
        await exported.release();
        await tree.release();
      }
    },
  );
});

describe.each([
  ['a GPT-2 export run as it is', 'exported' as const],
  ["a GPT-2's fused rebuild", 'auto' as const],
])('%s', (_, graph) => {
  let plain: ModelPair;
  let treed: ModelPair;
  beforeAll(async () => {
    const options = { target: { graph }, draft: { graph } };
    plain = await loadPair(MICRO_A, MICRO_B, options);
    treed = await loadPair(MICRO_A, MICRO_B, options);
  });
  afterAll(async () => {
    await releasePair(plain);
    await releasePair(treed);
  });

  it('runs the baseline, chains and trees in the tree graph alone, as the opened graph computes them', async () => {
    const lm = treed.target.lm;
    expect(lm.graph).toBe(graph === 'auto' ? 'fused' : 'exported');
    const prompt = 'The old man said';
    const maxNewTokens = 24;
    // a tree opened lazily, by its first run: the model's passes move to the tree graph
    const tree = await new TreeRun(treed, {
      prompt,
      maxNewTokens,
      shape: [3, 2, 1],
      verify: 'mask',
    }).runToEnd();
    expect([lm.passGraph, lm.openSessions]).toEqual(['tree', 1]);
    expect(plain.target.lm.passGraph).toBe('model');
    const [a, b] = [await passes(plain.target.lm), await passes(lm)];
    expectSameBits(a.rows, b.rows);
    const base = await new BaselineRun(plain, { prompt, maxNewTokens }).runToEnd();
    const baseTree = await new BaselineRun(treed, { prompt, maxNewTokens }).runToEnd();
    expect(baseTree.outputTokenIds).toEqual(base.outputTokenIds);
    expect(tree.outputTokenIds).toEqual(base.outputTokenIds);
    for (const k of [1, 3, 5]) {
      const chain = await new SpeculativeRun(plain, k, { prompt, maxNewTokens }).runToEnd();
      const chainTree = await new SpeculativeRun(treed, k, { prompt, maxNewTokens }).runToEnd();
      expect(chainTree.outputTokenIds, `K=${k}`).toEqual(chain.outputTokenIds);
      expect(chainTree.metrics.targetPasses, `K=${k}`).toBe(chain.metrics.targetPasses);
    }
  });
});

describe('the tree graph of an export with its weights inline (treeMaskFile.ts)', () => {
  it('is written with every weight copied across and the same nodes as the in-memory rewrite', () => {
    const folder = readModelFolder(MICRO_A);
    const inMemory = decodeGraph(
      Buffer.concat(withTreeBias(readFileSync(folder.onnxPath), folder.config.nLayer, FLOAT32)),
    );
    const written = writeTreeMaskFile(folder.onnxPath, folder.config.nLayer, FLOAT32, true);
    try {
      const graph = decodeGraph(readFileSync(written.file));
      expect(graph.node.map((n) => [n.opType, n.input, n.output])).toEqual(
        inMemory.node.map((n) => [n.opType, n.input, n.output]),
      );
      expect(graph.input.map((i) => i.name)).toEqual(inMemory.input.map((i) => i.name));
      expect(graph.input.map((i) => i.name)).toContain('tree_bias');
      const weights = (g: typeof graph) =>
        g.initializer.map((t) => [t.name, Buffer.from(t.rawData ?? []).toString('base64')]);
      expect(graph.initializer.length).toBeGreaterThan(0);
      expect(weights(graph)).toEqual(weights(inMemory));
    } finally {
      written.dispose();
    }
    expect(existsSync(written.file)).toBe(false);
  });
});
