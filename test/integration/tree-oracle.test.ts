/**
 * Token trees under controlled acceptance (the tree oracle, src/shared/treeAcceptance.ts): a
 * 1-wide tree is the chain oracle step for step; each draft rank holds the target's token with
 * probability A given the earlier ranks did not (within a binomial bound), so the measured
 * tokens per verification is Sequoia's expectation with p_r = A; the output is the baseline's for
 * every shape and alpha on the micro pair, the embedded pair and the families' tiny pairs; and
 * acceptance by rank comes
 * with every TreeRun's stats, equal to what a sweep reports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineRun } from '../../src/core/decoding/baseline';
import type { RunResult } from '../../src/core/decoding/decodeRun';
import { SpeculativeRun } from '../../src/core/decoding/speculative';
import { TreeRun, type TreeRunOptions } from '../../src/core/decoding/tree/treeRun';
import { loadPair, releasePair, type ModelPair } from '../../src/core/model/pair';
import { runExperiment } from '../../src/lab/experiment';
import { sweepPlan } from '../../src/lab/runPlan';
import { expectedTokensOfShape } from '../../src/results/treeTheory';
import type { EngineEvent, TreeNodeEvent } from '../../src/shared/events';
import { oracleRankAcceptance } from '../../src/shared/treeAcceptance';
import { addRankCounts, emptyRankCounts } from '../../src/shared/treeRanks';
import { treeNodeCount } from '../../src/shared/treeShape';
import { join } from 'node:path';
import { MICRO_A, MICRO_B, PAIR_DRAFT, PAIR_TARGET, ROOT } from '../support/helpers';

const FAMILIES = join(ROOT, 'test', 'fixtures', 'families');

const PROMPTS = [
  'The old man looked out across the river and said',
  'She opened the letter and read',
  'In the morning the town was quiet, and',
  'He said that the government would',
];

async function baseline(pair: ModelPair, prompt: string, maxNewTokens: number) {
  return new BaselineRun(pair, { prompt, maxNewTokens }).runToEnd();
}

function treeOracle(
  pair: ModelPair,
  shape: number[],
  truth: RunResult,
  acceptance: number,
  seed: number,
  extra: Partial<TreeRunOptions> = {},
): TreeRun {
  return new TreeRun(pair, {
    prompt: PROMPTS[0]!,
    maxNewTokens: truth.outputTokenIds.length,
    shape,
    oracle: { acceptance, baselineTokenIds: truth.outputTokenIds, seed },
    ...extra,
  });
}

async function eventsOf(run: TreeRun | SpeculativeRun): Promise<{
  events: EngineEvent[];
  result: RunResult;
}> {
  const events: EngineEvent[] = [];
  for await (const e of run.events()) events.push(e);
  return { events, result: await run.runToEnd() };
}

const verifies = (events: EngineEvent[]) => events.flatMap((e) => (e.type === 'verify' ? [e] : []));

describe('the tree oracle on the micro pair', () => {
  let pair: ModelPair;
  beforeAll(async () => {
    pair = await loadPair(MICRO_A, MICRO_B);
  });
  afterAll(() => releasePair(pair));

  it('a 1-wide tree (1,1,1) under A = 0.7 is the chain oracle K=3, step for step, same seed', async () => {
    for (const [i, prompt] of PROMPTS.entries()) {
      const truth = await baseline(pair, prompt, 40);
      const seed = 7 + i;
      const tree = await eventsOf(treeOracle(pair, [1, 1, 1], truth, 0.7, seed, { prompt }));
      const chain = await eventsOf(
        new SpeculativeRun(pair, 3, {
          prompt,
          maxNewTokens: truth.outputTokenIds.length,
          oracle: { acceptance: 0.7, baselineTokenIds: truth.outputTokenIds, seed },
        }),
      );
      // the same verdicts at every step, the same tokens checked up to the first rejection
      const treeSteps = verifies(tree.events);
      const chainSteps = verifies(chain.events);
      expect(treeSteps.map((v) => v.verdicts)).toEqual(chainSteps.map((v) => v.verdicts));
      treeSteps.forEach((v, s) => {
        const checked = v.verdicts.filter((x) => x === 'accepted').length;
        expect(v.draftedTokenIds.slice(0, checked)).toEqual(
          chainSteps[s]!.draftedTokenIds.slice(0, checked),
        );
      });
      const { result: t } = tree;
      const { result: c } = chain;
      expect(t.outputTokenIds).toEqual(truth.outputTokenIds);
      expect(c.outputTokenIds).toEqual(truth.outputTokenIds);
      for (const key of [
        'targetPasses',
        'draftPasses',
        'verificationSteps',
        'acceptedTokens',
        'draftedTokens',
      ] as const)
        expect(t.metrics[key], key).toBe(c.metrics[key]);
      expect(t.acceptedPerStepHistogram).toEqual(c.acceptedPerStepHistogram);
      expect(t.acceptanceTarget).toBe(0.7);
      expect(t.draftModelAgreement).toEqual(c.draftModelAgreement);
      // the draft's own ranks behind the oracle: rank 1 is its agreement with the target
      const own = t.tree!.draftModelRanks!;
      expect([own.tested[0], own.accepted[0]]).toEqual([
        t.draftModelAgreement!.positions,
        t.draftModelAgreement!.agreed,
      ]);
      own.tested.slice(1).forEach((n, r) => expect(n).toBe(own.tested[r]! - own.accepted[r]!));
      // one rank only: tested at every position the walk reached, accepted where the chain was
      expect(t.tree!.ranks!.accepted).toEqual([c.metrics.acceptedTokens]);
      expect(t.tree!.ranks!.tested).toEqual([t.draftTokensTested]);
    }
  });

  it.each([0.5, 0.8])(
    'at A = %s each rank holds the target token with probability A (within 4 sigma), and tokens per verification is the theory’s',
    async (acceptance) => {
      const shape = [3, 2];
      const counts = emptyRankCounts();
      // accepted per full step (the whole shape drafted): the theory's expectation minus one
      const accepted: number[] = [];
      let seed = 0;
      while ((counts.tested[1] ?? 0) < 800) {
        const prompt = PROMPTS[seed % PROMPTS.length]!;
        const truth = await baseline(pair, prompt, 40);
        const { events, result } = await eventsOf(
          treeOracle(pair, shape, truth, acceptance, 500 + seed, { prompt }),
        );
        expect(result.outputTokenIds).toEqual(truth.outputTokenIds);
        for (const v of verifies(events)) {
          const nodes: TreeNodeEvent[] = v.tree!.nodes;
          addRankCounts(counts, nodes);
          if (nodes.length === treeNodeCount(shape))
            accepted.push(nodes.filter((n) => n.verdict === 'accepted').length);
        }
        seed++;
      }
      // every rank tested often enough to be held to the bound (rank 3 is rare at high A)
      counts.tested.forEach((tested, r) => {
        if (tested < 100) return;
        const sigma = Math.sqrt((acceptance * (1 - acceptance)) / tested);
        expect(
          Math.abs(counts.accepted[r]! / tested - acceptance),
          `rank ${r + 1}`,
        ).toBeLessThanOrEqual(4 * sigma);
      });
      const expected = expectedTokensOfShape(shape, oracleRankAcceptance(acceptance, 3)) - 1;
      const mean = accepted.reduce((a, b) => a + b, 0) / accepted.length;
      const variance = accepted.reduce((a, b) => a + (b - mean) ** 2, 0) / (accepted.length - 1);
      expect(Math.abs(mean - expected)).toBeLessThanOrEqual(
        4 * Math.sqrt(variance / accepted.length),
      );
    },
  );

  it('gives the baseline output for every shape and alpha, both ways of verifying', async () => {
    for (const [i, prompt] of PROMPTS.slice(0, 2).entries()) {
      const truth = await baseline(pair, prompt, 40);
      for (const shape of [[2], [3, 2, 1], [2, 2, 2], [4, 1, 1], [1, 1, 1, 1, 1]])
        for (const acceptance of [0.2, 0.6, 0.9])
          for (const verify of ['mask', 'rows'] as const) {
            if (verify === 'mask' && !pair.target.lm.takesTreeMask) continue;
            const r = await treeOracle(pair, shape, truth, acceptance, i, {
              prompt,
              verify,
            }).runToEnd();
            expect(r.outputTokenIds, `${shape} at ${acceptance} ${verify}`).toEqual(
              truth.outputTokenIds,
            );
            // one target pass per step, honest counts: a draft pass per depth drafted
            expect(r.metrics.targetPasses).toBe(
              r.metrics.verificationSteps + r.metrics.targetOnlyTokens,
            );
            expect(r.acceptanceTarget).toBe(acceptance);
          }
    }
  });

  it('refuses a node budget and sampling under the oracle, saying why', () => {
    const truth = { outputTokenIds: [1, 2, 3] } as RunResult;
    expect(() => treeOracle(pair, [2], truth, 0.5, 0, { shape: undefined, budget: 8 })).toThrow(
      /node budget's tree is shaped by the draft's probabilities/,
    );
    expect(() =>
      treeOracle(pair, [2], truth, 0.5, 0, {
        sampling: { temperature: 1, topK: 0, topP: 1, seed: 0 },
      }),
    ).toThrow(/needs greedy decoding/);
    for (const a of [0, 1])
      expect(() => treeOracle(pair, [2], truth, a, 0)).toThrow(/between 0 and 1/);
  });

  it('a direct TreeRun carries acceptance by rank, equal to what the sweep reports', async () => {
    const config = sweepPlan(
      {
        prompts: [PROMPTS[1]!],
        maxNewTokens: 30,
        ks: [2],
        repeats: 1,
        policies: ['fixed'],
        drafters: ['model'],
        pMin: 0.5,
        sampling: null,
        trees: [[3, 2]],
      },
      { warmup: 0 },
    );
    const swept = await runExperiment(pair, config);
    const row = swept.rows.find((r) => r.tree)!;
    const direct = await eventsOf(
      new TreeRun(pair, { prompt: PROMPTS[1]!, maxNewTokens: 30, shape: [3, 2] }),
    );
    const fromEvents = emptyRankCounts();
    for (const v of verifies(direct.events)) addRankCounts(fromEvents, v.tree!.nodes);
    expect(direct.result.tree!.ranks).toEqual(fromEvents);
    expect(row.tree!.ranks).toEqual(direct.result.tree!.ranks);
    expect(fromEvents.tested[0]).toBeGreaterThan(0);
  });
});

describe('the tree oracle on the embedded pair', () => {
  let pair: ModelPair;
  beforeAll(async () => {
    pair = await loadPair(PAIR_TARGET, PAIR_DRAFT);
  });
  afterAll(() => releasePair(pair));

  it('gives the baseline output for several shapes and alphas; 1,1,1 is the chain K=3', async () => {
    const prompt = PROMPTS[0]!;
    const truth = await baseline(pair, prompt, 24);
    for (const shape of [
      [3, 2, 1],
      [2, 2],
      [1, 1, 1],
    ])
      for (const acceptance of [0.5, 0.9])
        for (const verify of ['auto', 'rows'] as const) {
          const r = await treeOracle(pair, shape, truth, acceptance, 3, {
            prompt,
            verify,
          }).runToEnd();
          expect(r.outputTokenIds, `${shape} at ${acceptance} ${verify}`).toEqual(
            truth.outputTokenIds,
          );
          expect(r.tree!.ranks!.tested[0]).toBeGreaterThan(0);
        }
    const tree = await treeOracle(pair, [1, 1, 1], truth, 0.7, 11, { prompt }).runToEnd();
    const chain = await new SpeculativeRun(pair, 3, {
      prompt,
      maxNewTokens: truth.outputTokenIds.length,
      oracle: { acceptance: 0.7, baselineTokenIds: truth.outputTokenIds, seed: 11 },
    }).runToEnd();
    expect(tree.acceptedPerStepHistogram).toEqual(chain.acceptedPerStepHistogram);
    expect(tree.metrics.targetPasses).toBe(chain.metrics.targetPasses);
    expect(tree.metrics.draftPasses).toBe(chain.metrics.draftPasses);
  });
});

describe.each(['llama', 'qwen2', 'phi3'])('the tree oracle on the %s stand-ins', (family) => {
  let pair: ModelPair;
  beforeAll(async () => {
    pair = await loadPair(
      join(FAMILIES, `${family}-tiny-target`),
      join(FAMILIES, `${family}-tiny-early`),
    );
  });
  afterAll(() => releasePair(pair));

  it('gives the baseline output for several shapes and alphas', async () => {
    const prompt = PROMPTS[1]!;
    const truth = await baseline(pair, prompt, 20);
    for (const shape of [
      [3, 2, 1],
      [2, 2],
    ])
      for (const acceptance of [0.4, 0.9]) {
        const r = await treeOracle(pair, shape, truth, acceptance, 5, { prompt }).runToEnd();
        expect(r.outputTokenIds, `${shape} at ${acceptance}`).toEqual(truth.outputTokenIds);
        expect(r.acceptanceTarget).toBe(acceptance);
      }
  });
});
