/**
 * Question 2, K and wall-clock time: the verdict over K (kVerdict.ts: the optimum, the Ks tied
 * with the best, or that no K beat the baseline), how the pairs went, and why time falls or rises
 * with K (passes saved against draft work added).
 */
import {
  count,
  fixed,
  milliseconds,
  percent,
  seconds,
  shownSeconds,
  times,
  wholePercent,
} from '../../shared/format';
import { trendOf, trendWords } from './trend';
import { isOptimum, pairedWords, unmeasuredWords, verdictMark } from './kVerdict';
import type { AnalysisSection, KPoint, SectionContext } from './types';
import { kLabel, list, spreadText } from './words';

/** The short answer: the verdict over the series' Ks (kVerdict.ts), in its words. */
function timeAnswer(c: SectionContext, b: KPoint): string {
  const { baseline, verdict: v, series } = c;
  const at = `${kLabel(b.k)} at ${seconds(b.timeS.median)}`;
  const speedupOf = (k: number): string =>
    times(series.find((p) => p.k === k)?.speedup?.median ?? NaN);
  if (!baseline || !b.speedup || !v?.bySpeedup) {
    const tied = v && v.noiseMeasured && v.tiedKs.length > 0;
    const tail = !v
      ? ''
      : !v.noiseMeasured
        ? ` (${unmeasuredWords(v)})`
        : tied
          ? `, tied with ${list(v.tiedKs.map((k) => `${kLabel(k)} (${seconds(series.find((p) => p.k === k)!.timeS.median)})`))}: not faster than them beyond noise over ${v.over}`
          : `, faster than every other K beyond noise over ${v.over}`;
    return `The fastest K was ${at}${tail}; there is no baseline to compare with.`;
  }
  const vsBase = `${times(b.speedup.median)} the baseline's ${seconds(baseline.timeS.median)}`;
  if (!v.noiseMeasured)
    return v.beatBaseline
      ? `The fastest K was ${at}, ${vsBase} (${unmeasuredWords(v)}).`
      : `No K beat the baseline: the fastest, ${at}, ran at ${vsBase} (${unmeasuredWords(v)}).`;
  if (!v.beatBaseline) {
    const n = b.speedupOverRepeats;
    const range =
      n && n.n > 1 && n.min !== n.max
        ? `; its speedup ranged from ${times(n.min)} to ${times(n.max)} over ${n.n} repeats${c.prompts > 1 ? ` (each a median over the ${c.prompts} prompts)` : ''}`
        : '';
    return `No K beat the baseline: the fastest, ${kLabel(b.k)} (${vsBase}), was not faster beyond noise over ${v.over}${range}.`;
  }
  if (isOptimum(v))
    return `The fastest K was ${at}, ${vsBase}, faster than the baseline and every other K beyond noise over ${v.over}: ${kLabel(b.k)} is this sweep's optimum for this pair.`;
  const tied = list(v.tiedKs.map((k) => `${kLabel(k)} (${speedupOf(k)})`));
  return `No single fastest K: ${kLabel(b.k)} (${vsBase}) beat the baseline but is tied with ${tied}: not faster than ${v.tiedKs.length > 1 ? 'them' : 'it'} beyond noise over ${v.over}. ${kLabel(b.k)} had the best median.`;
}

/**
 * What the pairing shows beyond the answer: where the best's ranges overlap another K's yet it won
 * run for run, how it fared against each K it is tied with, or that one run measures no noise.
 */
function pairingPoints(c: SectionContext, b: KPoint): string[] {
  const v = c.verdict;
  if (!v) return [];
  const others = c.series.filter((p) => p !== b);
  if (!v.noiseMeasured) {
    const runnerUp = others.reduce((x, y) => (y.timeS.median < x.timeS.median ? y : x));
    const gap = runnerUp.timeS.median / b.timeS.median - 1;
    const each = c.repeats <= 1 ? 'Each K ran once' : `Each K ran ${c.repeats} times`;
    return [
      c.repeats <= 1 && gap < 0.05 && gap >= 0
        ? `The runner-up ${kLabel(runnerUp.k)} was only ${percent(gap)} slower, within what one repeat per K can resolve; repeats would tell them apart.`
        : `${each}${c.prompts > 1 ? ' per prompt' : ''}, too few to measure how much these times vary between runs; with 3 or more repeats a K is named the best only when it beats every other K run for run.`,
    ];
  }
  const out: string[] = [];
  if (v.tiedKs.length > 0) {
    const tied = v.againstTied.map((t) => ({ label: kLabel(t.k!), paired: t }));
    out.push(
      `Paired run for run (the same repeat${c.prompts > 1 ? ' and prompt' : ''}), ${pairedWords(kLabel(b.k), tied)}: not faster beyond noise.`,
    );
  } else if (isOptimum(v) && others.length > 0) {
    // ranges that overlap are described, and why they do not undo the verdict
    const runnerUp = others.reduce((x, y) => (y.timeS.median < x.timeS.median ? y : x));
    if (runnerUp.timeS.min <= b.timeS.max)
      out.push(
        `Over all runs the times of ${kLabel(runnerUp.k)} (${seconds(runnerUp.timeS.min)} to ${seconds(runnerUp.timeS.max)}) and ${kLabel(b.k)} (${seconds(b.timeS.min)} to ${seconds(b.timeS.max)}) overlap ${
          c.prompts > 1
            ? `because the ${c.prompts} prompts differ in length and ease`
            : "because the machine's speed drifted between repeats"
        }, but compared run for run (the same repeat${c.prompts > 1 ? ' and prompt' : ''}) ${kLabel(b.k)} was faster beyond noise.`,
      );
  }
  if (!v.beatBaseline && v.againstBaseline)
    out.push(
      `Against the baseline, ${pairedWords(kLabel(b.k), [{ label: 'the baseline', paired: v.againstBaseline }])}.`,
    );
  return out;
}

export function timeSection(c: SectionContext): AnalysisSection {
  const base = {
    id: 'time' as const,
    number: 2,
    title: 'Impact of K on wall-clock time',
    question:
      'How did K change the generation time? Was there an optimal K for this pair, and why does time rise or fall?',
  };
  const { series, baseline, bestPoint } = c;
  if (series.length === 0 || bestPoint === null) {
    return {
      ...base,
      answer: baseline
        ? `No speculative run finished; the baseline took ${seconds(baseline.timeS.median)}.`
        : 'No run finished, so there are no times to compare.',
      points: [],
      tables: [],
    };
  }
  const points: string[] = [];
  const b = bestPoint;
  const v = c.verdict;
  const answer = timeAnswer(c, b);

  if (series.length > 1) {
    const above = series.filter((p) => p.k > b.k);
    const below = series.filter((p) => p.k < b.k);
    if (above.length === 0) {
      points.push(
        `${kLabel(b.k)} is the largest K tested, so this sweep does not show where time starts to rise; a larger K might be faster still.`,
      );
    } else {
      const last = above.at(-1)!;
      const rising =
        trendOf([b, ...above].map((p) => shownSeconds(p.timeS.median))).kind === 'rose';
      // The best K has the best median speedup (each run against the baseline of its own repeat
      // and prompt);
      // a larger K can still have a lower median time when repeats differ: say so, not "faster".
      const quicker = above.filter(
        (p) => shownSeconds(p.timeS.median) < shownSeconds(b.timeS.median),
      );
      points.push(
        quicker.length > 0
          ? `Past ${kLabel(b.k)} no larger K had a better median speedup, though ${list(quicker.map((p) => `${kLabel(p.k)}'s median time (${seconds(p.timeS.median)})`))} ${quicker.length > 1 ? 'were' : 'was'} below ${kLabel(b.k)}'s ${seconds(b.timeS.median)}: each speedup is against the baseline of its own repeat and prompt, so the two medians can disagree by the noise between repeats.`
          : `Past ${kLabel(b.k)} ${rising ? 'time rose with every larger K' : 'no larger K was faster'}: ${list(above.map((p) => `${kLabel(p.k)} ${seconds(p.timeS.median)}`))}${shownSeconds(last.timeS.median) > shownSeconds(b.timeS.median) ? ` (${kLabel(last.k)} is ${wholePercent(last.timeS.median / b.timeS.median - 1)} slower than ${kLabel(b.k)})` : ''}.`,
      );
      if (below.length > 0)
        points.push(
          `Below it, ${list(below.map((p) => `${kLabel(p.k)} took ${seconds(p.timeS.median)}`))}.`,
        );
      else
        points.push(
          `${kLabel(b.k)} is the smallest K tested: here drafting fewer tokens per step was faster.`,
        );
    }
    points.push(...pairingPoints(c, b));
  }

  // Why: target passes saved vs draft work added.
  if (baseline?.targetPassMs && b.targetPassMs) {
    const last = series.at(-1)!;
    points.push(
      `A target pass took ${milliseconds(baseline.targetPassMs)} in the baseline (one token) and ${milliseconds(b.targetPassMs)} at ${kLabel(b.k)} (checking ${b.k + 1} tokens at once)${last !== b && last.targetPassMs ? `, ${milliseconds(last.targetPassMs)} at ${kLabel(last.k)}` : ''}: ${
        b.targetPassMs / baseline.targetPassMs < 1.5
          ? `checking ${b.k} drafts cost ${fixed(b.targetPassMs / baseline.targetPassMs, 2)} one-token passes, so every accepted draft saves most of a pass.`
          : `checking ${b.k} drafts cost ${fixed(b.targetPassMs / baseline.targetPassMs, 2)} one-token passes, which eats into what accepted drafts save.`
      }`,
    );
  }
  const shares = series.filter((p) => p.draftTimeShare !== null && p.draftTimeShare > 0);
  if (shares.length === 1) {
    const only = shares[0]!;
    points.push(
      `Drafting took ${wholePercent(only.draftTimeShare!)} of the time at ${kLabel(only.k)} (${count(only.draftPasses)} draft passes).`,
    );
  } else if (shares.length > 1) {
    // each told over every K, as the Time per K table shows them
    const passes = trendWords(
      shares.map((p) => ({ k: p.k, value: p.draftPasses })),
      count,
    );
    const share = trendWords(
      shares.map((p) => ({ k: p.k, value: p.draftTimeShare! })),
      wholePercent,
    );
    points.push(
      `Draft passes ${passes.words}${passes.trend.kind === 'rose' ? ': every extra K adds a draft pass per step, accepted or not' : ''}. Drafting's share of the time ${share.words}.`,
    );
  }
  if (c.theory)
    points.push(
      `The measured cost ratio c = ${fixed(c.theory.c, 3)} (a draft pass over a target pass) means K drafts cost ${series
        .map((p) => `${fixed(p.k * c.theory!.c, 2)} at ${kLabel(p.k)}`)
        .slice(0, 3)
        .join(', ')}${series.length > 3 ? ', ...' : ''} target passes.`,
    );
  const acc = series.filter((p) => p.acceptanceRate !== null);
  if (acc.length > 1) {
    const { trend, words } = trendWords(
      acc.map((p) => ({ k: p.k, value: p.acceptanceRate! })),
      percent,
    );
    // later drafts in a step are accepted less often: said where acceptance fell to the last K
    const fellAtEnd =
      trend.kind === 'fell' ||
      trend.kind === 'peak' ||
      ((trend.kind === 'plateau' || trend.kind === 'loosely') && trend.direction === 'fell');
    points.push(
      acc.every((p) => p.acceptanceRate === 0)
        ? `No draft was accepted at any K: every draft pass was wasted work.`
        : `Acceptance ${words}${fellAtEnd ? ': later drafts in a step are accepted less often, so a long K adds draft work that is mostly discarded' : ''}.`,
    );
  }
  if (series.length > 1 && baseline) {
    const after = series.filter((p) => p.k > b.k);
    const last = after.at(-1);
    if (last && last.timeS.median > b.timeS.median)
      points.push(
        last.targetPasses < b.targetPasses
          ? `So past ${kLabel(b.k)} the passes saved (${count(b.targetPasses)} to ${count(last.targetPasses)} target passes at ${kLabel(last.k)}) no longer paid for the draft work added (${count(b.draftPasses)} to ${count(last.draftPasses)} draft passes).`
          : `So past ${kLabel(b.k)} a larger K saved no target passes (${count(b.targetPasses)} at ${kLabel(b.k)}, ${count(last.targetPasses)} at ${kLabel(last.k)}) but added draft work (${count(b.draftPasses)} to ${count(last.draftPasses)} draft passes).`,
      );
  }
  return {
    ...base,
    answer,
    points,
    tables: [
      {
        caption: 'Time per K',
        head: [
          'K',
          'Time (s)',
          ...(baseline ? ['Speedup'] : []),
          ...(c.theory ? ['Predicted speedup'] : []),
          'Draft passes',
          'Draft share of time',
        ],
        rows: series.map((p) => [
          `${p.k}${verdictMark(p.k, v)}`,
          spreadText(p.timeS, (v) => fixed(v, 3)),
          ...(baseline ? [p.speedup ? spreadText(p.speedup, times) : '-'] : []),
          ...(c.theory ? [p.predictedSpeedup === null ? '-' : times(p.predictedSpeedup)] : []),
          count(p.draftPasses),
          p.draftTimeShare === null ? '-' : wholePercent(p.draftTimeShare),
        ]),
      },
    ],
  };
}
