/**
 * Sampled token trees keep the target's distribution, held to the chain's chi-square test
 * (sampling.test.ts) over the first two new tokens: over many seeded runs of one tree step the
 * pair (t1, t2) follows the target's own warped p(t1) p(t2 | t1), on the micro fixture pair and
 * the embedded pair and the llama stand-ins, under the tree mask and as rows, with drafts accepted at first and later
 * siblings and corrections. A broken residual update fails the same test.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineRun } from '../../src/core/decoding/baseline';
import type { DecodeRun } from '../../src/core/decoding/decodeRun';
import { applyRepetition } from '../../src/core/decoding/repetition';
import { warp, type SamplingParams } from '../../src/core/decoding/sampling';
import { TreeRun, type TreeRunOptions } from '../../src/core/decoding/tree/treeRun';
import { loadPair, releasePair, type ModelPair } from '../../src/core/model/pair';
import type { TreeVerifyMode } from '../../src/shared/events';
import { chiSquare, chiSquareCritical, chiSquarePValue } from '../support/chiSquare';
import { MICRO_A, MICRO_B, PAIR_DRAFT, PAIR_TARGET, ROOT } from '../support/helpers';

const FAMILIES = join(ROOT, 'test', 'fixtures', 'families');

type Params = Omit<SamplingParams, 'seed'>;
/** thousands of runs: on the embedded pair a tree's rows (a prefill per path first) take minutes */
const TIMEOUT_MS = 400_000;

/** the bins of the two-token test: (t1, t2) where t1 is common enough, t1 alone elsewhere */
interface SequenceBins {
  expected: Float64Array;
  binOf: (t1: number, t2: number) => number;
}

/**
 * the target's p(t1) p(t2 | t1) after the prompt, split by t2 where t1 is expected 40+ times
 * (most of them pooled by the test as too rare: chiSquare.ts)
 */
async function sequenceBins(
  pair: ModelPair,
  prompt: string,
  params: Params,
  runs: number,
): Promise<SequenceBins> {
  const lm = pair.target.lm;
  const ids = pair.tokenizer.encode(prompt);
  const next = async (tokens: number[]): Promise<Float64Array> => {
    lm.reset();
    const logits = await lm.forward(tokens);
    return warp(logits.row(logits.rows - 1), { ...params, seed: 0 });
  };
  const p1 = await next(ids);
  const v = p1.length;
  // an end of text ends the run: its bin is t1 alone
  const common = [...p1.keys()].filter((t) => runs * p1[t]! >= 40 && !pair.eosTokenIds.includes(t));
  const slot = new Map(common.map((t, i) => [t, i]));
  const expected = new Float64Array((common.length + 1) * v);
  const alone = common.length * v;
  for (let t = 0; t < v; t++) if (!slot.has(t)) expected[alone + t] = p1[t]!;
  for (const [t1, i] of slot) {
    const p2 = await next([...ids, t1]);
    for (let t2 = 0; t2 < v; t2++) expected[i * v + t2] = p1[t1]! * p2[t2]!;
  }
  lm.reset();
  return {
    expected,
    binOf: (t1, t2) => {
      const i = slot.get(t1);
      return i === undefined ? alone + t1 : i * v + t2;
    },
  };
}

interface Drawn {
  counts: Map<number, number>;
  /** nodes accepted after an earlier sibling of theirs was rejected */
  laterSiblings: number;
  accepted: number;
  corrections: number;
  bonuses: number;
}

/** the first two tokens of `runs` seeded runs, binned; and how the trees went */
async function drawSequences(
  make: (seed: number) => DecodeRun,
  runs: number,
  bins: SequenceBins,
): Promise<Drawn> {
  const drawn: Drawn = {
    counts: new Map(),
    laterSiblings: 0,
    accepted: 0,
    corrections: 0,
    bonuses: 0,
  };
  for (let seed = 1; seed <= runs; seed++) {
    const tokens: number[] = [];
    for await (const ev of make(seed).events()) {
      if (ev.type === 'emit') {
        tokens.push(ev.tokenId);
        if (ev.kind === 'accepted') drawn.accepted++;
        if (ev.kind === 'correction') drawn.corrections++;
        if (ev.kind === 'bonus') drawn.bonuses++;
      }
      if (ev.type === 'verify' && ev.tree) {
        const nodes = ev.tree.nodes;
        nodes.forEach((n, i) => {
          const before = nodes.slice(0, i).filter((s) => s.parent === n.parent);
          if (n.verdict === 'accepted' && before.some((s) => s.verdict === 'rejected'))
            drawn.laterSiblings++;
        });
      }
    }
    const bin = bins.binOf(tokens[0]!, tokens[1]!);
    drawn.counts.set(bin, (drawn.counts.get(bin) ?? 0) + 1);
  }
  return drawn;
}

function fit(drawn: Drawn, bins: SequenceBins, runs: number, label: string) {
  const { stat, df } = chiSquare(drawn.counts, bins.expected, runs);
  const critical = chiSquareCritical(df);
  const pValue = chiSquarePValue(stat, df);
  const { laterSiblings, accepted, corrections, bonuses } = drawn;
  console.info(
    `${label}: chi-square ${stat.toFixed(1)} on ${df} df (critical ${critical.toFixed(1)} at 0.1%, p = ${pValue.toPrecision(3)}); accepted ${accepted} (${laterSiblings} after a rejected sibling), corrections ${corrections}, bonuses ${bonuses}`,
  );
  return { stat, df, critical, pValue };
}

/** one tree step (its full depth) and the token after it */
function treeRun(
  pair: ModelPair,
  prompt: string,
  params: Params,
  shape: number[],
  verify: TreeVerifyMode,
  extra: Partial<TreeRunOptions> = {},
): (seed: number) => DecodeRun {
  return (seed) =>
    new TreeRun(pair, {
      prompt,
      maxNewTokens: shape.length + 1,
      shape,
      verify,
      sampling: { ...params, seed },
      ...extra,
    });
}

const CASES: Array<{
  name: string;
  target: string;
  draft: string;
  prompt: string;
  params: Params;
  runs: number;
  /** shapes and how each is verified (the embedded pair's rows case took ~170 s of CI alone) */
  trees: ReadonlyArray<readonly [readonly number[], 'mask' | 'rows']>;
}> = [
  {
    name: 'the micro fixture pair',
    target: MICRO_A,
    draft: MICRO_B,
    prompt: 'The old man said',
    params: { temperature: 2, topK: 0, topP: 1 },
    runs: 3000,
    trees: [
      [[3, 2], 'mask'],
      [[2, 2, 2], 'rows'],
    ],
  },
  {
    name: 'the embedded pair',
    target: PAIR_TARGET,
    draft: PAIR_DRAFT,
    prompt: 'The old man looked out across the river and said',
    params: { temperature: 1.5, topK: 40, topP: 0.95 },
    runs: 2000,
    trees: [[[3, 2], 'mask']],
  },
  {
    // a family export takes the mask before its own attention's Softmax (treeMaskGraph.ts)
    name: 'the llama stand-ins',
    target: join(FAMILIES, 'llama-tiny-target'),
    draft: join(FAMILIES, 'llama-tiny-early'),
    prompt: 'The old man said',
    params: { temperature: 1.5, topK: 0, topP: 1 },
    runs: 3000,
    trees: [[[3, 2], 'mask']],
  },
];

for (const c of CASES) {
  describe(`sampled token trees on ${c.name}`, () => {
    let pair: ModelPair;
    let bins: SequenceBins;
    beforeAll(async () => {
      pair = await loadPair(c.target, c.draft);
      bins = await sequenceBins(pair, c.prompt, c.params, c.runs);
    });
    afterAll(() => releasePair(pair));

    it('the test itself: plain target sampling passes it', async () => {
      const drawn = await drawSequences(
        (seed) =>
          new BaselineRun(pair, {
            prompt: c.prompt,
            maxNewTokens: 2,
            sampling: { ...c.params, seed },
          }),
        c.runs,
        bins,
      );
      const r = fit(drawn, bins, c.runs, `${c.name}, baseline`);
      expect(r.df).toBeGreaterThan(10);
      expect(r.stat).toBeLessThan(r.critical);
    });

    for (const [shape, verify] of c.trees) {
      it(
        `tree ${shape.join(',')} (${verify}) emits the target's two-token sequences`,
        async () => {
          const drawn = await drawSequences(
            treeRun(pair, c.prompt, c.params, [...shape], verify),
            c.runs,
            bins,
          );
          const r = fit(drawn, bins, c.runs, `${c.name}, tree ${shape.join(',')} ${verify}`);
          // every part of the rule ran: first children, later siblings, corrections, bonuses
          expect(drawn.accepted).toBeGreaterThan(c.runs / 10);
          expect(drawn.laterSiblings).toBeGreaterThan(c.runs / 50);
          expect(drawn.corrections).toBeGreaterThan(c.runs / 10);
          expect(drawn.bonuses).toBeGreaterThan(c.runs / 50);
          expect(r.stat).toBeLessThan(r.critical);
        },
        TIMEOUT_MS,
      );
    }

    it(
      'fails the test when the residual is not updated after a rejected sibling',
      async () => {
        const drawn = await drawSequences(
          treeRun(pair, c.prompt, c.params, [3, 2], 'mask', { residual: (p) => p }),
          c.runs,
          bins,
        );
        const r = fit(drawn, bins, c.runs, `${c.name}, tree 3,2 with a broken residual`);
        expect(r.stat).toBeGreaterThan(r.critical);
      },
      TIMEOUT_MS,
    );
  });
}

describe('sampled token trees: the rest of a run', () => {
  let pair: ModelPair;
  beforeAll(async () => {
    pair = await loadPair(MICRO_A, MICRO_B);
  });
  afterAll(() => releasePair(pair));
  const prompt = 'The old man said';
  const params = { temperature: 1.2, topK: 0, topP: 1 };

  it('is reproducible for a seed; siblings are distinct draws, reported with their draft probability', async () => {
    const run = (seed: number) =>
      new TreeRun(pair, {
        prompt,
        maxNewTokens: 24,
        shape: [3, 2, 1],
        sampling: { ...params, seed },
        reportProbabilities: true,
      });
    const first = await run(7).runToEnd();
    expect(first.outputTokenIds).toHaveLength(24);
    expect((await run(7).runToEnd()).outputTokenIds).toEqual(first.outputTokenIds);
    expect((await run(8).runToEnd()).outputTokenIds).not.toEqual(first.outputTokenIds);
    for await (const ev of run(9).events()) {
      if (ev.type !== 'verify') continue;
      const nodes = ev.tree!.nodes;
      for (let p = -1; p < nodes.length; p++) {
        const kids = nodes.filter((n) => n.parent === p);
        expect(new Set(kids.map((k) => k.tokenId)).size).toBe(kids.length);
        for (const k of kids) expect(k.draftProb).toBeGreaterThan(0);
        // children are tried in the order drawn: none after the accepted one was checked
        const at = kids.findIndex((k) => k.verdict === 'accepted');
        if (at >= 0) for (const k of kids.slice(at + 1)) expect(k.verdict).toBe('unchecked');
      }
      expect(ev.targetProbs).toHaveLength(nodes.length);
    }
  });

  it('refuses a node budget with sampling, with what to run instead', () => {
    expect(
      () =>
        new TreeRun(pair, {
          prompt,
          maxNewTokens: 4,
          budget: 8,
          sampling: { ...params, seed: 1 },
        }),
    ).toThrow(/static shape \(--tree 3,2,1\) or run the budget greedy/);
  });

  it('keeps the processed target distribution under the repetition controls, never drawing a banned token', async () => {
    const repetition = { penalty: 3, noRepeatNgram: 1 };
    const runs = 3000;
    const sampled = { temperature: 2, topK: 0, topP: 1 };
    const ids = pair.tokenizer.encode(prompt);
    const lm = pair.target.lm;
    lm.reset();
    const row = (await lm.forward(ids)).row(ids.length - 1);
    const plain = warp(row, { ...sampled, seed: 0 });
    applyRepetition(row, repetition, ids);
    const processed = warp(row, { ...sampled, seed: 0 });
    lm.reset();
    const counts = new Map<number, number>();
    let accepted = 0;
    for (let seed = 1; seed <= runs; seed++) {
      const r = await new TreeRun(pair, {
        prompt,
        maxNewTokens: 3,
        shape: [3, 2],
        sampling: { ...sampled, seed },
        repetition,
      }).runToEnd();
      counts.set(r.outputTokenIds[0]!, (counts.get(r.outputTokenIds[0]!) ?? 0) + 1);
      accepted += r.metrics.acceptedTokens;
    }
    expect(accepted).toBeGreaterThan(runs / 10);
    const { stat, df } = chiSquare(counts, processed, runs);
    console.info(
      `micro, tree 3,2 under repetition controls: chi-square ${stat.toFixed(1)} on ${df} df (p = ${chiSquarePValue(stat, df).toPrecision(3)})`,
    );
    expect(stat).toBeLessThan(chiSquareCritical(df));
    // power: the plain distribution would have drawn a prompt token (banned by n = 1) many times
    expect(runs * [...new Set(ids)].reduce((sum, t) => sum + plain[t]!, 0)).toBeGreaterThan(10);
    for (const t of new Set(ids)) expect(counts.get(t) ?? 0).toBe(0);
  });
});
