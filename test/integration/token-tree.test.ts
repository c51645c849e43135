/**
 * Token trees (issue 35), greedy, static shapes and node budgets, on real models: the micro fixture pair, the embedded pair and
 * the llama family's stand-ins. Output identical to the baseline for every shape; a tree never
 * needs more target passes than the chain of its depth (its first path is that chain), and a
 * tree of one child per depth is exactly that chain, pass for pass; one target pass per step;
 * both caches one row, holding exactly the final tokens, after every step.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineRun } from '../../src/core/decoding/baseline';
import type { DecodeRun, RunResult } from '../../src/core/decoding/decodeRun';
import { SpeculativeRun } from '../../src/core/decoding/speculative';
import { TreeRun } from '../../src/core/decoding/tree/treeRun';
import { loadPair, releasePair, type ModelPair } from '../../src/core/model/pair';
import { argmaxWithMargin } from '../../src/core/model/argmax';
import type { EngineEvent, TreeVerifyMode } from '../../src/shared/events';
import { treeNodeCount } from '../../src/shared/treeShape';
import { MICRO_A, MICRO_B, PAIR_DRAFT, PAIR_TARGET, ROOT } from '../support/helpers';
import { checkEvents } from '../support/runEvents';

const PROMPTS = [
  'Artificial intelligence is rapidly transforming our world by',
  'The old man looked out across the river and said',
  'In 1961 the committee',
];
const SHAPES = [[1], [3], [1, 1, 1], [3, 2, 1], [2, 2, 2, 2], [4, 1, 1], [2, 1, 1, 1, 1]];
const FAMILIES = join(ROOT, 'test', 'fixtures', 'families');

/** every event of a run, stepping it to the end; after each step, both caches' shape */
async function collectChecked(
  run: DecodeRun,
  pair: ModelPair,
  /** how deep the first-child path is the draft's greedy chain (a static shape: all of it) */
  greedyDepth = Infinity,
): Promise<{ events: EngineEvent[]; result: RunResult }> {
  const events: EngineEvent[] = [];
  for (let evs = await run.nextStep(); evs; evs = await run.nextStep()) {
    const before = events.filter((e) => e.type === 'emit').map((e) => e.tokenId);
    const verify = evs.find((e) => e.type === 'verify');
    // the tree was drafted from the right draft state: its first-child path is the greedy
    // chain a fresh draft pass over the context gives (a wrong cache row would change it)
    if (verify?.tree)
      await checkGreedyPath(
        pair,
        [...run.promptTokenIds, ...before],
        verify.tree.nodes,
        greedyDepth,
      );
    events.push(...evs);
    if (run.done) break;
    // what a chain leaves: one row, the context minus its pending token at most
    const emitted = events.filter((e) => e.type === 'emit').length;
    const final = run.promptTokenIds.length + emitted - 1;
    expect(pair.target.lm.batch).toBe(1);
    expect(pair.target.lm.length).toBe(final);
    expect(pair.draft!.lm.batch).toBe(1);
    expect(pair.draft!.lm.length).toBeLessThanOrEqual(final);
  }
  return { events, result: await run.runToEnd() };
}

async function checkGreedyPath(
  pair: ModelPair,
  context: readonly number[],
  nodes: ReadonlyArray<{ parent: number; tokenId: number }>,
  depth: number,
): Promise<void> {
  const gap = new Float64Array(1);
  const path: number[] = [];
  for (let at = -1, d = 0; d < depth; d++) {
    const child = nodes.findIndex((n) => n.parent === at);
    if (child < 0) return;
    const row = await pair.draft!.lm.probe([...context, ...path]);
    const greedy = argmaxWithMargin(row, gap);
    // a near tie may fall either way between a fresh pass and a cached one
    if (gap[0]! > 1e-3) expect(nodes[child]!.tokenId, `depth ${d + 1}`).toBe(greedy);
    path.push(nodes[child]!.tokenId);
    at = child;
  }
}

/** the losslessness and pass-count checks of every shape on one pair, verified each way */
async function checkShapes(
  pair: ModelPair,
  prompt: string,
  maxNewTokens: number,
  modes: readonly TreeVerifyMode[],
): Promise<void> {
  const base = await new BaselineRun(pair, { prompt, maxNewTokens }).runToEnd();
  /** target passes by shape, each way: the mask and the rows verify the same trees */
  const passes = new Map<string, Set<number>>();
  for (const [shape, verify] of SHAPES.flatMap((s) => modes.map((m) => [s, m] as const))) {
    const chain = await new SpeculativeRun(pair, shape.length, { prompt, maxNewTokens }).runToEnd();
    const tree = await collectChecked(
      new TreeRun(pair, { prompt, maxNewTokens, shape, verify, reportProbabilities: true }),
      pair,
    );
    const m = tree.result.metrics;
    expect(tree.result.outputTokenIds, `tree ${shape} ${verify}`).toEqual(base.outputTokenIds);
    checkEvents(tree.events, tree.result);
    // the invariant: the chain is one of the tree's paths
    expect(m.targetPasses, `tree ${shape} ${verify}`).toBeLessThanOrEqual(
      chain.metrics.targetPasses,
    );
    // one draft pass per depth drafted, the nodes counted as drafted tokens
    expect(m.draftedTokens).toBe(tree.result.kPerStep.reduce((a, b) => a + b, 0));
    expect(Math.max(...tree.result.kPerStep)).toBeLessThanOrEqual(treeNodeCount(shape));
    expect(tree.result.tree).toMatchObject({ shape, verify });
    // one target pass per tree step
    expect(m.targetPasses).toBe(tree.result.kPerStep.length);
    passes.set(`${shape}`, (passes.get(`${shape}`) ?? new Set()).add(m.targetPasses));
    if (shape.every((b) => b === 1)) {
      // one child per depth is the chain itself, step for step
      expect(m.targetPasses).toBe(chain.metrics.targetPasses);
      expect(m.draftPasses).toBe(chain.metrics.draftPasses);
      expect(tree.result.acceptedPerStepHistogram).toEqual(chain.acceptedPerStepHistogram);
    }
  }
  for (const [shape, counts] of passes) expect(counts.size, `tree ${shape}: mask and rows`).toBe(1);
}

const BUDGETS = [1, 4, 16, 64];

/** dynamic trees (a node budget): lossless, at most N nodes a step, budget 1 the K=1 chain */
async function checkBudgets(
  pair: ModelPair,
  prompt: string,
  maxNewTokens: number,
  modes: readonly TreeVerifyMode[],
): Promise<void> {
  const base = await new BaselineRun(pair, { prompt, maxNewTokens }).runToEnd();
  const k1 = await new SpeculativeRun(pair, 1, { prompt, maxNewTokens }).runToEnd();
  for (const [budget, verify] of BUDGETS.flatMap((b) => modes.map((m) => [b, m] as const))) {
    const tree = await collectChecked(
      new TreeRun(pair, { prompt, maxNewTokens, budget, verify, reportProbabilities: true }),
      pair,
      1, // a budget's tree holds the draft's greedy token at depth 1, not always below
    );
    const label = `budget ${budget} ${verify}`;
    expect(tree.result.outputTokenIds, label).toEqual(base.outputTokenIds);
    checkEvents(tree.events, tree.result);
    expect(tree.result.tree).toMatchObject({ budget, verify });
    expect(Math.max(...tree.result.kPerStep)).toBeLessThanOrEqual(budget);
    for (const v of tree.events.filter((e) => e.type === 'verify')) {
      const nodes = v.tree!.nodes;
      // a node's path probability never exceeds its parent's: the best N form a tree
      const score = (i: number): number =>
        i < 0 ? 1 : nodes[i]!.draftProb! * score(nodes[i]!.parent);
      nodes.forEach((n, i) => {
        expect(n.parent).toBeLessThan(i);
        expect(score(i)).toBeLessThanOrEqual(score(n.parent));
      });
    }
    if (budget === 1) {
      expect(tree.result.metrics.targetPasses, label).toBe(k1.metrics.targetPasses);
      expect(tree.result.metrics.draftPasses, label).toBe(k1.metrics.draftPasses);
    }
  }
}

describe('token trees on the micro fixture pair (micro-a target, micro-b draft)', () => {
  let pair: ModelPair;
  beforeAll(async () => {
    pair = await loadPair(MICRO_A, MICRO_B);
  });
  afterAll(() => releasePair(pair));

  it.each(PROMPTS)('every shape is lossless and never costs more passes: %s', async (prompt) => {
    await checkShapes(pair, prompt, 30, ['mask', 'rows']);
  });

  it('each step verifies the tree in one target pass and reports its nodes', async () => {
    const prompt = PROMPTS[0]!;
    const shape = [3, 2, 1];
    const { events, result } = await collectChecked(
      new TreeRun(pair, { prompt, maxNewTokens: 12, shape, reportProbabilities: true }),
      pair,
    );
    const verifies = events.filter((e) => e.type === 'verify');
    expect(result.metrics.targetPasses).toBe(verifies.length + result.metrics.targetOnlyTokens);
    for (const v of verifies) {
      const nodes = v.tree!.nodes;
      // the fused GPT-2 graph takes the tree mask: auto verifies under it
      expect(v.tree!.verify).toBe('mask');
      expect(nodes.map((n) => n.tokenId)).toEqual(v.draftedTokenIds);
      expect(nodes.map((n) => n.verdict)).toEqual(v.verdicts);
      // depth by depth, parents before children, 3 then 2 under each then 1 under each
      expect(nodes.filter((n) => n.depth === 1)).toHaveLength(3);
      nodes.forEach((n, i) => expect(n.parent).toBeLessThan(i));
      for (const n of nodes) expect(n.draftProb).toBeGreaterThan(0);
      // siblings: the greedy first child has the highest draft probability
      for (let p = -1; p < nodes.length; p++) {
        const kids = nodes.filter((n) => n.parent === p);
        for (const k of kids.slice(1))
          expect(k.draftProb!).toBeLessThanOrEqual(kids[0]!.draftProb!);
      }
      // the accepted nodes form one path from the root
      const accepted = nodes.flatMap((n, i) => (n.verdict === 'accepted' ? [i] : []));
      accepted.forEach((i, d) => expect(nodes[i]!.parent).toBe(d === 0 ? -1 : accepted[d - 1]));
    }
    // three draft passes per full-depth step (one per depth, the depth's nodes batched)
    const steps = verifies.length;
    expect(result.metrics.draftPasses).toBeLessThanOrEqual(3 * steps + 1);
    expect(result.metrics.draftPasses).toBeGreaterThanOrEqual(3 * steps - 3);
  });

  it('stops at max new tokens and at the context limit as a chain does', async () => {
    for (const max of [1, 2, 5]) {
      const r = await new TreeRun(pair, {
        prompt: PROMPTS[0]!,
        maxNewTokens: max,
        shape: [3, 2, 1],
      }).runToEnd();
      expect(r.outputTokenIds).toHaveLength(max);
      expect(r.stopReason).toBe('max-new-tokens');
    }
  });

  it('refuses a sampled node budget and a bad shape with a clear message', () => {
    const prompt = PROMPTS[0]!;
    // sampled static shapes and the repetition controls run: tree-sampling.test.ts, tree-repetition.test.ts
    expect(
      () =>
        new TreeRun(pair, {
          prompt,
          maxNewTokens: 4,
          budget: 8,
          sampling: { temperature: 0.8, topK: 0, topP: 1, seed: 1 },
        }),
    ).toThrow(/A node budget keeps the draft's most probable paths/);
    expect(() => new TreeRun(pair, { prompt, maxNewTokens: 4, shape: [9, 9] })).toThrow(/nodes/);
  });

  it('a gathered row continues exactly as a single-row pass over the same tokens', async () => {
    const lm = pair.target.lm;
    const prefix = [46, 146, 58];
    const next = [11, 290, 373].map((t) => t % 500);
    lm.reset();
    await lm.forward(prefix);
    lm.selectRows([0, 0, 0]);
    const rows = await lm.forwardRows(next.map((t) => [t, 13]));
    lm.selectRows([2]);
    expect(lm.batch).toBe(1);
    const after = await lm.forward([5]);
    for (const [r, t] of next.entries()) {
      lm.reset();
      const one = await lm.forward([...prefix, t, 13]);
      const diff = (a: Float32Array, b: Float32Array): number =>
        a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
      expect(diff(rows.row(2 * r), one.row(3))).toBeLessThan(1e-4);
      expect(diff(rows.row(2 * r + 1), one.row(4))).toBeLessThan(1e-4);
      if (r === 2) {
        const cont = await lm.forward([5]);
        expect(diff(after.row(0), cont.row(0))).toBeLessThan(1e-4);
      }
    }
    lm.reset();
  });
});

describe('token trees on the embedded pair', () => {
  let pair: ModelPair;
  beforeAll(async () => {
    pair = await loadPair(PAIR_TARGET, PAIR_DRAFT);
  });
  afterAll(() => releasePair(pair));

  it('every shape is lossless and never costs more passes', async () => {
    await checkShapes(pair, PROMPTS[1]!, 40, ['mask', 'rows']);
  });

  it('every node budget is lossless', async () => {
    await checkBudgets(pair, PROMPTS[1]!, 40, ['mask', 'rows']);
  });
});

describe.each(['llama', 'qwen2', 'phi3'])('token trees on the %s stand-ins', (family) => {
  let pair: ModelPair;
  beforeAll(async () => {
    // the early exit drafts about half right: trees with accepted and rejected branches
    pair = await loadPair(
      join(FAMILIES, `${family}-tiny-target`),
      join(FAMILIES, `${family}-tiny-early`),
    );
  });
  afterAll(() => releasePair(pair));

  it('every shape is lossless and never costs more passes, under the mask and as rows', async () => {
    await checkShapes(pair, PROMPTS[0]!, 30, ['mask', 'rows']);
    await checkBudgets(pair, PROMPTS[0]!, 30, ['mask', 'rows']);
  });

  it('verifies each tree in one target pass under the export attention, as many as rows', async () => {
    // the export takes the mask before its attention's Softmax (treeMaskGraph.ts): auto uses it
    const prompt = PROMPTS[2]!;
    const run = (verify: TreeVerifyMode): Promise<RunResult> =>
      new TreeRun(pair, { prompt, maxNewTokens: 24, shape: [3, 2, 1], verify }).runToEnd();
    const mask = await run('mask');
    const rows = await run('rows');
    const auto = await new TreeRun(pair, { prompt, maxNewTokens: 4, shape: [2, 1] }).runToEnd();
    expect(pair.target.lm.graph).toBe('exported');
    expect(auto.tree?.verify).toBe('mask');
    expect(mask.tree?.verify).toBe('mask');
    expect(mask.outputTokenIds).toEqual(rows.outputTokenIds);
    // one target pass per tree step (the first feeds the prompt with its tree)
    expect(mask.metrics.targetPasses).toBe(mask.kPerStep.length);
    expect(mask.metrics.targetPasses).toBe(rows.metrics.targetPasses);
  });
});
