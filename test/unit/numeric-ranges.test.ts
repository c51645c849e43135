/**
 * Every numeric setting is refused at the same bounds by the CLI's flag parsers, the protocol's
 * schemas, the engine's check and the app's form (issue 32: seeds that wrapped modulo 2^32,
 * repeats and warm-ups without a bound, an empty temperature read as greedy).
 */
import { describe, expect, it } from 'vitest';
import { checkSampling } from '../../src/core/decoding/sampling';
import { numericFlags } from '../../src/cli/flagParsers';
import { RepetitionParams, SamplingParams } from '../../src/shared/decoding';
import {
  MAX_NO_REPEAT_NGRAM,
  MAX_REPEATS,
  MAX_SEED,
  MAX_TEMPERATURE,
  MAX_TOP_K,
  MAX_WARMUP,
} from '../../src/shared/limits';
import {
  checkRepeats,
  checkRepetition,
  checkSeed,
  checkTemperature,
  checkTopK,
} from '../../src/renderer/src/lib/setupValidation';

/** true when `parse` takes the text, false when it throws */
const cliTakes = (parse: (v: string) => number, text: string): boolean => {
  try {
    parse(text);
    return true;
  } catch {
    return false;
  }
};
const sampling = { temperature: 1, topK: 0, topP: 1, seed: 0 };
const engineTakes = (s: typeof sampling): boolean => {
  try {
    checkSampling(s);
    return true;
  } catch {
    return false;
  }
};

describe('one range per numeric setting, on every surface', () => {
  it('seeds: 0 to 2^32 - 1 (the generator keeps 32 bits: 2^32 would be seed 0 again)', () => {
    expect(MAX_SEED).toBe(2 ** 32 - 1);
    const cli = numericFlags.seed;
    for (const [seed, ok] of [
      [0, true],
      [MAX_SEED, true],
      [-1, false],
      [2 ** 32, false],
      [2 ** 53, false],
      [2 ** 64, false],
      [1e38, false],
    ] as const) {
      const text = seed === 1e38 ? '1e38' : BigInt(seed).toString();
      expect(cliTakes(cli, text), `CLI ${text}`).toBe(ok);
      expect(SamplingParams.safeParse({ ...sampling, seed }).success, `schema ${text}`).toBe(ok);
      expect(engineTakes({ ...sampling, seed }), `engine ${text}`).toBe(ok);
      expect(checkSeed(text).ok, `app ${text}`).toBe(ok);
    }
    expect(() => cli('4294967296')).toThrow(
      '--seed must be a whole number from 0 to 4294967295 (got 4294967296).',
    );
  });

  it('repeats: 1 to MAX_REPEATS in the CLI and the app', () => {
    const cli = numericFlags.repeats;
    for (const [n, ok] of [
      [0, false],
      [1, true],
      [MAX_REPEATS, true],
      [MAX_REPEATS + 1, false],
      [1000, false],
    ] as const) {
      expect(cliTakes(cli, String(n))).toBe(ok);
      expect(checkRepeats(String(n)).ok).toBe(ok);
    }
    expect(() => cli('1000')).toThrow('--repeats must be a whole number from 1 to 20 (got 1000).');
  });

  it('top-k: 0 to MAX_TOP_K in the CLI, the schema, the engine and the app', () => {
    const cli = numericFlags.topK;
    for (const [topK, ok] of [
      [0, true],
      [MAX_TOP_K, true],
      [MAX_TOP_K + 1, false],
      [-1, false],
    ] as const) {
      expect(cliTakes(cli, String(topK))).toBe(ok);
      expect(SamplingParams.safeParse({ ...sampling, topK }).success).toBe(ok);
      expect(engineTakes({ ...sampling, topK })).toBe(ok);
      expect(checkTopK(String(topK)).ok).toBe(ok);
    }
  });

  it('temperature: empty or not a number is an error, never greedy; at most MAX_TEMPERATURE', () => {
    const cli = numericFlags.temperature;
    for (const text of ['', ' ', 'hot', 'NaN', 'Infinity', String(MAX_TEMPERATURE + 0.5)]) {
      expect(cliTakes(cli, text), `CLI "${text}"`).toBe(false);
      expect(checkTemperature(text).ok, `app "${text}"`).toBe(false);
    }
    expect(() => cli('')).toThrow('--temperature must be a number from 0 (greedy) to 10 (got "").');
    expect(cli('0')).toBe(0);
    expect(cli(String(MAX_TEMPERATURE))).toBe(MAX_TEMPERATURE);
    expect(
      SamplingParams.safeParse({ ...sampling, temperature: MAX_TEMPERATURE + 0.5 }).success,
    ).toBe(false);
  });

  it('warm-up: 0 to MAX_WARMUP (the CLI alone runs warm-ups)', () => {
    expect(numericFlags.warmup(String(MAX_WARMUP))).toBe(MAX_WARMUP);
    expect(() => numericFlags.warmup('1000000')).toThrow(
      `--warmup must be a whole number from 0 to ${MAX_WARMUP} (got 1000000).`,
    );
  });

  it('no-repeat n-gram: 0 to MAX_NO_REPEAT_NGRAM in the CLI, the schema and the app', () => {
    const cli = numericFlags.noRepeatNgram;
    for (const [n, ok] of [
      [0, true],
      [MAX_NO_REPEAT_NGRAM, true],
      [MAX_NO_REPEAT_NGRAM + 1, false],
    ] as const) {
      expect(cliTakes(cli, String(n))).toBe(ok);
      expect(RepetitionParams.safeParse({ penalty: 1, noRepeatNgram: n }).success).toBe(ok);
      expect(checkRepetition('1', String(n)).ok).toBe(ok);
    }
  });
});
