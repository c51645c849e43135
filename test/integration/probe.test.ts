/**
 * The step detail view's probe, on real ONNX models: at every position a speculative run
 * verified, a fresh pass of each model over the context before it agrees with what the run
 * saw (the target's greedy choice is its top token, the draft's greedy draft is its top token,
 * the probabilities equal the run's); a probe in the middle of a step-by-step run changes
 * nothing about it; and in sampling runs each verdict follows from the recorded draw.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/shared/events';
import { probePosition } from '../../src/core/decoding/positionDetail';
import { SpeculativeRun } from '../../src/core/decoding/speculative';
import { loadPair, releasePair, type ModelPair } from '../../src/core/model/pair';
import { positionFacts } from '../../src/renderer/src/lib/stepDetail';
import { MICRO_A, MICRO_B, PAIR_DRAFT, PAIR_TARGET } from '../support/helpers';

const PROMPT = 'The old man looked out across the river and said';

async function eventsOf(run: SpeculativeRun): Promise<EngineEvent[]> {
  const events: EngineEvent[] = [];
  for await (const ev of run.events()) events.push(ev);
  return events;
}

describe('probe: both models at one position of a finished run', () => {
  let pair: ModelPair;
  beforeAll(async () => {
    pair = await loadPair(MICRO_A, MICRO_B);
  });
  afterAll(() => releasePair(pair));

  it('agrees with what a greedy run saw at every verified position (embedded pair)', async () => {
    // the embedded pair accepts often: positions deep in a step (after accepted drafts) count
    const embedded = await loadPair(PAIR_TARGET, PAIR_DRAFT);
    try {
      await agreesAtEveryPosition(embedded);
    } finally {
      await releasePair(embedded);
    }
  });

  it('and on the fixture pair, which rejects often', async () => {
    await agreesAtEveryPosition(pair);
  });

  async function agreesAtEveryPosition(pair: ModelPair): Promise<void> {
    const events = await eventsOf(
      new SpeculativeRun(pair, 4, { prompt: PROMPT, maxNewTokens: 40, reportProbabilities: true }),
    );
    const verifies = events.filter((e) => e.type === 'verify');
    const start = events[0] as Extract<EngineEvent, { type: 'run-start' }>;
    let checked = 0;
    let rejected = 0;
    let deep = 0;
    for (const v of verifies) {
      for (let i = 0; i < v.verdicts.length; i++) {
        if (v.verdicts[i] === 'unchecked') continue;
        const draft = events.find(
          (e) => e.type === 'draft' && e.step === v.step && e.index === i,
        ) as Extract<EngineEvent, { type: 'draft' }>;
        const facts = positionFacts(events, draft.position)!;
        expect(facts.verdict).toBe(v.verdicts[i]);
        expect(facts.drafted).toBe(v.draftedTokenIds[i]);
        expect(facts.context.slice(0, start.promptTokenIds.length)).toEqual(start.promptTokenIds);
        expect(facts.context).toHaveLength(draft.position);
        const r = await probePosition(pair, facts.context, {
          token: facts.drafted,
          sampling: null,
          repetition: null,
        });
        expect(r.target).toHaveLength(5);
        expect(r.draft).toHaveLength(5);
        // most likely first, and the target's top token is its greedy choice there
        expect(r.target.map((t) => t.prob)).toEqual(
          [...r.target.map((t) => t.prob)].sort((a, b) => b - a),
        );
        expect(r.target[0]!.tokenId).toBe(v.targetTokenIds[i]);
        expect(r.draft![0]!.tokenId).toBe(v.draftedTokenIds[i]);
        expect(r.targetProb!).toBeCloseTo(v.targetProbs![i]!, 5);
        expect(r.draftProb!).toBeCloseTo(draft.draftProb!, 5);
        if (v.verdicts[i] === 'rejected') {
          rejected++;
          // what the run wrote instead is the target's top token
          expect(facts.emitted).toBe(r.target[0]!.tokenId);
          expect(facts.emittedKind).toBe('correction');
        }
        checked++;
        if (i > 0) deep++;
      }
    }
    expect(checked).toBeGreaterThan(10);
    expect(rejected).toBeGreaterThan(0);
    if (pair.target.folder.dir === PAIR_TARGET) expect(deep).toBeGreaterThan(5);
  }

  it('leaves a step-by-step run exactly as it was', async () => {
    const plain = new SpeculativeRun(pair, 3, { prompt: PROMPT, maxNewTokens: 20 });
    const expected = (await plain.runToEnd()).outputTokenIds;
    const run = new SpeculativeRun(pair, 3, { prompt: PROMPT, maxNewTokens: 20 });
    const seen: EngineEvent[] = [];
    for (let step = 0; !run.done; step++) {
      seen.push(...((await run.nextStep()) ?? []));
      if (step === 2) {
        const passes = pair.target.lm.passes;
        const facts = positionFacts(seen, seen.find((e) => e.type === 'emit')!.position)!;
        await probePosition(pair, facts.context, { token: null, sampling: null, repetition: null });
        expect(pair.target.lm.passes).toBe(passes); // the probe is not counted as the run's
      }
    }
    const out = seen.filter((e) => e.type === 'emit').map((e) => e.tokenId);
    expect(out).toEqual(expected);
  });

  it('records each sampled verdict’s draw: accepted exactly when u < min(1, p/q)', async () => {
    const events = await eventsOf(
      new SpeculativeRun(pair, 3, {
        prompt: PROMPT,
        maxNewTokens: 30,
        reportProbabilities: true,
        sampling: { temperature: 0.9, topK: 0, topP: 1, seed: 7 },
      }),
    );
    let n = 0;
    for (const v of events.filter((e) => e.type === 'verify')) {
      const checkedCount = v.verdicts.filter((x) => x !== 'unchecked').length;
      expect(v.draws).toHaveLength(checkedCount);
      v.draws!.forEach((u, i) => {
        const draft = events.find(
          (e) => e.type === 'draft' && e.step === v.step && e.index === i,
        ) as Extract<EngineEvent, { type: 'draft' }>;
        const facts = positionFacts(events, draft.position)!;
        expect(facts.draw).toBe(u);
        const accept = Math.min(1, facts.p! / facts.q!);
        expect(v.verdicts[i]).toBe(u < accept ? 'accepted' : 'rejected');
        n++;
      });
    }
    expect(n).toBeGreaterThan(10);
  });

  it('refuses a context outside the models', async () => {
    await expect(
      probePosition(pair, [], { token: null, sampling: null, repetition: null }),
    ).rejects.toThrow(/needs 1 to/);
    await expect(
      probePosition(pair, [10 ** 7], { token: null, sampling: null, repetition: null }),
    ).rejects.toThrow(/Token ids must be whole numbers/);
  });
});
