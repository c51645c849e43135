/**
 * A sweep's analysis, composed: the facts computed from its rows, then the preamble, the results
 * table, the five sections written from them, and beside them the K x alpha picture of a
 * controlled-acceptance sweep and where the time goes.
 */
import { sweepAcceptanceGrid } from '../acceptanceGrid';
import { loopNote } from '../loops';
import { bestOf, bestSentence, comparesStrategies, groupRows, summarizeRows } from '../summary';
import { acceptedSection } from './accepted';
import { baselineSection } from './baseline';
import { completenessOf } from './completeness';
import { baselinesOf, bestFactsOf } from './facts';
import { kSeriesOf } from './kSeries';
import { passesSection } from './passes';
import { contextLines, sweepNotes } from './preamble';
import { kAtAlphaSection } from './kAtAlpha';
import { resultsTable } from './resultsTable';
import { timeSection } from './time';
import { timeSplitSection } from './timeSplit';
import { treesSection } from './trees';
import { predictedTies } from './tradeoffs';
import { tradeoffsSection } from './tradeoffs';
import type { Analysis, AnalysisInput, Configuration, SectionContext } from './types';
import { configurationLabel } from './words';

export function analyzeSweep(input: AnalysisInput): Analysis {
  const { rows, prompts, settings, status } = input;
  // the pair's measured costs: a controlled-acceptance sweep has them without a theory
  const costs = input.costs ?? input.theory;
  const summary = summarizeRows(rows);
  const groups = groupRows(rows);
  const strategies = comparesStrategies(summary);
  const label = (r: Configuration): string => configurationLabel(r, strategies);
  const sampled = settings.sampling !== null;
  const completeness = completenessOf(rows, settings, prompts.length);
  const { baseline, noCacheBaseline } = baselinesOf(summary, groups);
  const kSeries = kSeriesOf(summary, rows, groups, input.theory, costs);
  // the series' theory: at its acceptance target when acceptance is controlled, else the sweep's
  const theory = kSeries.theory;
  const grid = sweepAcceptanceGrid(rows, input.costs, input.theory);
  const best = bestFactsOf(summary, strategies);
  const overallChoice = bestOf(summary);
  const loop = loopNote(rows);
  const predictedBestK = theory && kSeries.theoryApplies ? theory.bestK : null;
  const predictedBestKs = theory && kSeries.theoryApplies ? predictedTies(theory) : [];
  /** runs behind a configuration's median: repeats x prompts */
  const runsPerConfig = Math.max(0, ...summary.map((r) => r.repeats));

  const ctx: SectionContext = {
    series: kSeries.points,
    baseline,
    noCacheBaseline,
    bestPoint: kSeries.bestPoint,
    measuredBestK: kSeries.measuredBestK,
    alpha: kSeries.theoryApplies ? kSeries.alpha : null,
    alphaFromTheory: theory !== null,
    acceptanceTarget: kSeries.acceptanceTarget,
    theory: kSeries.theoryApplies ? theory : null,
    predictedBestK,
    repeats: new Set(rows.map((r) => r.repeat)).size,
    sampled,
    seriesStrategy: kSeries.strategy,
    strategies,
    prompts: prompts.length,
    verdict: kSeries.verdict,
    predictedBestKs,
    looping: loop !== null,
  };

  return {
    title: 'Speculative decoding: analysis and discussion',
    context: contextLines(input, completeness.plannedStrategies, baseline),
    notes: sweepNotes({ input, completeness, baseline, kSeries, strategies, loop }),
    decoding: sampled ? 'sampled' : 'greedy',
    status,
    runsDone: rows.length,
    runsPlanned: completeness.runsPlanned,
    missing: completeness.missing,
    seriesLabel:
      kSeries.acceptanceTarget === null
        ? kSeries.strategy
        : `${kSeries.strategy} at alpha ${kSeries.acceptanceTarget}`,
    series: kSeries.points,
    baseline,
    noCacheBaseline,
    measuredBestK: kSeries.measuredBestK,
    best,
    bestInWords: overallChoice ? bestSentence(overallChoice, strategies) : null,
    theory,
    alpha: kSeries.alpha,
    predictedBestK,
    predictedBestKs,
    summary: resultsTable(summary, groups, label, runsPerConfig > 1),
    sections: [
      passesSection(ctx),
      timeSection(ctx),
      acceptedSection(ctx),
      tradeoffsSection(ctx),
      baselineSection(ctx, { rows, summary, best, prompts, label, strategies }),
    ],
    acceptanceGrid: grid,
    kAtAlpha: kAtAlphaSection(grid, status),
    trees: treesSection(summary, groups, label, sampled),
    timeSplit: timeSplitSection(summary, groups, label, {
      rows: kSeries.rows,
      bestK: kSeries.measuredBestK,
      at:
        kSeries.acceptanceTarget === null
          ? strategies
            ? `For ${kSeries.strategy}, `
            : ''
          : `At alpha ${kSeries.acceptanceTarget}, `,
    }),
  };
}
