/**
 * The rebuilt (fused) GPT-2 graph that the CPU provider runs (fusedGpt2.ts): the same logits, KV
 * cache and tokens as the export it is built from, the files it is not built for, and the
 * load-time probe that would catch a wrongly built one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { BaselineRun } from '../../src/core/decoding/baseline';
import { SpeculativeRun } from '../../src/core/decoding/speculative';
import { OnnxCausalLM } from '../../src/core/model/causalLm';
import { fuseGpt2 } from '../../src/core/model/fusedGpt2';
import { readModelFolder } from '../../src/core/model/modelFolder';
import { decodeGraph } from '../../src/core/model/onnxGraph';
import { loadPair, releasePair } from '../../src/core/model/pair';
import { MICRO_A, MICRO_B, PAIR_DRAFT, PAIR_TARGET, ROOT, maxAbsDiff } from '../support/helpers';

const STANDIN = join(ROOT, 'test', 'fixtures', 'standins', 'gpt2-tiny');
const SEQ = [464, 262, 286, 290, 13, 11, 257, 284, 318, 40, 101, 12];

const models: [string, string, string?][] = [
  ['micro-a', MICRO_A],
  ['micro-b', MICRO_B],
  ['the embedded target', PAIR_TARGET],
  ['the embedded draft', PAIR_DRAFT],
  ['a Hub-layout model.onnx', STANDIN, 'onnx/model.onnx'],
  ['a Hub-layout merged decoder', STANDIN, 'onnx/decoder_model_merged.onnx'],
];

describe.each(models)('%s', (_name, dir, file) => {
  it('is rebuilt, and its passes, cache and crops give the export’s logits', async () => {
    const folder = readModelFolder(dir, file);
    const fused = await OnnxCausalLM.open(folder);
    const exported = await OnnxCausalLM.open(folder, { graph: 'exported' });
    expect(fused.graph).toBe('fused');
    expect(fused.graphNote).toBeNull();
    expect(exported.graph).toBe('exported');
    const seq = SEQ.map((t) => t % folder.config.vocabSize);
    let scale = 1;
    const check = async (tokens: number[]) => {
      const [a, b] = [await fused.forward(tokens), await exported.forward(tokens)];
      expect(a.rows).toBe(tokens.length);
      for (const v of b.data) scale = Math.max(scale, Math.abs(v));
      expect(maxAbsDiff(a.data, b.data)).toBeLessThan(1e-5 * scale);
    };
    await check(seq.slice(0, 5)); // a prompt
    await check(seq.slice(5, 6)); // one token on the cache
    await check(seq.slice(6, 10)); // a verification of 4 on the cache
    for (const lm of [fused, exported]) lm.crop(7); // rejected drafts dropped
    await check(seq.slice(10, 12));
    expect(fused.length).toBe(9);
    await fused.release();
    await exported.release();
  });
});

describe('the embedded pair on the rebuilt graphs', () => {
  it('decodes the same tokens with the same pass counts as on the exports, K = 1..5', async () => {
    const fused = await loadPair(PAIR_TARGET, PAIR_DRAFT);
    const exported = await loadPair(PAIR_TARGET, PAIR_DRAFT, {
      target: { graph: 'exported' },
      draft: { graph: 'exported' },
    });
    expect([fused.target.lm.graph, fused.draft!.lm.graph]).toEqual(['fused', 'fused']);
    expect([exported.target.lm.graph, exported.draft!.lm.graph]).toEqual(['exported', 'exported']);
    let rejected = 0;
    for (const prompt of ['The old man looked out across the river and said', 'In 1961 the']) {
      const options = { prompt, maxNewTokens: 40 };
      const base = await new BaselineRun(fused, options).runToEnd();
      expect(base.outputTokenIds).toEqual(
        (await new BaselineRun(exported, options).runToEnd()).outputTokenIds,
      );
      for (let k = 1; k <= 5; k++) {
        const [a, b] = [
          await new SpeculativeRun(fused, k, options).runToEnd(),
          await new SpeculativeRun(exported, k, options).runToEnd(),
        ];
        expect(a.outputTokenIds).toEqual(base.outputTokenIds);
        expect(b.outputTokenIds).toEqual(base.outputTokenIds);
        expect(a.metrics.targetPasses).toBe(b.metrics.targetPasses);
        expect(a.metrics.acceptedTokens).toBe(b.metrics.acceptedTokens);
        rejected += a.metrics.draftedTokens - a.metrics.acceptedTokens;
      }
    }
    expect(rejected).toBeGreaterThan(0); // crops happened on the rebuilt graphs
    await releasePair(fused);
    await releasePair(exported);
  });
});

describe('files that are not rebuilt run as exported, with the reason', () => {
  it.each([
    ['float16', 'onnx/model_fp16.onnx', 'weights that are not float32'],
    ['8-bit', 'onnx/decoder_model_merged_quantized.onnx', 'quantized weights'],
  ])('%s weights', async (_name, file, reason) => {
    const lm = await OnnxCausalLM.open(readModelFolder(STANDIN, file));
    expect(lm.graph).toBe('exported');
    expect(lm.graphNote).toContain(reason);
    await lm.release();
  });

  it('bytes that are not an ONNX model are refused with the reason', () => {
    expect(() => fuseGpt2(new Uint8Array([0xff, 0xff]), readModelFolder(MICRO_A).config)).toThrow(
      /could not be decoded/,
    );
  });

  it('a graph of another shape than its config is refused before anything is built', () => {
    const bytes = readFileSync(readModelFolder(MICRO_A).onnxPath);
    const wrong = { ...readModelFolder(MICRO_A).config, nLayer: 3 };
    expect(() => fuseGpt2(bytes, wrong)).toThrow(/9 weight MatMuls where 3 layers have 12/);
  });
});

describe('the load-time probe', () => {
  it('passes a faithful rebuild and catches a wrongly built one', async () => {
    const folder = readModelFolder(MICRO_A);
    const bytes = new Uint8Array(readFileSync(folder.onnxPath));
    const exported = await ort.InferenceSession.create(folder.onnxPath);
    const faithful = await ort.InferenceSession.create(fuseGpt2(bytes, folder.config));
    const good = await OnnxCausalLM.agreement(folder, exported, faithful);
    expect(good.diff).toBeLessThan(1e-5 * good.scale);
    // perturb one weight of the file in memory (tensors decode as views of the bytes), so the
    // rebuild reads weights the export does not have: the probe must see it
    const graph = decodeGraph(bytes);
    const qkv = graph.initializer.find((t) => t.dims.join() === '32,96' && t.rawData);
    qkv!.rawData!.fill(0x40, 0, 4 * 96); // the first row becomes 3.004 (0x40404040)
    const broken = await ort.InferenceSession.create(fuseGpt2(bytes, folder.config));
    const bad = await OnnxCausalLM.agreement(folder, exported, broken);
    expect(bad.diff).toBeGreaterThan(1e-3 * bad.scale);
    for (const s of [exported, faithful, broken]) await s.release();
  });
});
