/**
 * Question 3, K and accepted tokens: tokens per target verification over K, against the K + 1
 * ceiling and Leviathan's expectation.
 */
import { fixed, percent, wholePercent } from '../../shared/format';
import { REFERENCE_STRATEGY } from '../strategy';
import { trendWords } from './trend';
import type { AnalysisSection, SectionContext } from './types';
import { kLabel, list, ordinal } from './words';

export function acceptedSection(c: SectionContext): AnalysisSection {
  const base = {
    id: 'accepted' as const,
    number: 3,
    title: 'Impact of K on average accepted tokens',
    question:
      'How did the average number of tokens per target verification change with K, and what does it say about the efficiency of the speculation?',
  };
  const series = c.series.filter((p) => p.tokensPerPass !== null);
  if (series.length === 0) {
    return {
      ...base,
      answer: 'No speculative run finished, so there are no accepted tokens to count.',
      points: [],
      tables: [],
    };
  }
  const points: string[] = [];
  const first = series[0]!;
  const last = series.at(-1)!;
  let answer: string;
  if (series.length === 1) {
    answer = `At ${kLabel(first.k)} each target verification yielded ${fixed(first.tokensPerPass!, 2)} tokens${first.acceptanceRate !== null ? ` with ${percent(first.acceptanceRate)} of the drafts accepted` : ''}.`;
  } else {
    const tpp = trendWords(
      series.map((p) => ({ k: p.k, value: p.tokensPerPass! })),
      (v) => fixed(v, 2),
    );
    const acc = series.filter((p) => p.acceptanceRate !== null);
    const accWords =
      acc.length > 1
        ? ` The share of drafts accepted ${
            trendWords(
              acc.map((p) => ({ k: p.k, value: p.acceptanceRate! })),
              percent,
            ).words
          }.`
        : '';
    answer = `Tokens per target verification ${tpp.words}.${accWords}`;
  }
  const perStep = series.filter((p) => p.acceptedPerStep !== null);
  if (perStep.length > 0)
    points.push(
      `Accepted drafts per verification: ${list(perStep.map((p) => `${fixed(p.acceptedPerStep!, 2)} of ${p.k} at ${kLabel(p.k)}`))}; each verification adds one token of the target's own on top.`,
    );
  // the most tokens per pass, and every K that reached it: a peak in the middle is named
  const most = Math.max(...series.map((p) => Number(fixed(p.tokensPerPass!, 2))));
  const atMost = series.filter((p) => Number(fixed(p.tokensPerPass!, 2)) === most);
  const peakInside = !atMost.includes(last);
  const peakWords = `${fixed(most, 2)} at ${list(atMost.map((p) => kLabel(p.k)))}`;
  const gained = Number(fixed(last.tokensPerPass!, 2)) - Number(fixed(first.tokensPerPass!, 2));
  points.push(
    `Efficiency (tokens per pass over the K + 1 ceiling): ${list(series.map((p) => `${wholePercent(p.tokensPerPass! / (p.k + 1))} at ${kLabel(p.k)}`))}. ${
      series.length < 2
        ? 'Tokens per pass is the work one target pass does; the closer to K + 1, the less drafting is wasted.'
        : gained > 0
          ? `Going from ${kLabel(first.k)} to ${kLabel(last.k)} bought ${fixed(gained, 2)} more tokens per pass, at a ${last.tokensPerPass! / (last.k + 1) < first.tokensPerPass! / (first.k + 1) ? 'smaller' : 'larger'} share of the ceiling${peakInside ? `; the most was ${peakWords}, so past it the larger ceiling went unused` : ''}.`
          : peakInside
            ? `The most was ${peakWords}; ${kLabel(last.k)} yielded ${fixed(last.tokensPerPass!, 2)}, ${gained < 0 ? 'fewer' : 'no more'} than ${kLabel(first.k)}'s ${fixed(first.tokensPerPass!, 2)}, so past ${kLabel(atMost.at(-1)!.k)} the larger ceiling went unused.`
            : `Going from ${kLabel(first.k)} to ${kLabel(last.k)} bought no more tokens per pass, so the larger ceiling went unused.`
    }`,
  );
  if (c.alpha !== null) {
    const withExp = series.filter((p) => p.expectedTokensPerPass !== null);
    if (withExp.length > 0) {
      const ratios = withExp.map((p) => p.tokensPerPass! / p.expectedTokensPerPass!);
      const above = withExp.filter((_, i) => ratios[i]! > 1.05);
      const below = withExp.filter((_, i) => ratios[i]! < 0.95);
      points.push(
        `Leviathan et al. expect (1 - a^(K+1)) / (1 - a) tokens per pass; with a = ${fixed(c.alpha, 3)} (${c.acceptanceTarget !== null ? 'the acceptance target' : c.alphaFromTheory ? "the sweep's alpha" : 'the K=1 acceptance'}) that is ${list(withExp.map((p) => `${fixed(p.expectedTokensPerPass!, 2)} at ${kLabel(p.k)}`))}. Measured over expected: ${fixed(Math.min(...ratios), 2)} to ${fixed(Math.max(...ratios), 2)}.${
          c.acceptanceTarget !== null && (above.length > 0 || below.length > 0)
            ? ` The measurement ${above.length > 0 ? `beat the expectation at ${list(above.map((p) => kLabel(p.k)))}` : ''}${above.length > 0 && below.length > 0 ? ' and ' : ''}${below.length > 0 ? `fell short of it at ${list(below.map((p) => kLabel(p.k)))}` : ''}: the oracle accepts each tested draft independently at rate a, so the gap is the draws' spread over these runs' few steps (and the last step, cut at the token limit), not the text.`
            : above.length > 0
              ? ` The measurement beat the expectation at ${list(above.map((p) => kLabel(p.k)))}: ${
                  c.looping
                    ? 'acceptances come in runs because the text loops (see the note above): inside the cycle the draft predicts every token but one, far more often than a.'
                    : 'acceptances come in runs (an easy stretch of text is accepted token after token), not independently at rate a.'
                }`
              : below.length > 0
                ? ` The measurement fell short of it at ${list(below.map((p) => kLabel(p.k)))}: later draft positions were accepted less often than a.`
                : ' The measurement follows the expectation within 5%.'
        }`,
      );
    }
  } else if (c.seriesStrategy !== REFERENCE_STRATEGY) {
    points.push(
      `Leviathan's expectation assumes the draft model with a fixed K; it is not applied to ${c.seriesStrategy}.`,
    );
  }
  const pos = last.acceptanceByPosition;
  if (pos && pos.length > 1)
    points.push(
      `At ${kLabel(last.k)}, the 1st draft of a step was accepted in ${percent(pos[0]!)} of steps and the ${ordinal(pos.length)} in ${percent(pos.at(-1)!)}: a draft token only counts when every draft before it was accepted.`,
    );
  return {
    ...base,
    answer,
    points,
    tables: [
      {
        caption: 'Tokens per target verification per K',
        head: [
          'K',
          'Tokens per pass',
          ...(c.alpha !== null ? ['Expected (theory)'] : []),
          'Accepted drafts per step',
          'Acceptance rate',
          'Share of K + 1',
        ],
        rows: series.map((p) => [
          String(p.k),
          fixed(p.tokensPerPass!, 2),
          ...(c.alpha !== null
            ? [p.expectedTokensPerPass === null ? '-' : fixed(p.expectedTokensPerPass, 2)]
            : []),
          p.acceptedPerStep === null ? '-' : fixed(p.acceptedPerStep, 2),
          p.acceptanceRate === null ? '-' : percent(p.acceptanceRate),
          wholePercent(p.tokensPerPass! / (p.k + 1)),
        ]),
      },
    ],
  };
}
