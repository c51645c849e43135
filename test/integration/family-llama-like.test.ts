/**
 * The families whose config and ONNX interface are Llama's (issue 33), each on its tiny
 * random-weight models in test/fixtures/families (tools/build_standin.py --family NAME --tiny):
 * qwen2 (Llama's block with biases on the q, k and v projections) and phi3 (fused qkv_proj and
 * gate_up_proj, untied heads). Each config read by its entry, the logits against PyTorch's (a first
 * pass and a pass on a cache), and greedy speculation lossless for K=1..8 with the family's own
 * draft (drafts rejected), its early exit (a mix of verdicts) and itself (every draft accepted,
 * exact passes).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineRun } from '../../src/core/decoding/baseline';
import { SpeculativeRun } from '../../src/core/decoding/speculative';
import { architectureOf } from '../../src/core/model/architectures/registry';
import { OnnxCausalLM } from '../../src/core/model/causalLm';
import { readModelFolder } from '../../src/core/model/modelFolder';
import { loadPair, releasePair, type ModelPair } from '../../src/core/model/pair';
import { ROOT, copyFolder, maxAbsDiff } from '../support/helpers';
import { checkEvents, collect } from '../support/runEvents';

const FAMILIES = join(ROOT, 'test', 'fixtures', 'families');
const PROMPTS = [
  'Artificial intelligence is rapidly transforming our world by',
  'The old man looked out across the river and said',
  'In 1961 the committee',
];

interface Reference {
  sequences: Array<{
    inputIds: number[];
    logits: number[][];
    prefix: number;
    cachedLogits: number[][];
  }>;
}

describe.each([
  ['qwen2', 'Qwen2'],
  ['phi3', 'Phi-3'],
])('the %s family', (family, displayName) => {
  const folder = (role: string): string => join(FAMILIES, `${family}-tiny-${role}`);
  const TARGET = folder('target');
  const reference = JSON.parse(
    readFileSync(join(FAMILIES, `${family}-reference-logits.json`), 'utf8'),
  ) as Record<string, Reference>;

  it('reads its config (no head_dim: hidden_size / heads), kv heads, eos a number', () => {
    expect(readModelFolder(TARGET).config).toEqual({
      modelType: family,
      nLayer: 2,
      nHead: 4,
      nKvHeads: 2,
      nEmbd: 64,
      headDim: 16,
      nPositions: 128,
      vocabSize: 557,
      eosTokenIds: [556],
    });
    const entry = architectureOf(family);
    expect(entry.displayName).toBe(displayName);
    expect(entry.inputs.required).toContain('position_ids');
    const broken = copyFolder(TARGET);
    const path = join(broken, 'config.json');
    const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    delete config.num_hidden_layers;
    writeFileSync(path, JSON.stringify(config));
    expect(() => readModelFolder(broken)).toThrow(
      new RegExp(`is not a ${displayName} config: num_hidden_layers`),
    );
  });

  it.each(['target', 'draft', 'early'])(
    'tiny %s: a first pass and a pass on its cache match PyTorch within 1e-4',
    async (role) => {
      const lm = await OnnxCausalLM.open(readModelFolder(folder(role)));
      for (const { inputIds, logits, prefix, cachedLogits } of reference[`${family}-tiny-${role}`]!
        .sequences) {
        lm.reset();
        expect(maxAbsDiff((await lm.forward(inputIds)).data, logits.flat())).toBeLessThan(1e-4);
        lm.reset();
        await lm.forward(inputIds.slice(0, prefix));
        const cached = await lm.forward(inputIds.slice(prefix));
        expect(maxAbsDiff(cached.data, cachedLogits.flat())).toBeLessThan(1e-4);
      }
      await lm.release();
    },
  );

  describe.each([
    ['its own draft: drafts rejected', 'draft'],
    ['its early exit: a mix of verdicts', 'early'],
  ])('speculative decoding of the tiny target with %s', (_name, draftRole) => {
    let pair: ModelPair;
    beforeAll(async () => {
      pair = await loadPair(TARGET, folder(draftRole));
    });
    afterAll(() => releasePair(pair));

    it.each(PROMPTS)('speculative output equals the baseline for K = 1..8: %s', async (prompt) => {
      const base = await collect(new BaselineRun(pair, { prompt, maxNewTokens: 25 }));
      checkEvents(base.events, base.result);
      expect(new Set(base.result.outputTokenIds).size).toBeGreaterThan(5);
      let accepted = 0;
      for (let k = 1; k <= 8; k++) {
        const spec = await collect(
          new SpeculativeRun(pair, k, { prompt, maxNewTokens: 25, reportProbabilities: true }),
        );
        expect(spec.result.outputTokenIds).toEqual(base.result.outputTokenIds);
        checkEvents(spec.events, spec.result);
        expect(spec.result.metrics.corrections).toBeGreaterThan(0);
        accepted += spec.result.metrics.acceptedTokens;
      }
      if (draftRole === 'early') expect(accepted).toBeGreaterThan(0);
    });
  });

  describe('the tiny target drafting for itself', () => {
    it('accepts every drafted token and makes exactly ceil(N / (K + 1)) target passes', async () => {
      const pair = await loadPair(TARGET, TARGET);
      const prompt = PROMPTS[2]!;
      const n = 30;
      const base = await new BaselineRun(pair, { prompt, maxNewTokens: n }).runToEnd();
      for (let k = 1; k <= 8; k++) {
        const r = await new SpeculativeRun(pair, k, { prompt, maxNewTokens: n }).runToEnd();
        expect(r.outputTokenIds).toEqual(base.outputTokenIds);
        expect(r.metrics.acceptanceRate).toBe(1);
        expect(r.metrics.targetPasses).toBe(Math.ceil(n / (k + 1)));
        expect(r.metrics.draftedTokens).toBe(n - r.metrics.targetPasses);
      }
      await releasePair(pair);
    });
  });
});
