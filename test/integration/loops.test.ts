/** Loop detection, what the CLI, the app and the report say about loops, and the stream's marks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectRepetition, loopNote } from '../../src/results/loops';
import { SpeculativeRun } from '../../src/core/decoding/speculative';
import { loadPair, releasePair, type ModelPair } from '../../src/core/model/pair';
import type { RunEndEvent } from '../../src/shared/events';
import {
  loopRole,
  StreamBuilder,
  streamLoop,
  type StreamLoop,
} from '../../src/renderer/src/lib/stream';
import { PAIR_DRAFT, PAIR_TARGET } from '../support/helpers';

describe('detectRepetition', () => {
  it('finds where the seed prompt’s greedy text falls into " the world of" and its period', () => {
    // the embedded pair's greedy output for the seed prompt, 60 tokens: the cycle breaks twice
    const ids = [
      262, 995, 13, 198, 464, 749, 286, 262, 995, 318, 262, 995, 286, 262, 995, 286, 262, 995, 286,
      262, 995, 286, 262, 995, 286, 262, 995, 286, 262, 995, 286, 262, 995, 286, 262, 995, 286, 262,
      995, 286, 262, 995, 11, 262, 995, 286, 262, 995, 286, 262, 995, 11, 262, 995, 11, 262, 995,
      286, 262, 995,
    ];
    expect(detectRepetition(ids)).toEqual({ start: 10, period: 3 });
  });

  it('prefers the earliest cycle, then the shortest period; short or absent cycles are none', () => {
    expect(detectRepetition([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])).toBeNull();
    expect(detectRepetition([7, 7, 7, 7, 7, 7, 7])).toBeNull(); // 7 tokens: under 8
    expect(detectRepetition([9, 7, 7, 7, 7, 7, 7, 7, 7])).toEqual({ start: 1, period: 1 });
    // a period-2 cycle from 2 (8 tokens), a period-1 cycle later
    expect(detectRepetition([1, 2, 3, 4, 3, 4, 3, 4, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5])).toEqual({
      start: 2,
      period: 2,
    });
    // period 4 needs 12 tokens (three periods)
    const four = [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3];
    expect(detectRepetition(four)).toBeNull();
    expect(detectRepetition([...four, 4])).toEqual({ start: 0, period: 4 });
  });
});

describe('loopNote', () => {
  const spec = (k: number, acc: number[], looping = true) => ({
    mode: 'speculative',
    k,
    repetition: looping ? { start: 10, period: 3 } : null,
    acceptanceByPosition: acc,
  });
  it('names the cycle, says what it does to the numbers, and the collapse at its length', () => {
    const rows = [
      { mode: 'baseline', k: null, repetition: { start: 10, period: 3 } },
      spec(1, [0.52]),
      spec(8, [0.88, 0.88, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03]),
    ];
    expect(loopNote(rows)).toBe(
      "Every run's output (3 of 3) falls into a 3-token cycle at new token 11 and keeps repeating it: acceptance and the best K then describe that loop, not open text. Repetition controls (no-repeat n-gram 3, say) break it. Acceptance by draft position at K=8 drops at position 3, the cycle's length (88% then 3%): within the loop the draft gets one token of each cycle wrong.",
    );
  });
  it('counts the runs that loop, and says nothing when none does', () => {
    expect(loopNote([spec(1, [0.5]), spec(2, [0.5, 0.5], false)])).toMatch(
      /^1 of 2 runs' outputs fall into a 3-token cycle at new token 11/,
    );
    expect(loopNote([spec(1, [0.5], false)])).toBeNull();
  });
  it('under controlled acceptance says the loop changes only the text, not what is accepted', () => {
    const controlled = { ...spec(8, [0.88, 0.88, 0.03]), acceptanceTarget: 0.8 };
    const note = loopNote([
      { mode: 'baseline', k: null, repetition: controlled.repetition },
      controlled,
    ]);
    expect(note).toMatch(/Acceptance is controlled \(--acceptance\), so the loop does not change/);
    expect(note).not.toMatch(/drops at position/);
    // with a real-drafting run beside it the usual warning stands, about the real run only
    const mixed = loopNote([controlled, spec(8, [0.88, 0.88, 0.03, 0.03])]);
    expect(mixed).toMatch(/describe that loop, not open text.*drops at position 3/);
  });
});

describe('the token stream marks the loop', () => {
  let pair: ModelPair;
  beforeAll(async () => {
    pair = await loadPair(PAIR_TARGET, PAIR_DRAFT);
  });
  afterAll(() => releasePair(pair));

  it('finds the cycle the results report, on the tokens the run emitted, at every K', async () => {
    const prompt = 'Artificial intelligence is rapidly transforming our world by';
    for (const k of [1, 3, 8]) {
      const run = new SpeculativeRun(pair, k, { prompt, maxNewTokens: 40 });
      const builder = new StreamBuilder();
      let result: RunEndEvent | null = null;
      let seenLive: StreamLoop | null = null;
      for await (const event of run.events()) {
        builder.apply(event);
        // mid-run the stream already shows the loop, once three periods are out
        seenLive = streamLoop(builder.tokens, seenLive);
        if (event.type === 'run-end') result = event;
      }
      const expected = detectRepetition(result!.outputTokenIds);
      expect(expected, `K=${k}: the seed prompt loops on the embedded pair`).not.toBeNull();
      const loop = streamLoop(builder.tokens);
      expect(loop).toMatchObject(expected!);
      expect(seenLive).toMatchObject(expected!);
      expect(loop!.cycleText).toBe(
        pair.tokenizer.decode(
          result!.outputTokenIds.slice(expected!.start, expected!.start + expected!.period),
        ),
      );
      // rejected drafts and the prompt are never marked; every output token from the start is
      const roles = builder.tokens.map((t) => loopRole(t, loop));
      builder.tokens.forEach((t, i) => {
        if (t.outputIndex === null) expect(roles[i]).toBeNull();
        else if (t.outputIndex < expected!.start) expect(roles[i]).toBeNull();
        else
          expect(roles[i]).toBe(
            (t.outputIndex - expected!.start) % expected!.period === 0 ? 'cycle-start' : 'in-loop',
          );
      });
      const outputs = builder.tokens.filter((t) => t.outputIndex !== null);
      expect(outputs.map((t) => t.tokenId)).toEqual(result!.outputTokenIds);
    }
  });
});
