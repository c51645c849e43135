/**
 * Question 4, the trade-offs of K: draft work and waste at small and large K, the chance that all
 * drafts pass, and Leviathan's predicted best K against the measured one.
 */
import { count, fixed, percent, seconds, times, wholePercent } from '../../shared/format';
import type { Spread } from '../../shared/stats';
import { bestPredictedK, expectedSpeedup } from '../theory';
import type { Theory } from '../../shared/protocol';
import { isOptimum, tiedLabels, unmeasuredWords } from './kVerdict';
import type { AnalysisSection, AnalysisTable, KPoint, SectionContext } from './types';
import { kLabel, list } from './words';

/** the largest K the prediction searches (theory.ts bestPredictedK's default) */
const PREDICTED_MAX_K = 16;

/** Every K whose predicted speedup shows as the best's (2 decimals): a tie in the theory is named. */
export function predictedTies(theory: Pick<Theory, 'alpha' | 'c' | 'bestK'>): number[] {
  const shown = (k: number): string => times(expectedSpeedup(theory.alpha, theory.c, k));
  const best = shown(theory.bestK);
  const ks = Array.from({ length: Math.max(PREDICTED_MAX_K, theory.bestK) }, (_, i) => i + 1);
  return ks.filter((k) => shown(k) === best);
}

/** The same with the measured verification cost, over the Ks it was measured at. */
function measuredCostTies(theory: Theory, fitted: readonly KPoint[]): number[] {
  const best = fitted.find((p) => p.k === theory.bestKMeasuredCost);
  if (!best) return theory.bestKMeasuredCost === undefined ? [] : [theory.bestKMeasuredCost];
  return fitted
    .filter((p) => times(p.predictedMeasuredCost) === times(best.predictedMeasuredCost))
    .map((p) => p.k);
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** what this sweep measured, in the verdict's words (kVerdict.ts) */
function measuredVerdict(c: SectionContext): string {
  const v = c.verdict;
  const p = c.bestPoint;
  if (!v || !p) return 'this sweep has no measured best K';
  const x = p.speedup ? times(p.speedup.median) : '-';
  if (!v.bySpeedup)
    return `this sweep's fastest K was ${kLabel(v.k)}, with no baseline to compare with`;
  if (!v.noiseMeasured)
    return v.beatBaseline
      ? `this sweep measured ${kLabel(v.k)} as best (${x}; ${unmeasuredWords(v)})`
      : `in this sweep no K beat the baseline (the fastest, ${kLabel(v.k)}, ran at ${x}; ${unmeasuredWords(v)})`;
  if (!v.beatBaseline)
    return `in this sweep no K beat the baseline beyond noise (the fastest, ${kLabel(v.k)}, ran at ${x})`;
  if (isOptimum(v))
    return `this sweep measured ${kLabel(v.k)} as best (${x}), faster than the baseline and every other K beyond noise`;
  return `this sweep's best median was ${kLabel(v.k)} (${x}), tied with ${list(tiedLabels(v))}`;
}

/** the measured verdict set against the predicted Ks */
function measuredAgainstPrediction(c: SectionContext, predicted: readonly number[]): string {
  const v = c.verdict;
  const words = measuredVerdict(c);
  if (!v || !c.bestPoint) return words;
  // what the other predicted Ks measured: their speedup, or their time without a baseline
  const measuredAt = (k: number): string => {
    const p = c.series.find((q) => q.k === k)!;
    return v.bySpeedup && p.speedup
      ? `ran at ${times(p.speedup.median)}`
      : `took ${seconds(p.timeS.median)}`;
  };
  const tested = predicted.filter((k) => c.series.some((p) => p.k === k));
  const untested = predicted.filter((k) => !tested.includes(k));
  const notTested =
    untested.length > 0
      ? `; ${list(untested.map(kLabel))} ${untested.length > 1 ? 'were' : 'was'} not tested`
      : '';
  if (v.beatBaseline && tested.includes(v.k)) return `${words}, as predicted${notTested}`;
  const amongTied = v.beatBaseline ? tested.filter((k) => v.tiedKs.includes(k)) : [];
  if (amongTied.length > 0)
    return `${words}, the predicted ${list(amongTied.map(kLabel))} among them${notTested}`;
  const others = tested.filter((k) => k !== v.k);
  const ran = others.map((k) => `${kLabel(k)} ${measuredAt(k)}`);
  return `${words}${ran.length > 0 ? `, and ${list(ran)}` : ''}${notTested}`;
}

export function tradeoffsSection(c: SectionContext): AnalysisSection {
  const base = {
    id: 'tradeoffs' as const,
    number: 4,
    title: 'Trade-offs of K',
    question:
      'What are the trade-offs of a small versus a large K, given the draft model accuracy, the cost of drafting and the chance that drafts pass verification?',
  };
  const { series, theory, alpha } = c;
  if (series.length === 0) {
    return {
      ...base,
      answer: 'No speculative run finished, so the trade-offs of K cannot be measured.',
      points: [],
      tables: [],
    };
  }
  const points: string[] = [];
  let theoryTable: AnalysisTable | null = null;
  const measured = c.bestPoint;
  let answer: string;
  if (theory && c.predictedBestK !== null) {
    const predicted = c.predictedBestKs.length > 0 ? c.predictedBestKs : [c.predictedBestK];
    const expected = times(expectedSpeedup(theory.alpha, theory.c, c.predictedBestK));
    const tie = predicted.length > 1 ? ', equal at the shown precision' : '';
    answer = `With alpha = ${fixed(theory.alpha, 3)} (draft accuracy: ${c.acceptanceTarget !== null ? 'the acceptance target' : 'the K=1 acceptance'}) and c = ${fixed(theory.c, 3)} (a draft pass over a target pass), Leviathan's formula predicts ${list(predicted.map(kLabel))} as best (${expected} expected${tie}); ${measuredAgainstPrediction(c, predicted)}.`;
  } else if (measured !== null) {
    answer = `${capitalize(measuredVerdict(c))}; without a measured cost ratio c there is no predicted best K to compare with${alpha !== null ? ` (alpha = ${fixed(alpha, 3)} ${c.acceptanceTarget !== null ? 'set by --acceptance' : 'from the K=1 runs'})` : ''}.`;
  } else {
    answer = 'No best K could be measured.';
  }
  const smallest = series[0]!;
  const largest = series.at(-1)!;
  const describe = (p: KPoint): string =>
    `${kLabel(p.k)} drafted ${count(p.draftedTokens)} tokens per run and wasted ${count(p.wastedDrafts)} of them (${p.draftedTokens > 0 ? wholePercent(p.wastedDrafts / p.draftedTokens) : '0%'} drafted but rejected or unchecked)${p.tokensPerPass !== null ? `, for ${fixed(p.tokensPerPass, 2)} tokens per target pass and ${count(p.targetPasses)} passes` : ''}`;
  if (series.length > 1) {
    points.push(
      `Small K: ${describe(smallest)}; a target pass can yield at most ${smallest.k + 1} tokens.`,
    );
    points.push(
      `Large K: ${describe(largest)}${largest.draftTimeShare !== null ? `, with ${wholePercent(largest.draftTimeShare)} of the time spent drafting` : ''}.`,
    );
    // the difference of the values as the tables show them (question 3 says the same)
    const gain =
      smallest.tokensPerPass !== null && largest.tokensPerPass !== null
        ? Number(fixed(largest.tokensPerPass, 2)) - Number(fixed(smallest.tokensPerPass, 2))
        : null;
    // the most tokens per pass, and every K at it: a peak before the largest K is named
    const shownTpp = (p: KPoint): number => Number(fixed(p.tokensPerPass, 2));
    const withTpp = series.filter((p) => p.tokensPerPass !== null);
    const most = Math.max(...withTpp.map(shownTpp));
    const atMost = withTpp.filter((p) => shownTpp(p) === most);
    const peak =
      atMost.length > 0 && !atMost.includes(largest)
        ? `the most tokens per pass was ${fixed(most, 2)} at ${list(atMost.map((p) => kLabel(p.k)))}`
        : null;
    const wasted =
      largest.wastedDrafts > smallest.wastedDrafts
        ? `raised wasted drafts from ${count(smallest.wastedDrafts)} to ${count(largest.wastedDrafts)} per run`
        : `left wasted drafts at ${count(smallest.wastedDrafts)} and ${count(largest.wastedDrafts)} per run`;
    points.push(
      gain !== null && Number(fixed(gain, 2)) > 0
        ? `Going from ${kLabel(smallest.k)} to ${kLabel(largest.k)} raised tokens per pass by ${fixed(gain, 2)} and ${wasted}${peak ? ` (${peak})` : ''}: a large K pays only while drafts keep being accepted.`
        : `Going from ${kLabel(smallest.k)} to ${kLabel(largest.k)} did not raise tokens per pass but ${wasted}${
            peak
              ? `; ${peak}, so only up to ${kLabel(atMost.at(-1)!.k)} did a larger K buy more tokens per pass`
              : ': with this draft model a larger K only adds cost'
          }.`,
    );
  } else {
    points.push(
      `Only ${kLabel(smallest.k)} was tested: ${describe(smallest)}. Run more K values to see the trade-off in the measurements.`,
    );
  }
  if (alpha !== null) {
    const k = largest.k;
    points.push(
      `Chance of successful verification: all ${k} drafts of a step are accepted with probability alpha^K = ${fixed(alpha, 3)}^${k} = ${percent(alpha ** k)}${series.length > 1 ? ` (at ${kLabel(smallest.k)}: ${percent(alpha ** smallest.k)})` : ''}${
        alpha ** k < 0.1
          ? ', so the last drafts of a large K rarely count'
          : alpha ** k >= 0.5
            ? ', so most steps keep every draft even at this K'
            : ''
      }.`,
    );
  }
  if (theory) {
    const costs = series.map((p) => `${kLabel(p.k)} ${fixed(1 + p.k * theory.c, 2)}`);
    points.push(
      `Overhead of drafting: a step costs 1 + K c target passes of time: ${list(costs)}. The expected speedup (tokens per pass over that cost) is highest at ${list(predictedTies(theory).map(kLabel))} for this alpha and c (${times(expectedSpeedup(theory.alpha, theory.c, bestPredictedK(theory.alpha, theory.c)))}).`,
    );
    if (measured?.speedup && measured.predictedSpeedup !== null)
      points.push(
        `At ${kLabel(measured.k)} the measured speedup was ${fixed(measured.speedup.median / measured.predictedSpeedup, 2)} times the predicted ${times(measured.predictedSpeedup)}${
          measured.tokensPerPass !== null && measured.expectedTokensPerPass !== null
            ? `: it yielded ${fixed(measured.tokensPerPass, 2)} tokens per pass against the expected ${fixed(measured.expectedTokensPerPass, 2)}`
            : ''
        }${
          measured.targetPassMs !== null && c.baseline?.targetPassMs
            ? `, and its verification pass cost ${fixed(measured.targetPassMs / c.baseline.targetPassMs, 2)} one-token passes where the formula assumes 1`
            : ''
        }.`,
      );
  }
  const fitted = series.filter((p) => p.verifyCost !== null && p.predictedMeasuredCost !== null);
  if (theory && fitted.length > 0) {
    const ratio = (m: Spread | null, pred: number | null): string =>
      m && pred ? fixed(m.median / pred, 2) : '-';
    points.push(
      `Leviathan's formula assumes a target pass over K + 1 tokens costs what a one-token pass costs; measured after the sweep it cost ${list(fitted.map((p) => `${fixed(p.verifyCost!, 2)}x at ${kLabel(p.k)}`))}. With that measured cost the expected speedup is ${list(fitted.map((p) => `${times(p.predictedMeasuredCost!)} at ${kLabel(p.k)}`))}${
        theory.bestKMeasuredCost !== undefined
          ? `, best at ${list(measuredCostTies(theory, fitted).map(kLabel))}`
          : ''
      }; measured / predicted per K is in the table.`,
    );
    theoryTable = {
      caption: 'Theory against measurement per K (speedups over the baseline)',
      head: [
        'K',
        'Measured',
        'Leviathan (constant cost)',
        'Measured / Leviathan',
        'Verify cost t(K+1)/t(1)',
        'With measured verify cost',
        'Measured / that',
      ],
      rows: fitted.map((p) => [
        String(p.k),
        p.speedup ? times(p.speedup.median) : '-',
        p.predictedSpeedup === null ? '-' : times(p.predictedSpeedup),
        ratio(p.speedup, p.predictedSpeedup),
        fixed(p.verifyCost!, 2),
        times(p.predictedMeasuredCost!),
        ratio(p.speedup, p.predictedMeasuredCost),
      ]),
    };
  }
  return {
    ...base,
    answer,
    points,
    tables: [
      {
        caption: 'Draft work per K (medians per run)',
        head: [
          'K',
          'Drafted',
          'Accepted',
          'Wasted (drafted - accepted)',
          'Wasted share',
          ...(theory ? ['Predicted speedup'] : []),
          ...(c.baseline ? ['Measured speedup'] : []),
        ],
        rows: series.map((p) => [
          String(p.k),
          count(p.draftedTokens),
          count(p.acceptedTokens),
          count(p.wastedDrafts),
          p.draftedTokens > 0 ? wholePercent(p.wastedDrafts / p.draftedTokens) : '-',
          ...(theory ? [p.predictedSpeedup === null ? '-' : times(p.predictedSpeedup)] : []),
          ...(c.baseline ? [p.speedup ? times(p.speedup.median) : '-'] : []),
        ]),
      },
      ...(theoryTable ? [theoryTable] : []),
    ],
  };
}
