/**
 * Pairs that are honest (issue 33): a pair is accepted when both tokenizers map the same strings
 * to the same ids, whatever their logit widths (llama-tiny-wide: the target's logits padded to 640
 * rows over a 557-token tokenizer, as Qwen2.5-7B's 152,064 rows beside 0.5B's 151,936); both
 * models are then read over the 557 ids they share, greedy and sampled, and a tokenizer that
 * differs in one token is refused naming it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpecDecError } from '../../src/core/errors';
import { providerUnavailable } from '../../src/core/model/executionProvider';
import { headGraph, HEAD_OUTPUTS } from '../../src/core/model/onnxGraph';
import { BaselineRun } from '../../src/core/decoding/baseline';
import { SpeculativeRun } from '../../src/core/decoding/speculative';
import { loadPair, logitWidthNote, releasePair, type ModelPair } from '../../src/core/model/pair';
import { ROOT, copyFolder } from '../support/helpers';

const FAMILIES = join(ROOT, 'test', 'fixtures', 'families');
const TARGET = join(FAMILIES, 'llama-tiny-target');
const WIDE = join(FAMILIES, 'llama-tiny-wide');
const EARLY = join(FAMILIES, 'llama-tiny-early');
const SHARED = 557;
const PROMPTS = ['The old man said', 'It was the best of times', 'In the beginning'];

const greedy = async (pair: ModelPair, prompt: string, k: number | null): Promise<number[]> =>
  (
    await (
      k === null
        ? new BaselineRun(pair, { prompt, maxNewTokens: 40 })
        : new SpeculativeRun(pair, k, { prompt, maxNewTokens: 40 })
    ).runToEnd()
  ).outputTokenIds;

describe('a pair whose logit widths differ (the tiny llama target padded to 640 rows)', () => {
  let wide: ModelPair;
  let narrow: ModelPair;
  beforeAll(async () => {
    wide = await loadPair(WIDE, EARLY);
    narrow = await loadPair(TARGET, EARLY);
  });
  afterAll(async () => {
    await releasePair(wide);
    await releasePair(narrow);
  });

  it('is accepted, compared over the shared ids, and says so', () => {
    expect(wide.logitWidths).toEqual({ compared: SHARED, target: 640, draft: SHARED });
    expect(logitWidthNote(wide.logitWidths!)).toBe(
      'logits compared over the first 557 ids: the target has 640 rows, the draft 557',
    );
    // equal widths: nothing to say
    expect(narrow.logitWidths).toBeNull();
  });

  it('the padding would win without the shared ids: the wide model alone picks pad rows', async () => {
    const alone = await loadPair(WIDE, null);
    try {
      const ids = (await Promise.all(PROMPTS.map((p) => greedy(alone, p, null)))).flat();
      expect(ids.filter((t) => t >= SHARED).length).toBeGreaterThan(5);
    } finally {
      await releasePair(alone);
    }
  });

  it('greedy: the baseline and every K keep to the shared ids, losslessly, as the narrow target', async () => {
    for (const prompt of PROMPTS) {
      const base = await greedy(wide, prompt, null);
      expect(Math.max(...base)).toBeLessThan(SHARED);
      // the first 557 rows are the narrow target's: the same text
      expect(base).toEqual(await greedy(narrow, prompt, null));
      for (const k of [1, 2, 3, 4]) expect(await greedy(wide, prompt, k)).toEqual(base);
    }
  });

  it('sampling draws only shared ids, the same draws as on the narrow target', async () => {
    let differing = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const sampling = { temperature: 1.5, topK: 0, topP: 1, seed };
      const opts = { prompt: PROMPTS[seed % PROMPTS.length]!, maxNewTokens: 20, sampling };
      const spec = await new SpeculativeRun(wide, 3, opts).runToEnd();
      const base = await new BaselineRun(wide, opts).runToEnd();
      for (const ids of [spec.outputTokenIds, base.outputTokenIds])
        expect(Math.max(...ids)).toBeLessThan(SHARED);
      const same = await new SpeculativeRun(narrow, 3, opts).runToEnd();
      if (same.outputTokenIds.join() !== spec.outputTokenIds.join()) differing++;
    }
    // the same logits over the same ids and the same seed: the same draws (a draw within float
    // rounding of a boundary may part, never more than once in 30 runs)
    expect(differing).toBeLessThanOrEqual(1);
  });

  it('the wide model drafting for the narrow target: drafts read over the shared ids', async () => {
    const pair = await loadPair(TARGET, WIDE);
    try {
      expect(pair.logitWidths).toEqual({ compared: SHARED, target: SHARED, draft: 640 });
      for (const prompt of PROMPTS) {
        const base = await greedy(pair, prompt, null);
        for (const k of [1, 3]) {
          const run = await new SpeculativeRun(pair, k, { prompt, maxNewTokens: 40 }).runToEnd();
          expect(run.outputTokenIds).toEqual(base);
          // the draft is the target over the shared ids: every draft stands
          expect(run.metrics.acceptedTokens).toBe(run.metrics.draftedTokens);
        }
      }
    } finally {
      await releasePair(pair);
    }
  });
});

describe('the head graph over the shared ids (a device-resident model)', () => {
  it('reads each row over its first ids only: argmax, probabilities and the rows it hands back', async () => {
    const vocab = 12;
    const width = 8;
    // the largest logit of each row sits past the shared ids
    const rows = [
      Array.from({ length: vocab }, (_, i) => (i === 10 ? 9 : i === 3 ? 2 : i / 10)),
      Array.from({ length: vocab }, (_, i) => (i === 11 ? 5 : i === 6 ? 1 : -i / 10)),
    ];
    const session = await ort.InferenceSession.create(headGraph(vocab, 'float32', width));
    const out = await session.run(
      {
        logits: new ort.Tensor('float32', Float32Array.from(rows.flat()), [1, 2, vocab]),
        pick: new ort.Tensor('int64', BigInt64Array.from([3n, 0n]), [1, 2, 1]),
      },
      [...HEAD_OUTPUTS, 'rows'],
    );
    expect([...(out.ids!.data as BigInt64Array)].map(Number)).toEqual([3, 6]);
    expect(out.rows!.dims).toEqual([1, 2, width]);
    // the log-sum-exp over the 8 shared logits of row 0
    const lse = Math.log(rows[0]!.slice(0, width).reduce((sum, v) => sum + Math.exp(v), 0));
    expect((out.lse!.data as Float32Array)[0]).toBeCloseTo(lse, 5);
    await session.release();
  });
});

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const noGpu = !existsSync(SWIFTSHADER)
  ? `${SWIFTSHADER} not found (apt-get install chromium libvulkan1)`
  : providerUnavailable('webgpu');
if (noGpu === null) process.env.VK_ICD_FILENAMES = SWIFTSHADER;

describe.skipIf(noGpu !== null)('the wide pair with its caches on the device (WebGPU)', () => {
  it('greedy and sampled runs keep to the shared ids, as on the CPU', async () => {
    const gpu = { executionProvider: 'webgpu' as const, kvLocation: 'device' as const };
    const onCpu = await loadPair(WIDE, EARLY);
    const onGpu = await loadPair(WIDE, EARLY, { target: gpu, draft: gpu });
    try {
      expect(onGpu.target.lm.kvLocation).toBe('device');
      const opts = { prompt: PROMPTS[0]!, maxNewTokens: 16 };
      const base = await new BaselineRun(onCpu, opts).runToEnd();
      for (const k of [1, 3])
        expect((await new SpeculativeRun(onGpu, k, opts).runToEnd()).outputTokenIds).toEqual(
          base.outputTokenIds,
        );
      const sampled = { ...opts, sampling: { temperature: 1.5, topK: 0, topP: 1, seed: 7 } };
      const dev = await new SpeculativeRun(onGpu, 3, sampled).runToEnd();
      expect(Math.max(...dev.outputTokenIds)).toBeLessThan(SHARED);
      expect(dev.outputTokenIds).toEqual(
        (await new SpeculativeRun(onCpu, 3, sampled).runToEnd()).outputTokenIds,
      );
    } finally {
      await releasePair(onCpu);
      await releasePair(onGpu);
    }
  }, 300_000);
});

/** a copy of `dir` whose tokenizer.json has `change` applied */
function withTokenizer(dir: string, change: (tokenizer: TokenizerJson) => void): string {
  const copy = copyFolder(dir);
  const path = join(copy, 'tokenizer.json');
  const tokenizer = JSON.parse(readFileSync(path, 'utf8')) as TokenizerJson;
  change(tokenizer);
  writeFileSync(path, JSON.stringify(tokenizer));
  return copy;
}

interface TokenizerJson {
  model: { vocab: Record<string, number> };
  added_tokens: Array<Record<string, unknown>>;
}

async function refusal(target: string, draft: string): Promise<SpecDecError> {
  const err = await loadPair(target, draft).then(
    async (pair) => {
      await releasePair(pair);
      return null;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SpecDecError);
  expect((err as SpecDecError).code).toBe('PAIR_MISMATCH');
  return err as SpecDecError;
}

describe('the vocabulary check', () => {
  it('refuses a draft whose tokenizer differs in one token, naming it and its ids', async () => {
    // id 300 keeps its place but spells another string
    const renamed = withTokenizer(EARLY, (t) => {
      const [token] = Object.entries(t.model.vocab).find(([, id]) => id === 300)!;
      delete t.model.vocab[token];
      t.model.vocab['Zq'] = 300;
    });
    const target = JSON.parse(
      readFileSync(join(TARGET, 'tokenizer.json'), 'utf8'),
    ) as TokenizerJson;
    const [token300] = Object.entries(target.model.vocab).find(([, id]) => id === 300)!;
    const err = await refusal(WIDE, renamed);
    expect(err.message).toContain(
      `token ${JSON.stringify(token300)} is id 300 in the target but missing in the draft (the first id where they differ)`,
    );
    expect(err.message).toMatch(/choose a draft from the target's model family/);
  });

  it('refuses a draft with a token the target lacks, naming it', async () => {
    const extra = withTokenizer(EARLY, (t) => {
      t.model.vocab['<|extra|>'] = 557;
    });
    const err = await refusal(TARGET, extra);
    expect(err.message).toContain('(557 vs 558 tokens)');
    expect(err.message).toContain(
      'token "<|extra|>" is id 557 in the draft but missing in the target',
    );
  });

  it('refuses a vocabulary with ids past the narrower model’s logits', async () => {
    // both tokenizers gain token 600: the wide target has a row for it, the draft has not
    const reserve = (t: TokenizerJson): void => {
      t.model.vocab['<|reserved_600|>'] = 600;
    };
    const err = await refusal(withTokenizer(WIDE, reserve), withTokenizer(EARLY, reserve));
    expect(err.message).toMatch(
      /has token "<\|reserved_600\|>" at id 600, but .*model has logits for ids 0 to 556 only \(vocab_size 557\)/,
    );
  });
});
