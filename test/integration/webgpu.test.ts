/**
 * The device-resident KV cache on a real GPU provider: onnxruntime-node's WebGPU (Dawn) on
 * SwiftShader, the software Vulkan driver Debian's chromium ships. It is slow (a software GPU), so
 * this proves correctness only: the same greedy tokens as the CPU, the cache never copied to the
 * host, a few bytes read back per row instead of logits rows, and no device tensor left behind.
 * Skipped, with the reason, where the driver or the Vulkan loader is missing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineRun } from '../../src/core/decoding/baseline';
import { SpeculativeRun } from '../../src/core/decoding/speculative';
import type { DecodeRun, RunResult } from '../../src/core/decoding/decodeRun';
import { argmaxWithMargin } from '../../src/core/model/argmax';
import { providerUnavailable } from '../../src/core/model/executionProvider';
import { loadPair, releasePair, type ModelPair } from '../../src/core/model/pair';
import { SpecDecError } from '../../src/core/errors';
import type { EmitEvent } from '../../src/shared/events';
import type { KvLocationChoice } from '../../src/shared/decoding';
import { MICRO_A, MICRO_B, PAIR_DRAFT, PAIR_TARGET, ROOT } from '../support/helpers';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const reason = !existsSync(SWIFTSHADER)
  ? `${SWIFTSHADER} not found (apt-get install chromium libvulkan1)`
  : providerUnavailable('webgpu');
// Dawn reads the driver list when its first device starts, in this test file's own process.
if (reason === null) process.env.VK_ICD_FILENAMES = SWIFTSHADER;

const gpu = (kvLocation: KvLocationChoice = 'auto') => ({
  executionProvider: 'webgpu' as const,
  kvLocation,
});
/** bytes the head graph reads back per row: id (8), top two (8), log-sum-exp (4), picked (4) */
const VERDICT_BYTES = 24;
const PROMPT = 'the cat sat on';
const GPT2_TINY = join(ROOT, 'test', 'fixtures', 'standins', 'gpt2-tiny');

async function run(make: () => DecodeRun): Promise<RunResult> {
  return make().runToEnd();
}

describe.skipIf(reason !== null)('the KV cache on the device: WebGPU on SwiftShader', () => {
  let onCpu: ModelPair;
  let onGpu: ModelPair;

  beforeAll(async () => {
    // micro-b's drafts are all rejected by micro-a: every step crops both caches
    onCpu = await loadPair(MICRO_A, MICRO_B);
    onGpu = await loadPair(MICRO_A, MICRO_B, { target: gpu(), draft: gpu() });
  });
  afterAll(async () => {
    await releasePair(onCpu);
    await releasePair(onGpu);
  });

  it('greedy speculative output equals the CPU’s for K=1..4, with crops after every rejection', async () => {
    expect(onGpu.target.lm.kvLocation).toBe('device');
    const opts = { prompt: PROMPT, maxNewTokens: 16 };
    const slots = 2 * onGpu.target.folder.config.nLayer;
    const cpuBase = await run(() => new BaselineRun(onCpu, opts));
    const gpuBase = await run(() => new BaselineRun(onGpu, opts));
    expect(gpuBase.outputTokenIds).toEqual(cpuBase.outputTokenIds);
    expect(gpuBase.metrics.transfer).toMatchObject({ cacheBytesPerPass: 0 });
    for (const k of [1, 2, 3, 4]) {
      const cpu = await run(() => new SpeculativeRun(onCpu, k, opts));
      const dev = await run(() => new SpeculativeRun(onGpu, k, opts));
      expect(dev.outputTokenIds, `K=${k}`).toEqual(cpuBase.outputTokenIds);
      expect(dev.stopReason).toBe('max-new-tokens');
      expect(dev.metrics.targetPasses).toBe(cpu.metrics.targetPasses);
      // every step drafted and was corrected: the target and the draft cropped each time
      expect(dev.metrics.corrections).toBe(dev.metrics.verificationSteps);
      expect(dev.metrics.verificationSteps).toBeGreaterThan(2);
      // the cache stayed on the device; K+1 rows of verdicts came back, not K+1 logits rows
      expect(dev.metrics.transfer).toEqual({
        cacheBytesPerPass: 0,
        readBytesPerPass: (k + 1) * VERDICT_BYTES,
        draft: { cacheBytesPerPass: 0, readBytesPerPass: VERDICT_BYTES },
      });
      const vocab = onCpu.target.folder.config.vocabSize;
      expect(cpu.metrics.transfer!.readBytesPerPass).toBe((k + 1) * vocab * 4);
      expect(onGpu.target.lm.liveDeviceTensors).toBe(slots);
    }
  });

  it('controlled acceptance (the oracle) runs on the device: the baseline output, the CPU’s verdicts, no cache copied', async () => {
    for (const k of [1, 4]) {
      const outputs = await Promise.all(
        [onCpu, onGpu].map(async (pair) => {
          const truth = await run(
            () => new BaselineRun(pair, { prompt: PROMPT, maxNewTokens: 24 }),
          );
          const r = new SpeculativeRun(pair, k, {
            prompt: PROMPT,
            maxNewTokens: 24,
            oracle: { acceptance: 0.7, baselineTokenIds: truth.outputTokenIds, seed: 3 },
          });
          const verdicts: string[] = [];
          for await (const e of r.events()) if (e.type === 'verify') verdicts.push(...e.verdicts);
          return { truth, result: await r.runToEnd(), verdicts };
        }),
      );
      const [cpu, dev] = outputs as [(typeof outputs)[0], (typeof outputs)[0]];
      expect(dev.result.outputTokenIds).toEqual(dev.truth.outputTokenIds);
      expect(dev.truth.outputTokenIds).toEqual(cpu.truth.outputTokenIds);
      expect(dev.verdicts).toEqual(cpu.verdicts);
      expect(dev.verdicts).toContain('accepted');
      expect(dev.verdicts).toContain('rejected');
      expect(dev.result.draftModelAgreement).toEqual(cpu.result.draftModelAgreement);
      expect(dev.result.metrics.transfer).toMatchObject({ cacheBytesPerPass: 0 });
    }
  });

  it('a draft that agrees with the target: every draft accepted, bonus tokens, same output', async () => {
    const agree = await loadPair(MICRO_A, MICRO_A, { target: gpu(), draft: gpu() });
    try {
      const opts = { prompt: PROMPT, maxNewTokens: 20 };
      const base = await run(() => new BaselineRun(onCpu, opts));
      const spec = await run(() => new SpeculativeRun(agree, 3, opts));
      expect(spec.outputTokenIds).toEqual(base.outputTokenIds);
      expect(spec.metrics.acceptanceRate).toBe(1);
      expect(spec.metrics.bonuses).toBeGreaterThan(3);
    } finally {
      await releasePair(agree);
    }
  });

  it('the embedded pair: accepted and rejected drafts mixed, the CPU’s tokens and probabilities', async () => {
    const embCpu = await loadPair(PAIR_TARGET, PAIR_DRAFT);
    const embGpu = await loadPair(PAIR_TARGET, PAIR_DRAFT, { target: gpu(), draft: gpu() });
    try {
      const opts = { prompt: 'The jury said', maxNewTokens: 12, reportProbabilities: true };
      const emits = async (pair: ModelPair) => {
        const r = new SpeculativeRun(pair, 3, opts);
        const out: EmitEvent[] = [];
        for await (const e of r.events()) if (e.type === 'emit') out.push(e);
        return out;
      };
      const cpu = await emits(embCpu);
      const dev = await emits(embGpu);
      expect(dev.map((e) => e.tokenId)).toEqual(cpu.map((e) => e.tokenId));
      expect(dev.map((e) => e.kind)).toEqual(cpu.map((e) => e.kind));
      const kinds = new Set(cpu.map((e) => e.kind));
      expect(kinds.has('accepted') && kinds.has('correction')).toBe(true);
      for (const [i, e] of dev.entries()) {
        expect(e.targetProb!).toBeCloseTo(cpu[i]!.targetProb!, 4);
        if (e.draftProb !== null) expect(e.draftProb).toBeCloseTo(cpu[i]!.draftProb!, 4);
      }
    } finally {
      await releasePair(embCpu);
      await releasePair(embGpu);
    }
  });

  it('a mixed pair works: the draft on the CPU, the target on WebGPU', async () => {
    const mixed = await loadPair(MICRO_A, MICRO_B, { target: gpu() });
    try {
      expect(mixed.draft!.lm.executionProvider).toBe('cpu');
      const opts = { prompt: PROMPT, maxNewTokens: 12 };
      const base = await run(() => new BaselineRun(onCpu, opts));
      const spec = await run(() => new SpeculativeRun(mixed, 2, opts));
      expect(spec.outputTokenIds).toEqual(base.outputTokenIds);
      expect(spec.metrics.transfer!.cacheBytesPerPass).toBe(0);
      expect(spec.metrics.transfer!.draft!.readBytesPerPass).toBe(
        mixed.draft!.folder.config.vocabSize * 4,
      );
    } finally {
      await releasePair(mixed);
    }
  });

  it('the host-resident cache on the same provider copies the whole cache both ways every pass', async () => {
    const host = await loadPair(MICRO_A, MICRO_B, { target: gpu('host'), draft: gpu('host') });
    try {
      const opts = { prompt: PROMPT, maxNewTokens: 8 };
      const base = await run(() => new BaselineRun(host, opts));
      expect(base.outputTokenIds).toEqual(
        (await run(() => new BaselineRun(onCpu, opts))).outputTokenIds,
      );
      const { nLayer, nHead, headDim, vocabSize } = host.target.folder.config;
      const prompt = onCpu.tokenizer.encode(PROMPT).length;
      // per pass p (0-based, one token after the prompt pass): past (len) in, present (len+1) out
      const perPosition = 2 * nLayer * nHead * headDim * 4;
      const passes = Array.from({ length: 8 }, (_, p) =>
        p === 0 ? prompt * perPosition : (2 * (prompt + p) - 1) * perPosition,
      ).sort((a, b) => a - b);
      const median = (passes[3]! + passes[4]!) / 2;
      expect(base.metrics.transfer).toEqual({
        cacheBytesPerPass: median,
        readBytesPerPass: vocabSize * 4,
        draft: null,
      });
      expect(host.target.lm.liveDeviceTensors).toBe(0);
    } finally {
      await releasePair(host);
    }
  });

  it('to the context limit and over 100 tokens, the device holds only the live cache', async () => {
    // micro fixtures: 64 positions, every draft rejected (a crop every step)
    const slots = 2 * onGpu.target.folder.config.nLayer;
    const r = new SpeculativeRun(onGpu, 3, { prompt: PROMPT, maxNewTokens: 100 });
    const live: number[] = [];
    while (await r.nextStep()) live.push(onGpu.target.lm.liveDeviceTensors);
    const result = await r.runToEnd();
    expect(result.stopReason).toBe('context-limit');
    expect(new Set(live)).toEqual(new Set([slots]));
    expect(onGpu.draft!.lm.liveDeviceTensors).toBe(2 * onGpu.draft!.folder.config.nLayer);

    // 100 tokens of the embedded draft (512 positions), a pass each: the count never grows
    const big = await loadPair(PAIR_DRAFT, null, { target: gpu() });
    try {
      const bigSlots = 2 * big.target.folder.config.nLayer;
      const base = new BaselineRun(big, { prompt: 'The jury said', maxNewTokens: 100 });
      const counts: number[] = [];
      while (await base.nextStep()) counts.push(big.target.lm.liveDeviceTensors);
      expect((await base.runToEnd()).metrics.newTokens).toBe(100);
      expect(Math.max(...counts)).toBe(bigSlots);
      big.target.lm.reset();
      expect(big.target.lm.liveDeviceTensors).toBe(0);
    } finally {
      await releasePair(big);
    }
  });

  it('a look at one position (the step detail) mid-run leaves the run and the device as they were', async () => {
    const opts = { prompt: PROMPT, maxNewTokens: 12 };
    const expected = (await run(() => new SpeculativeRun(onCpu, 2, opts))).outputTokenIds;
    const r = new SpeculativeRun(onGpu, 2, opts);
    await r.nextStep();
    await r.nextStep();
    const before = onGpu.target.lm.liveDeviceTensors;
    const row = await onGpu.target.lm.probe(onCpu.tokenizer.encode(PROMPT));
    expect(row).toHaveLength(onGpu.target.folder.config.vocabSize);
    expect(onGpu.target.lm.liveDeviceTensors).toBe(before);
    expect((await r.runToEnd()).outputTokenIds).toEqual(expected);
  });

  it('an fp16 model where the GPU has no 16-bit float shaders (SwiftShader) is refused in words', async () => {
    const fp16 = { ...gpu(), onnxFile: 'onnx/model_fp16.onnx' };
    const err = await loadPair(GPT2_TINY, null, { target: fp16 }).then(
      (pair) => releasePair(pair).then(() => null),
      (e: unknown) => e as SpecDecError,
    );
    // a GPU with shader-f16 runs it (the merged and q8 cases below check the tokens)
    if (err === null) return;
    expect(err.code).toBe('EXECUTION_PROVIDER');
    expect(err.message).toMatch(
      /^The webgpu execution provider is not available here \(this GPU has no 16-bit float shaders, which an fp16 model needs \(fp32 and q8 run\)/,
    );
  });

  it.each([
    ['the merged decoder (If on use_cache_branch)', 'decoder_model_merged.onnx'],
    ['the q8 decoder', 'model_quantized.onnx'],
  ])(
    'the Hub’s formats: %s keeps its cache on the device and the CPU’s tokens',
    async (_n, file) => {
      const cpu = await loadPair(GPT2_TINY, GPT2_TINY, {
        target: { onnxFile: `onnx/${file}` },
        draft: { onnxFile: `onnx/${file}` },
      });
      const dev = await loadPair(GPT2_TINY, GPT2_TINY, {
        target: { ...gpu(), onnxFile: `onnx/${file}` },
        draft: { ...gpu(), onnxFile: `onnx/${file}` },
      });
      try {
        const opts = { prompt: PROMPT, maxNewTokens: 12 };
        const base = await run(() => new BaselineRun(cpu, opts));
        const spec = await run(() => new SpeculativeRun(dev, 3, opts));
        const at = spec.outputTokenIds.findIndex((t, i) => t !== base.outputTokenIds[i]);
        if (at !== -1 && file.includes('quantized')) {
          // q8's integer products are summed differently by each CPU's int8 kernels (with or
          // without VNNI) and by WebGPU's shaders, and a K+1-row pass quantizes its activations
          // with one scale: only a near-tie of the CPU's own logits may flip
          const ids = [...cpu.tokenizer.encode(PROMPT), ...base.outputTokenIds.slice(0, at)];
          cpu.target.lm.reset();
          const logits = await cpu.target.lm.forward(ids);
          const row = logits.row(logits.rows - 1);
          const gap = new Float64Array(1);
          argmaxWithMargin(row, gap);
          const scale = row.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          expect(gap[0]!, `the q8 texts part at new token ${at}`).toBeLessThan(0.06 * scale);
        } else expect(spec.outputTokenIds).toEqual(base.outputTokenIds);
        expect(dev.target.lm.kvLocation).toBe('device');
        // the fused rebuild is the CPU provider's: WebGPU runs the file as exported
        expect(dev.target.lm.graph).toBe('exported');
        expect(cpu.target.lm.graph).toBe(file.includes('quantized') ? 'exported' : 'fused');
        expect(spec.metrics.transfer!.cacheBytesPerPass).toBe(0);
        expect(dev.target.lm.liveDeviceTensors).toBe(2 * dev.target.folder.config.nLayer);
      } finally {
        await releasePair(cpu);
        await releasePair(dev);
      }
    },
  );

  it('a provider failure mid-run is reported as such, not hung', async () => {
    const doomed = await loadPair(MICRO_A, MICRO_B, { target: gpu(), draft: gpu() });
    const r = new SpeculativeRun(doomed, 2, { prompt: PROMPT, maxNewTokens: 12 });
    await r.nextStep();
    await doomed.target.lm.release(); // the device session goes away under the run
    const err = await r.nextStep().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SpecDecError);
    expect((err as SpecDecError).code).toBe('EXECUTION_PROVIDER');
    expect((err as SpecDecError).message).toMatch(
      /failed on the webgpu execution provider.*Run again on cpu/,
    );
    await doomed.draft!.lm.release();
  });
});
