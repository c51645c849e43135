/** checkSweepConfig: a prompt that fills the context alone is the prompt's error, not max new tokens'. */
import { expect, it } from 'vitest';
import { SpecDecError } from '../../src/core/errors';
import { checkSweepConfig, type SweepConfig } from '../../src/core/experiment/sweep';
import type { PairFit } from '../../src/core/model/pair';

/** one token per word: enough to size prompts against a 16-token context */
const pair: PairFit = {
  nPositions: 16,
  hasDraft: true,
  tokenizer: {
    encode: (text) => text.split(' ').map((_, i) => i),
    decode: () => '',
    tokenText: () => '',
    vocab: () => new Map(),
    eosTokenId: null,
    hasChatTemplate: false,
    encodeChat: () => [],
  },
};
const words = (n: number): string => Array.from({ length: n }, () => 'w').join(' ');
const config = (prompts: string[], maxNewTokens: number): SweepConfig => ({
  prompts,
  maxNewTokens,
  ks: [1],
  repeats: 1,
  warmup: 0,
  noKvCache: false,
});

function refusal(c: SweepConfig): SpecDecError {
  try {
    checkSweepConfig(c, pair);
  } catch (err) {
    if (err instanceof SpecDecError) return err;
    throw err;
  }
  throw new Error('the config was accepted');
}

it('names the prompt, and says to shorten it, when the prompt alone fills the context', () => {
  for (const n of [16, 3000]) {
    const err = refusal(config([words(n)], 4));
    expect(err.code).toBe('PROMPT_TOO_LONG');
    expect(err.message).toBe(
      `The prompt is ${n} tokens and the models hold 16 in all, so no new token fits. Shorten it to under 16 tokens.`,
    );
    expect(err.message).not.toMatch(/max new tokens/i);
  }
  const set = refusal(config([words(3), words(20)], 4));
  expect(set.code).toBe('PROMPT_TOO_LONG');
  expect(set.message).toMatch(/^Prompt 2 of the set is 20 tokens .* Shorten that prompt/);
});

it('names max new tokens when the prompt fits but the two together do not', () => {
  const err = refusal(config([words(10)], 8));
  expect(err.code).toBe('MAX_NEW_TOKENS_INVALID');
  expect(err.message).toContain('so at most 6 new tokens fit');
  expect(() => checkSweepConfig(config([words(10)], 6), pair)).not.toThrow();
});
