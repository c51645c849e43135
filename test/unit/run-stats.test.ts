/** RunStats (src/core/decoding/runStats.ts): the engines' counts observed from a run's events. */
import { describe, expect, it } from 'vitest';
import { RunStats } from '../../src/core/decoding/runStats';
import type { EngineEvent } from '../../src/shared/events';

type Verdict = 'accepted' | 'rejected' | 'unchecked';

/** one verification step's events: its drafts and its verdicts */
function step(verdicts: Verdict[]): EngineEvent[] {
  const drafts = verdicts.map((_, index): EngineEvent => ({
    type: 'draft',
    runId: 'r',
    step: 1,
    index,
    position: index,
    tokenId: 1,
    text: 'x',
    draftProb: null,
  }));
  const verify: EngineEvent = {
    type: 'verify',
    runId: 'r',
    step: 1,
    draftedTokenIds: verdicts.map(() => 1),
    verdicts,
    targetTokenIds: [],
    targetProbs: null,
    minLogitMargin: 0,
  };
  return [...drafts, verify];
}

describe('RunStats: the per-step histogram and the drafts tested', () => {
  it('counts each verification step by its accepted drafts, and only decided drafts as tested', () => {
    const stats = new RunStats();
    const steps: Verdict[][] = [
      ['accepted', 'accepted', 'accepted', 'accepted'], // every draft stood
      ['accepted', 'rejected', 'unchecked', 'unchecked'], // two tested, two never
      ['rejected', 'unchecked', 'unchecked', 'unchecked'],
      ['accepted', 'rejected', 'unchecked', 'unchecked'],
    ];
    for (const s of steps) for (const ev of step(s)) stats.observe(ev);
    expect(stats.acceptedPerStepHistogram(4)).toEqual([1, 2, 0, 0, 1]);
    expect(stats.draftTokensTested()).toBe(4 + 2 + 1 + 2);
    expect(stats.counts().draftedTokens).toBe(16);
    expect(stats.counts().acceptedTokens).toBe(6);
  });

  it('a run with no verification step has an all-zero histogram of K + 1 bins', () => {
    expect(new RunStats().acceptedPerStepHistogram(3)).toEqual([0, 0, 0, 0]);
    expect(new RunStats().draftTokensTested()).toBe(0);
  });
});

describe('RunStats: acceptance by draft rank, observed beside a tree run', () => {
  /** a verified tree: each node's parent and verdict (siblings in rank order) */
  function treeVerify(nodes: Array<[number, Verdict]>): EngineEvent {
    return {
      type: 'verify',
      runId: 'r',
      step: 1,
      draftedTokenIds: nodes.map(() => 1),
      verdicts: nodes.map(([, v]) => v),
      targetTokenIds: [],
      targetProbs: null,
      minLogitMargin: 0,
      tree: {
        verify: 'mask',
        nodes: nodes.map(([parent, verdict]) => ({
          parent,
          depth: parent < 0 ? 1 : 2,
          tokenId: 1,
          draftProb: null,
          verdict,
        })),
      },
    };
  }

  it('counts ranks tested and accepted from the verify events; none for a chain', () => {
    const chain = new RunStats();
    for (const ev of step(['accepted', 'rejected'])) chain.observe(ev);
    expect(chain.rankCounts()).toBeNull();

    const stats = new RunStats();
    // the root's 2nd child accepted, then under it the 1st: ranks 1, 2 tested at the root, 1 below
    stats.observe(
      treeVerify([
        [-1, 'rejected'],
        [-1, 'accepted'],
        [0, 'unchecked'],
        [1, 'accepted'],
      ]),
    );
    // every child of the root rejected
    stats.observe(
      treeVerify([
        [-1, 'rejected'],
        [-1, 'rejected'],
      ]),
    );
    expect(stats.rankCounts()).toEqual({ tested: [3, 2], accepted: [1, 1] });
  });
});
