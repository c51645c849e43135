/**
 * A sweep's analysis, composed: the facts computed from its rows, then the preamble, the results
 * table and the five sections written from them.
 */
import { loopNote } from '../loops';
import { bestOf, bestSentence, comparesStrategies, groupRows, summarizeRows } from '../summary';
import { acceptedSection } from './accepted';
import { baselineSection } from './baseline';
import { completenessOf } from './completeness';
import { baselinesOf, bestFactsOf } from './facts';
import { kSeriesOf } from './kSeries';
import { passesSection } from './passes';
import { contextLines, sweepNotes } from './preamble';
import { resultsTable } from './resultsTable';
import { timeSection } from './time';
import { predictedTies } from './tradeoffs';
import { tradeoffsSection } from './tradeoffs';
import type { Analysis, AnalysisInput, Configuration, SectionContext } from './types';
import { configurationLabel } from './words';

export function analyzeSweep(input: AnalysisInput): Analysis {
  const { rows, theory, prompts, settings, status } = input;
  const summary = summarizeRows(rows);
  const groups = groupRows(rows);
  const strategies = comparesStrategies(summary);
  const label = (r: Configuration): string => configurationLabel(r, strategies);
  const sampled = settings.sampling !== null;
  const completeness = completenessOf(rows, settings, prompts.length);
  const { baseline, noCacheBaseline } = baselinesOf(summary, groups);
  const kSeries = kSeriesOf(summary, rows, groups, theory);
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
    seriesLabel: kSeries.strategy,
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
  };
}
