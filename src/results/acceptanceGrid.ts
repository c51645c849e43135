/**
 * What a sweep over controlled acceptance means (issue 34): the K x alpha picture of measured
 * speedup beside the measured-cost theory, the best K per alpha by the verdict every surface uses
 * (verdict.ts through summary.ts bestOf), and where the pair's own measured alpha sits on it.
 * Token trees swept at the same alphas are set beside it (treeAcceptance.ts): measured tokens
 * per verification against Sequoia's model with p_r = A, and the fastest tree against the
 * fastest chain. Computed once here; the report, the CLI, the JSON and the app's heat map read
 * the same object.
 */
import { times } from '../shared/format';
import { median, type Spread } from '../shared/stats';
import type { RunRow } from '../shared/protocol';
import { measuresAlpha, REFERENCE_STRATEGY, strategyName, strategyOf } from './strategy';
import { baselineRow, bestOf, pairedOver, summarizeRows, type SummaryRow } from './summary';
import { expectedSpeedupMeasuredCost } from './theory';
import {
  treePairPlacement,
  treesUnderAcceptance,
  type TreePairPlacement,
  type TreesAtAlpha,
} from './treeAcceptance';

/** The pair's measured costs the theory needs (PairCosts and the protocol's Theory both fit). */
export interface GridCosts {
  /** a one-token draft pass over a one-token target pass */
  c: number;
  /** t_target(K + 1) / t_target(1) per measured K, keyed by K */
  verifyCost?: Readonly<Record<string, number>>;
}

/** One (alpha, K): what was measured, what the theory predicts, and the verdict's marks. */
export interface AcceptanceGridCell {
  alpha: number;
  k: number;
  /** the configuration's summary key (summary.ts groupKey); null when none of its runs finished */
  key: string | null;
  /** runs behind it (repeats x prompts) */
  runs: number;
  /** median speedup over the baseline, each run against the baseline of its repeat and prompt */
  speedup: number | null;
  /** the speedup's noise: per-repeat medians, min-max over repeats (summary.ts) */
  speedupOverRepeats: Spread | null;
  /** E[tokens per pass] x t_target(1) / (K t_draft(1) + t_target(K+1)); null without the costs */
  predicted: number | null;
  /** measured / predicted */
  ratio: number | null;
  /** accepted / drafts tested over its runs: the acceptance the runs actually drew */
  measuredAlpha: number | null;
  /** vLLM's mean acceptance length, the median over its runs */
  meanAcceptanceLength: number | null;
  /** the verdict's best K at this alpha (whether or not it beat the baseline: see AlphaBest) */
  isBest: boolean;
  /** not beaten by the best run for run: tied with it (never true for the best itself) */
  withinNoise: boolean;
}

/** The verdict at one alpha (bestOf over the baseline and this alpha's Ks), and its sentence. */
export interface AlphaBest {
  alpha: number;
  /** the fastest K by median speedup; null when no K at this alpha has a speedup */
  bestK: number | null;
  speedup: number | null;
  /** Ks the best did not beat run for run, fastest first */
  tiedKs: number[];
  /** the best beat the baseline by the verdict's rule */
  beatBaseline: boolean;
  /** at least 3 paired runs: the rule could tell noise from a difference */
  noiseMeasured: boolean;
  /** paired runs of the best against the baseline */
  pairs: number;
  /** "3 repeats paired run for run" */
  over: string | null;
  /** the measured-cost theory at the best K, and measured / predicted */
  predicted: number | null;
  ratio: number | null;
  /** the K the measured-cost theory predicts best among the swept Ks (null without the costs) */
  predictedBestK: number | null;
  predictedBestSpeedup: number | null;
  /** "At alpha 0.8 on this machine, K=4 (1.90x); K=3 and K=5 within noise." */
  sentence: string;
}

/** Where the pair's own alpha falls on the grid: "your pair sits here". */
export interface PairPlacement {
  /** the pair's per-token acceptance with real drafting */
  alpha: number;
  /**
   * 'k1-acceptance': the median acceptance of the sweep's K=1 runs drafted by the model;
   * 'accepted-per-tested': accepted / drafts tested over its real model-drafted runs (no K=1);
   * 'draft-model-agreement': under controlled acceptance, how often the draft model's own greedy
   *   token was the target's where its context was the target's text (what K=1 would accept);
   * 'given': passed in by the caller (e.g. an earlier sweep's theory)
   */
  source: 'k1-acceptance' | 'accepted-per-tested' | 'draft-model-agreement' | 'given';
  /** real-drafting runs it was measured over (0 when given) */
  runs: number;
  /** the swept alpha closest to it (the lower one on a tie) */
  nearestAlpha: number;
  /** the swept alphas either side of it (null beyond the grid's ends) */
  below: number | null;
  above: number | null;
  /** the measured best K at nearestAlpha, and whether it beat the baseline there */
  bestK: number | null;
  bestKBeatBaseline: boolean;
  /** the measured-cost theory at the pair's own alpha over the swept Ks */
  predictedBestK: number | null;
  predictedSpeedup: number | null;
  /** "Your pair sits at alpha 0.72 (...), nearest the swept alpha 0.7, where K=3 was best (1.40x)..." */
  sentence: string;
}

export interface AcceptanceGrid {
  /** swept acceptance targets, ascending (rows of the heat map) */
  alphas: number[];
  /** swept Ks, ascending (columns) */
  ks: number[];
  /** cells[i][j]: alphas[i], ks[j] */
  cells: AcceptanceGridCell[][];
  /** one per alpha, in alphas' order */
  bestPerAlpha: AlphaBest[];
  pair: PairPlacement | null;
  /** the drafter / policy the grid is drawn for, e.g. "model / fixed" */
  strategy: string;
  /** the theory's inputs, null when the sweep measured no costs */
  costs: GridCosts | null;
  /**
   * token trees swept under the same acceptance targets, one entry per alpha that ran them
   * (ascending): each tree's tokens per verification against Sequoia's model with p_r = A, and
   * the fastest tree against the fastest chain; empty without `--tree`
   */
  trees: TreesAtAlpha[];
  /** the pair's own draft on the trees' picture (its own p_r behind the oracle); null without trees */
  treePair: TreePairPlacement | null;
}

export interface AcceptanceGridOptions {
  /** the pair's alpha measured elsewhere, used when the rows hold no real-drafting runs */
  pairAlpha?: number | null;
}

/** "alpha 0.8": a swept target as given; a measured alpha is passed already rounded */
const alphaWords = (alpha: number | string): string => `alpha ${alpha}`;
const kWords = (k: number): string => `K=${k}`;

/** "a, b and c" */
function listWords(items: readonly string[]): string {
  return items.length <= 1
    ? items.join('')
    : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** the measured-cost theory at (alpha, K), null where K's verification cost was not measured */
function predictAt(costs: GridCosts | null, alpha: number, k: number): number | null {
  const v = costs?.verifyCost?.[String(k)];
  return costs && v !== undefined ? expectedSpeedupMeasuredCost(alpha, costs.c, k, v) : null;
}

/** the swept K the theory predicts best at alpha (the smaller K on a tie) */
function predictedBest(
  costs: GridCosts | null,
  alpha: number,
  ks: readonly number[],
): { k: number; speedup: number } | null {
  let best: { k: number; speedup: number } | null = null;
  for (const k of ks) {
    const s = predictAt(costs, alpha, k);
    if (s !== null && (best === null || s > best.speedup)) best = { k, speedup: s };
  }
  return best;
}

const ratioOf = (measured: number | null, predicted: number | null): number | null =>
  measured !== null && predicted !== null && predicted > 0 ? measured / predicted : null;

/** The one sentence per alpha the report and the CLI print. */
function alphaSentence(b: Omit<AlphaBest, 'sentence'>): string {
  const at = `At ${alphaWords(b.alpha)} on this machine`;
  if (b.bestK === null) return `${at}, no K has a speedup: no run of the baseline finished.`;
  const best = `${kWords(b.bestK)} (${times(b.speedup)})`;
  if (!b.noiseMeasured) {
    const from = b.pairs === 1 ? 'one run' : `${b.pairs} runs`;
    const noise = `from ${from} each: too few to measure noise (run 3 or more repeats to tell close Ks apart)`;
    return b.beatBaseline
      ? `${at}, ${best} was fastest, ${noise}.`
      : `${at}, no K beat the baseline: the fastest, ${best}, ${noise}.`;
  }
  if (!b.beatBaseline)
    return `${at}, no K beat the baseline: the fastest, ${best}, was not faster beyond noise over ${b.over}.`;
  if (b.tiedKs.length === 0) return `${at}, ${best}; no other K within noise.`;
  return `${at}, ${best}; ${listWords(b.tiedKs.map(kWords))} within noise.`;
}

/** The pair's own alpha from the sweep's real-drafting runs, else the one given. */
function pairAlphaOf(
  rows: readonly RunRow[],
  given: number | null | undefined,
): Pick<PairPlacement, 'alpha' | 'source' | 'runs'> | null {
  const k1 = rows.filter(measuresAlpha).flatMap((r) => {
    const a = r.acceptanceRate;
    return a === null ? [] : [a];
  });
  if (k1.length > 0) return { alpha: median(k1), source: 'k1-acceptance', runs: k1.length };
  const real = rows.filter(
    (r) =>
      r.mode === 'speculative' &&
      (r.acceptanceTarget ?? null) === null &&
      strategyOf(r).drafter === 'model' &&
      (r.draftTokensTested ?? 0) > 0,
  );
  const tested = real.reduce((n, r) => n + (r.draftTokensTested ?? 0), 0);
  if (tested > 0) {
    const accepted = real.reduce((n, r) => n + r.acceptedTokens, 0);
    return { alpha: accepted / tested, source: 'accepted-per-tested', runs: real.length };
  }
  const oracle = rows.filter((r) => (r.draftModelAgreement?.positions ?? 0) > 0);
  const positions = oracle.reduce((n, r) => n + r.draftModelAgreement!.positions, 0);
  if (positions > 0) {
    const agreed = oracle.reduce((n, r) => n + r.draftModelAgreement!.agreed, 0);
    return { alpha: agreed / positions, source: 'draft-model-agreement', runs: oracle.length };
  }
  if (given != null && given > 0 && given < 1) return { alpha: given, source: 'given', runs: 0 };
  return null;
}

/** what the report and the CLI say when the sweep has no real-drafting run to place the pair by */
export const PAIR_NOT_MEASURED =
  "Your pair's own alpha is not in this sweep: every speculative run here had its acceptance set. A sweep of the same pair without --acceptance, with K=1 among its Ks, measures it.";

const SOURCE_WORDS: Record<PairPlacement['source'], (runs: number) => string> = {
  'k1-acceptance': (n) => `the median acceptance of its ${n} K=1 run${n === 1 ? '' : 's'}`,
  'accepted-per-tested': (n) =>
    `accepted over drafts tested in its ${n} real drafting run${n === 1 ? '' : 's'}`,
  'draft-model-agreement': (n) =>
    `the draft model's own tokens against the target's, behind the oracle in its ${n} run${n === 1 ? '' : 's'}`,
  given: () => 'measured before this sweep',
};

function placePair(
  measured: Pick<PairPlacement, 'alpha' | 'source' | 'runs'>,
  alphas: readonly number[],
  ks: readonly number[],
  bestPerAlpha: readonly AlphaBest[],
  costs: GridCosts | null,
): PairPlacement {
  const { alpha } = measured;
  const nearestAlpha = alphas.reduce((n, a) => (Math.abs(a - alpha) < Math.abs(n - alpha) ? a : n));
  const below = [...alphas].reverse().find((a) => a <= alpha) ?? null;
  const above = alphas.find((a) => a >= alpha) ?? null;
  const there = bestPerAlpha.find((b) => b.alpha === nearestAlpha)!;
  const predicted = predictedBest(costs, alpha, ks);
  const own = `Your pair sits at ${alphaWords(alpha.toFixed(2))} (${SOURCE_WORDS[measured.source](measured.runs)})`;
  const where =
    there.bestK === null
      ? `nearest the swept ${alphaWords(nearestAlpha)}`
      : there.beatBaseline
        ? `nearest the swept ${alphaWords(nearestAlpha)}, where ${kWords(there.bestK)} was best (${times(there.speedup)})`
        : `nearest the swept ${alphaWords(nearestAlpha)}, where no K beat the baseline`;
  const theory = predicted
    ? `; the measured-cost theory at its alpha predicts ${kWords(predicted.k)} (${times(predicted.speedup)})`
    : '';
  return {
    ...measured,
    nearestAlpha,
    below,
    above,
    bestK: there.bestK,
    bestKBeatBaseline: there.beatBaseline,
    predictedBestK: predicted?.k ?? null,
    predictedSpeedup: predicted?.speedup ?? null,
    sentence: `${own}, ${where}${theory}.`,
  };
}

/** The rows the grid is drawn from: controlled runs of one drafter / policy (model / fixed first). */
function gridStrategy(summary: readonly SummaryRow[]): string | null {
  const controlled = summary.filter(
    (r) => r.mode === 'speculative' && r.k !== null && r.acceptanceTarget !== null && !r.tree,
  );
  if (controlled.length === 0) return null;
  return controlled.some((r) => strategyName(r) === REFERENCE_STRATEGY)
    ? REFERENCE_STRATEGY
    : strategyName(controlled[0]!);
}

/**
 * The K x alpha picture of a sweep with controlled acceptance (`--acceptance`); null when it has
 * no acceptance target. `costs`: the pair's measured c and verification costs (the sweep's
 * PairCosts or its Theory), null when unmeasured (then nothing is predicted).
 */
export function acceptanceGrid(
  rows: readonly RunRow[],
  costs: GridCosts | null,
  options: AcceptanceGridOptions = {},
): AcceptanceGrid | null {
  const summary = summarizeRows(rows);
  const strategy = gridStrategy(summary);
  if (strategy === null) return null;
  // the chains: a tree's K is its depth, and trees are set beside the grid (treeAcceptance.ts)
  const controlled = summary.filter(
    (r) =>
      r.mode === 'speculative' &&
      r.k !== null &&
      r.acceptanceTarget !== null &&
      !r.tree &&
      strategyName(r) === strategy,
  );
  const alphas = [...new Set(controlled.map((r) => r.acceptanceTarget!))].sort((a, b) => a - b);
  const ks = [...new Set(controlled.map((r) => r.k!))].sort((a, b) => a - b);
  // the theory is Leviathan's fixed-K expectation: another policy's K is only a ceiling
  const theoryCosts = strategyOf(controlled[0]!).policy === 'fixed' ? costs : null;
  const baseline = baselineRow(summary);

  const cells: AcceptanceGridCell[][] = [];
  const bestPerAlpha: AlphaBest[] = [];
  for (const alpha of alphas) {
    const atAlpha = controlled.filter((r) => r.acceptanceTarget === alpha);
    const choice = bestOf(baseline ? [baseline, ...atAlpha] : atAlpha);
    const tied = new Set(choice?.tiedWith.map((r) => r.k!) ?? []);
    const row = ks.map((k): AcceptanceGridCell => {
      const s = atAlpha.find((r) => r.k === k);
      const speedup = s?.speedup?.median ?? null;
      const predicted = predictAt(theoryCosts, alpha, k);
      return {
        alpha,
        k,
        key: s?.key ?? null,
        runs: s?.repeats ?? 0,
        speedup,
        speedupOverRepeats: s?.speedupOverRepeats ?? null,
        predicted,
        ratio: ratioOf(speedup, predicted),
        measuredAlpha: s?.acceptancePerTested ?? null,
        meanAcceptanceLength: s?.meanAcceptanceLength?.median ?? null,
        isBest: choice !== null && choice.row.k === k,
        withinNoise: tied.has(k),
      };
    });
    cells.push(row);
    const bestK = choice?.row.k ?? null;
    const speedup = choice?.row.speedup?.median ?? null;
    const predicted = bestK === null ? null : predictAt(theoryCosts, alpha, bestK);
    const theoryBest = predictedBest(theoryCosts, alpha, ks);
    const facts: Omit<AlphaBest, 'sentence'> = {
      alpha,
      bestK,
      speedup,
      tiedKs: choice?.tiedWith.map((r) => r.k!) ?? [],
      beatBaseline: choice?.beatBaseline ?? false,
      noiseMeasured: choice?.noiseMeasured ?? false,
      pairs: choice?.pairs ?? 0,
      over: choice ? pairedOver(choice) : null,
      predicted,
      ratio: ratioOf(speedup, predicted),
      predictedBestK: theoryBest?.k ?? null,
      predictedBestSpeedup: theoryBest?.speedup ?? null,
    };
    bestPerAlpha.push({ ...facts, sentence: alphaSentence(facts) });
  }

  const measured = pairAlphaOf(rows, options.pairAlpha);
  return {
    alphas,
    ks,
    cells,
    bestPerAlpha,
    pair: measured ? placePair(measured, alphas, ks, bestPerAlpha, theoryCosts) : null,
    strategy,
    costs: costs ? { c: costs.c, verifyCost: { ...costs.verifyCost } } : null,
    trees: treesUnderAcceptance(rows, strategy),
    treePair: treePairPlacement(rows),
  };
}

/**
 * The grid as every surface computes it from a finished sweep: the pair's measured costs (else
 * the theory's), and the theory's alpha for the pair when the rows have no real-drafting run.
 */
export function sweepAcceptanceGrid(
  rows: readonly RunRow[],
  costs: GridCosts | null | undefined,
  theory: (GridCosts & { alpha: number }) | null | undefined,
): AcceptanceGrid | null {
  return acceptanceGrid(rows, costs ?? theory ?? null, { pairAlpha: theory?.alpha ?? null });
}
