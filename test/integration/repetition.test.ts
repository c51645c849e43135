/**
 * Repetition controls (Hugging Face's repetition_penalty and no_repeat_ngram_size): their
 * semantics on a hand-made row, and speculative decoding under them, which must stay
 * token-for-token the processed greedy baseline for every K, drafter and policy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineRun } from '../../src/core/decoding/baseline';
import { applyRepetition, type RepetitionParams } from '../../src/core/decoding/repetition';
import { SpeculativeRun } from '../../src/core/decoding/speculative';
import { loadPair, releasePair, type ModelPair } from '../../src/core/model/pair';
import { MICRO_A, MICRO_B, PAIR_DRAFT, PAIR_TARGET } from '../support/helpers';

describe('applyRepetition', () => {
  it('divides seen positive logits and multiplies seen negative ones by the penalty', () => {
    const row = Float32Array.from([2, -2, 4, 1]);
    applyRepetition(row, { penalty: 2, noRepeatNgram: 0 }, [0, 1, 0]);
    expect([...row]).toEqual([1, -4, 4, 1]);
  });

  it('bans the token that would repeat an n-gram, counting the drafts as text', () => {
    // text 5 6 7 5 6: the 3-gram "5 6 7" exists, so after "5 6" the token 7 is banned
    const row = new Float32Array(10).fill(0);
    applyRepetition(row, { penalty: 1, noRepeatNgram: 3 }, [5, 6, 7, 5], [6]);
    expect([...row].map((v, i) => (v === -Infinity ? i : null)).filter((x) => x !== null)).toEqual([
      7,
    ]);
    // n = 1 bans every token already in the text; a text shorter than n - 1 bans nothing
    const one = new Float32Array(6).fill(0);
    applyRepetition(one, { penalty: 1, noRepeatNgram: 1 }, [1, 3]);
    expect([...one]).toEqual([0, -Infinity, 0, -Infinity, 0, 0]);
    const short = new Float32Array(6).fill(0);
    applyRepetition(short, { penalty: 1, noRepeatNgram: 4 }, [1, 3]);
    expect([...short]).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

const SETTINGS: RepetitionParams[] = [
  { penalty: 1, noRepeatNgram: 3 },
  { penalty: 1.3, noRepeatNgram: 0 },
  { penalty: 1.2, noRepeatNgram: 2 },
];

/** every n-gram of the whole text (prompt included) occurs once */
function repeatsNgram(ids: readonly number[], n: number): boolean {
  const seen = new Set<string>();
  for (let i = 0; i + n <= ids.length; i++) {
    const key = ids.slice(i, i + n).join(',');
    if (seen.has(key)) return true;
    seen.add(key);
  }
  return false;
}

describe.each([
  ['the fixtures (micro-a, micro-b)', MICRO_A, MICRO_B, 'The old man said'],
  [
    'the embedded pair',
    PAIR_TARGET,
    PAIR_DRAFT,
    'Artificial intelligence is rapidly transforming our world by',
  ],
])('greedy speculative decoding under repetition controls, on %s', (_name, t, d, prompt) => {
  let pair: ModelPair;
  beforeAll(async () => {
    pair = await loadPair(t, d);
  });
  afterAll(() => releasePair(pair));

  it.each(SETTINGS)('equals the processed baseline for K = 1..8: %o', async (repetition) => {
    const options = { prompt, maxNewTokens: 48, repetition };
    const plain = await new BaselineRun(pair, { prompt, maxNewTokens: 48 }).runToEnd();
    const base = await new BaselineRun(pair, options).runToEnd();
    // the controls change the text (else this test would prove nothing)
    expect(base.outputTokenIds).not.toEqual(plain.outputTokenIds);
    if (repetition.noRepeatNgram > 0) {
      const text = [...pair.tokenizer.encode(prompt), ...base.outputTokenIds];
      expect(repeatsNgram(text, repetition.noRepeatNgram)).toBe(false);
    }
    for (let k = 1; k <= 8; k++) {
      for (const [policy, drafter] of [
        ['fixed', 'model'],
        ['heuristic', 'model'],
        ['fixed', 'prompt-lookup'],
      ] as const) {
        const spec = await new SpeculativeRun(pair, k, { ...options, policy, drafter }).runToEnd();
        expect(spec.outputTokenIds, `K=${k} ${drafter}/${policy}`).toEqual(base.outputTokenIds);
      }
    }
  });
});
