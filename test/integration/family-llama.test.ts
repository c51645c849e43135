/**
 * The llama family beside GPT-2 (issue 33), on the tiny random-weight models in
 * test/fixtures/families (tools/build_standin.py --family llama --tiny): a target, a draft of its
 * own (drafts nearly always rejected) and the target's early exit (about half accepted). Their
 * configs read by the llama entry, their logits against PyTorch's (a first pass and a pass on a
 * cache), lossless greedy speculation for K=1..8 with rejections, bonuses and a self-draft, the
 * exact pass counts, the caches' lengths after every step, the stop rules (eos as a list, the
 * context), and a model_type the engine does not run refused by name.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DraftPolicyName, DrafterKind } from '../../src/shared/decoding';
import { BaselineRun } from '../../src/core/decoding/baseline';
import { SpeculativeRun } from '../../src/core/decoding/speculative';
import { architectureOf } from '../../src/core/model/architectures/registry';
import { OnnxCausalLM } from '../../src/core/model/causalLm';
import { readModelFolder } from '../../src/core/model/modelFolder';
import { loadPair, releasePair, type ModelPair } from '../../src/core/model/pair';
import { PassFeeds } from '../../src/core/model/passFeeds';
import {
  ROOT,
  SYSTEM_PYTHON,
  copyFolder,
  maxAbsDiff,
  torchMissingReason,
} from '../support/helpers';
import { checkEvents, collect } from '../support/runEvents';

const FAMILIES = join(ROOT, 'test', 'fixtures', 'families');
const TARGET = join(FAMILIES, 'llama-tiny-target');
const DRAFT = join(FAMILIES, 'llama-tiny-draft');
const EARLY = join(FAMILIES, 'llama-tiny-early');
const PROMPTS = [
  'Artificial intelligence is rapidly transforming our world by',
  'The old man looked out across the river and said',
  'In 1961 the committee',
];

interface Reference {
  sequences: Array<{
    inputIds: number[];
    logits: number[][];
    /** the tokens of the first pass; the rest are fed on top of their cache */
    prefix: number;
    cachedLogits: number[][];
  }>;
}

function readReference(dir: string): Record<string, Reference> {
  return JSON.parse(readFileSync(join(dir, 'llama-reference-logits.json'), 'utf8')) as Record<
    string,
    Reference
  >;
}

/** a copy of `dir` whose config.json has `change` applied */
function withConfig(dir: string, change: (config: Record<string, unknown>) => void): string {
  const copy = copyFolder(dir);
  const path = join(copy, 'config.json');
  const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  change(config);
  writeFileSync(path, JSON.stringify(config));
  return copy;
}

describe('the llama entry', () => {
  it('reads the tiny pair’s configs: grouped-query heads, head_dim, eos as a list or a number', () => {
    const target = readModelFolder(TARGET).config;
    expect(target).toEqual({
      modelType: 'llama',
      nLayer: 2,
      nHead: 4,
      nKvHeads: 2,
      nEmbd: 64,
      headDim: 16,
      nPositions: 128,
      vocabSize: 557,
      eosTokenIds: [556],
    });
    // the draft's config writes eos_token_id as a number
    expect(readModelFolder(DRAFT).config).toMatchObject({
      nHead: 2,
      nKvHeads: 1,
      eosTokenIds: [556],
    });
    const llama = architectureOf('llama');
    expect(llama.rebuild).toBeNull();
    // rotary embeddings read the positions: a graph without position_ids is refused by name
    expect(PassFeeds.missing(llama.inputs, ['input_ids', 'attention_mask'])).toEqual([
      'position_ids',
    ]);
  });

  it('derives what older configs leave out and refuses what cannot be', () => {
    const older = withConfig(TARGET, (c) => {
      delete c.head_dim;
      c.eos_token_id = [3, 556];
    });
    expect(readModelFolder(older).config).toMatchObject({ headDim: 16, eosTokenIds: [3, 556] });
    // without num_key_value_heads every head has its own: the file's 2-head cache says otherwise
    const noKv = withConfig(TARGET, (c) => delete c.num_key_value_heads);
    expect(() => readModelFolder(noKv)).toThrow(
      /says num_key_value_heads 4 but the cache input past_key_values\.0\.key of onnx\/model\.onnx is \[batch_size, 2, past_sequence_length, 16\]: 2 heads/,
    );
    const uneven = withConfig(TARGET, (c) => (c.num_key_value_heads = 3));
    expect(() => readModelFolder(uneven)).toThrow(
      /num_attention_heads 4 is not a multiple of num_key_value_heads 3/,
    );
    const wide = withConfig(TARGET, (c) => (c.hidden_size = 96));
    expect(() => readModelFolder(wide)).toThrow(
      /says hidden_size 96 but the token table .* has 64 columns/,
    );
    const missing = withConfig(TARGET, (c) => delete c.num_hidden_layers);
    expect(() => readModelFolder(missing)).toThrow(
      /is not a Llama config: num_hidden_layers .*Expected num_hidden_layers/,
    );
  });

  it('refuses a model_type it does not run, naming it and the families it runs', () => {
    const mamba = withConfig(TARGET, (c) => (c.model_type = 'mamba'));
    expect(() => readModelFolder(mamba)).toThrow(
      /model_type "mamba" is not a family the engine runs \(it runs gpt2, llama, qwen2, phi3\)/,
    );
  });
});

describe('the tiny llama pair against PyTorch', () => {
  const reference = readReference(FAMILIES);

  it.each([
    ['llama-tiny-target', TARGET],
    ['llama-tiny-draft', DRAFT],
    ['llama-tiny-early', EARLY],
  ])(
    '%s: a first pass and a pass on its cache match the reference within 1e-4',
    async (name, dir) => {
      const lm = await OnnxCausalLM.open(readModelFolder(dir));
      for (const { inputIds, logits, prefix, cachedLogits } of reference[name]!.sequences) {
        lm.reset();
        const full = await lm.forward(inputIds);
        expect(full.rows).toBe(inputIds.length);
        expect(maxAbsDiff(full.data, logits.flat())).toBeLessThan(1e-4);
        // the cached pass: position_ids start at the prefix's length
        lm.reset();
        await lm.forward(inputIds.slice(0, prefix));
        const cached = await lm.forward(inputIds.slice(prefix));
        expect(lm.length).toBe(inputIds.length);
        expect(maxAbsDiff(cached.data, cachedLogits.flat())).toBeLessThan(1e-4);
      }
      await lm.release();
    },
  );

  it('cropping the cache to n and re-feeding equals the full pass', async () => {
    const lm = await OnnxCausalLM.open(readModelFolder(TARGET));
    const seq = reference['llama-tiny-target']!.sequences[1]!.inputIds;
    const full = await lm.forward(seq);
    for (const n of [1, 5, 11]) {
      lm.reset();
      await lm.forward(seq.slice(0, n));
      await lm.forward([7, 8, 9]);
      lm.crop(n + 2);
      lm.crop(n);
      expect(lm.length).toBe(n);
      const again = await lm.forward(seq.slice(n));
      expect(maxAbsDiff(again.data, full.data.subarray(n * full.vocab))).toBeLessThan(1e-4);
    }
    await lm.release();
  });
});

describe.each([
  ['its own draft: nearly every draft rejected', DRAFT],
  ['its early exit: a mix of verdicts', EARLY],
])('speculative decoding of the tiny llama target with %s', (_name, draftDir) => {
  let pair: ModelPair;
  beforeAll(async () => {
    pair = await loadPair(TARGET, draftDir);
  });
  afterAll(() => releasePair(pair));

  it.each(PROMPTS)('speculative output equals the baseline for K = 1..8: %s', async (prompt) => {
    const base = await collect(new BaselineRun(pair, { prompt, maxNewTokens: 25 }));
    checkEvents(base.events, base.result);
    expect(base.result.metrics.targetPasses).toBe(base.result.metrics.newTokens);
    // random weights still make text that moves on: not one token over and over
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
      if (draftDir === EARLY && k <= 2) expect(spec.result.metrics.bonuses).toBeGreaterThan(0);
    }
    if (draftDir === EARLY) expect(accepted).toBeGreaterThan(0);
  });

  it('crops both caches to the kept context after every step', async () => {
    const promptLen = pair.tokenizer.encode(PROMPTS[0]!).length;
    for (const k of [1, 3, 8]) {
      const run = new SpeculativeRun(pair, k, { prompt: PROMPTS[0]!, maxNewTokens: 30 });
      let emitted = 0;
      let rejections = 0;
      while (!run.done) {
        const events = (await run.nextStep()) ?? [];
        emitted += events.filter((e) => e.type === 'emit').length;
        if (!events.some((e) => e.type === 'step-end')) continue;
        // the last emitted token (a correction or a bonus) is fed by the next step
        const keep = promptLen + emitted - 1;
        expect(pair.target.lm.length).toBe(keep);
        expect(pair.draft!.lm.length).toBeLessThanOrEqual(keep);
        // a rejected draft was fed to the draft model: it is cropped back to the kept context
        if (events.some((e) => e.type === 'emit' && e.kind === 'correction')) {
          rejections++;
          if (events.filter((e) => e.type === 'draft').length > 1)
            expect(pair.draft!.lm.length).toBe(keep);
        }
      }
      expect(emitted).toBe(30);
      expect(rejections).toBeGreaterThan(0);
    }
  });

  it('stops at the context limit with a stated reason, identical to the baseline', async () => {
    const prompt = PROMPTS[0]!;
    const promptLen = pair.tokenizer.encode(prompt).length;
    const base = await new BaselineRun(pair, { prompt, maxNewTokens: 500 }).runToEnd();
    expect(base.stopReason).toBe('context-limit');
    // every position of the context, rotary ones included, up to max_position_embeddings
    expect(promptLen + base.outputTokenIds.length).toBe(128);
    for (const k of [1, 4, 8]) {
      const spec = await new SpeculativeRun(pair, k, { prompt, maxNewTokens: 500 }).runToEnd();
      expect(spec.stopReason).toBe('context-limit');
      expect(spec.outputTokenIds).toEqual(base.outputTokenIds);
    }
  });
});

describe('the tiny llama target drafting for itself', () => {
  let pair: ModelPair;
  beforeAll(async () => {
    pair = await loadPair(TARGET, TARGET);
  });
  afterAll(() => releasePair(pair));

  it('accepts every drafted token and makes exactly ceil(N / (K + 1)) target passes', async () => {
    const prompt = PROMPTS[2]!;
    const n = 30;
    const base = await new BaselineRun(pair, { prompt, maxNewTokens: n }).runToEnd();
    for (let k = 1; k <= 8; k++) {
      const r = await new SpeculativeRun(pair, k, { prompt, maxNewTokens: n }).runToEnd();
      const m = r.metrics;
      expect(r.outputTokenIds).toEqual(base.outputTokenIds);
      expect(m.acceptanceRate).toBe(1);
      expect(m.corrections).toBe(0);
      expect(m.targetPasses).toBe(Math.ceil(n / (k + 1)));
      expect(m.draftedTokens).toBe(n - m.targetPasses);
      expect(m.draftPasses).toBe(m.draftedTokens);
      expect(m.tokensPerTargetPass).toBeCloseTo(n / Math.ceil(n / (k + 1)), 10);
    }
  });
});

describe('end of text from a list of eos ids', () => {
  it('stops right after any listed id, in the baseline and in speculative decoding', async () => {
    const probe = await loadPair(TARGET, DRAFT);
    const prompt = PROMPTS[1]!;
    const ids = (await new BaselineRun(probe, { prompt, maxNewTokens: 10 }).runToEnd())
      .outputTokenIds;
    await releasePair(probe);
    const eos = ids[5]!;
    const firstAt = ids.indexOf(eos);
    // the target's list decides; the draft's number is another id and stops only its drafts
    const target = withConfig(TARGET, (c) => (c.eos_token_id = [556, eos]));
    const pair = await loadPair(target, DRAFT);
    expect(pair.eosTokenIds).toEqual([556, eos]);
    const base = await new BaselineRun(pair, { prompt, maxNewTokens: 30 }).runToEnd();
    expect(base.stopReason).toBe('eos');
    expect(base.outputTokenIds).toEqual(ids.slice(0, firstAt + 1));
    for (const k of [1, 2, 5]) {
      const spec = await new SpeculativeRun(pair, k, { prompt, maxNewTokens: 30 }).runToEnd();
      expect(spec.stopReason).toBe('eos');
      expect(spec.outputTokenIds).toEqual(base.outputTokenIds);
    }
    await releasePair(pair);
  });
});

const torchMissing = torchMissingReason();

describe('tools/build_standin.py --family llama --tiny', () => {
  it('rebuilds the committed models: folders that load and match their PyTorch reference', async (ctx) => {
    if (torchMissing) ctx.skip(torchMissing);
    const out = mkdtempSync(join(tmpdir(), 'specdec-llama-'));
    const script = join(ROOT, 'tools', 'build_standin.py');
    execFileSync(SYSTEM_PYTHON, [script, '--family', 'llama', '--tiny', '--out', out], {
      stdio: 'pipe',
    });
    const built = readReference(out);
    const committed = readReference(FAMILIES);
    expect(Object.keys(built)).toEqual([
      'llama-tiny-target',
      'llama-tiny-draft',
      'llama-tiny-early',
    ]);
    for (const name of Object.keys(built)) {
      const { inputIds, logits } = built[name]!.sequences[0]!;
      // the same weights from the same seeds: the references agree
      expect(maxAbsDiff(logits.flat(), committed[name]!.sequences[0]!.logits.flat())).toBeLessThan(
        1e-5,
      );
      const lm = await OnnxCausalLM.open(readModelFolder(join(out, name)));
      expect(maxAbsDiff((await lm.forward(inputIds)).data, logits.flat())).toBeLessThan(1e-4);
      await lm.release();
    }
  });
});

describe.each(['llama', 'qwen2', 'phi3'])(
  'every draft-length policy, drafter and the repetition controls on the tiny %s pair',
  (family) => {
    let pair: ModelPair;
    beforeAll(async () => {
      pair = await loadPair(
        join(FAMILIES, `${family}-tiny-target`),
        join(FAMILIES, `${family}-tiny-early`),
      );
    });
    afterAll(() => releasePair(pair));

    const strategies: Array<[DraftPolicyName, DrafterKind]> = [
      ['fixed', 'model'],
      ['heuristic', 'model'],
      ['confidence', 'model'],
      ['fixed', 'prompt-lookup'],
      ['heuristic', 'prompt-lookup'],
    ];

    it.each(strategies)(
      '%s policy, %s drafter: the baseline’s output for K = 1, 3, 8',
      async (policy, drafter) => {
        for (const prompt of PROMPTS) {
          const base = await new BaselineRun(pair, { prompt, maxNewTokens: 30 }).runToEnd();
          for (const k of [1, 3, 8]) {
            const spec = await collect(
              new SpeculativeRun(pair, k, { prompt, maxNewTokens: 30, policy, drafter, pMin: 0.5 }),
            );
            expect(spec.result.outputTokenIds, `${prompt} K=${k}`).toEqual(base.outputTokenIds);
            checkEvents(spec.events, spec.result);
            expect(spec.result.policy).toBe(policy);
            expect(spec.result.drafter).toBe(drafter);
          }
        }
      },
    );

    it('under a repetition penalty and a no-repeat n-gram, speculation keeps the baseline’s output', async () => {
      const repetition = { penalty: 1.3, noRepeatNgram: 2 };
      for (const prompt of PROMPTS) {
        const base = await new BaselineRun(pair, {
          prompt,
          maxNewTokens: 40,
          repetition,
        }).runToEnd();
        const plain = await new BaselineRun(pair, { prompt, maxNewTokens: 40 }).runToEnd();
        // the controls change this text: they are not a no-op here
        expect(base.outputTokenIds).not.toEqual(plain.outputTokenIds);
        for (const k of [1, 4]) {
          const spec = await new SpeculativeRun(pair, k, {
            prompt,
            maxNewTokens: 40,
            repetition,
          }).runToEnd();
          expect(spec.outputTokenIds, `${prompt} K=${k}`).toEqual(base.outputTokenIds);
        }
      }
    });
  },
);

describe('an input the export declares and the engine does not feed', () => {
  it('is refused at load, by name, with what a llama pass feeds', async (ctx) => {
    if (torchMissing) ctx.skip(torchMissing);
    const dir = copyFolder(EARLY);
    const onnxPath = join(dir, 'onnx', 'model.onnx');
    const addInput = [
      'import onnx, sys',
      'from onnx import helper, TensorProto',
      'm = onnx.load(sys.argv[1])',
      "m.graph.input.append(helper.make_tensor_value_info('num_logits_to_keep', TensorProto.INT64, []))",
      'onnx.save(m, sys.argv[1])',
    ].join('\n');
    execFileSync(SYSTEM_PYTHON, ['-c', addInput, onnxPath]);
    await expect(OnnxCausalLM.open(readModelFolder(dir))).rejects.toThrow(
      /onnx\/model\.onnx takes an input the engine does not feed: num_logits_to_keep\. A Llama pass feeds input_ids, attention_mask, position_ids, use_cache_branch and the cache \(past_key_values\.0\.key \.\.\.\); export the model without it\.$/,
    );
  });
});
