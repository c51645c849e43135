/**
 * Question 2, K and wall-clock time: the fastest K, whether it is clear of the others, and why
 * time falls or rises with K (passes saved against draft work added).
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
import { trendOf } from './trend';
import type { AnalysisSection, SectionContext } from './types';
import { kLabel, list, spreadText } from './words';

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
  const tied = [b, ...c.tiedKs.map((k) => series.find((p) => p.k === k)!)];
  let answer =
    c.tiedKs.length > 0 && baseline
      ? `No single fastest K: ${list(tied.map((p) => kLabel(p.k)))} are within noise (${list(tied.map((p) => times(p.speedup!.median)))} the baseline's ${seconds(baseline.timeS.median)}; their speedups over ${c.repeats} repeats overlap). ${kLabel(b.k)} had the best median.`
      : baseline && b.speedup
        ? `The fastest K was ${kLabel(b.k)} at ${seconds(b.timeS.median)}, ${times(b.speedup.median)} the baseline's ${seconds(baseline.timeS.median)}.`
        : `The fastest K was ${kLabel(b.k)} at ${seconds(b.timeS.median)} (no baseline to compare with).`;
  if (baseline && b.speedup && b.speedup.median < 1) {
    const n = b.speedupOverRepeats;
    answer +=
      n && n.n > 1 && n.max >= 1
        ? ` No K was faster than the baseline beyond noise: ${kLabel(b.k)}'s speedup over ${n.n} repeats ranged from ${times(n.min)} to ${times(n.max)}.`
        : ` No K beat the baseline: speculative decoding cost more than it saved here.`;
  }

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
          `Below it, ${list(below.map((p) => `${kLabel(p.k)} took ${seconds(p.timeS.median)}`))}${
            c.tiedKs.length > 0 || c.repeats <= 1
              ? '.'
              : `: so ${kLabel(b.k)} is this sweep's optimum for this pair, clear of the others over ${c.repeats} repeats.`
          }`,
        );
      else
        points.push(
          `${kLabel(b.k)} is the smallest K tested: here drafting fewer tokens per step was faster.`,
        );
    }
    // Is the optimum clear of the runner-up?
    const others = series.filter((p) => p !== b);
    const runnerUp = others.reduce((x, y) => (y.timeS.median < x.timeS.median ? y : x));
    const gap = runnerUp.timeS.median / b.timeS.median - 1;
    // (within noise is said in the answer)
    if (c.tiedKs.length === 0) {
      if (
        c.repeats > 1 &&
        c.prompts > 1 &&
        runnerUp.timeS.min <= b.timeS.max &&
        c.seriesBestBySpeedup
      )
        points.push(
          `Over all runs the times of ${kLabel(runnerUp.k)} and ${kLabel(b.k)} overlap because the ${c.prompts} prompts differ in length and ease, but each repeat's median speedup over the prompts kept ${kLabel(b.k)} ahead.`,
        );
      else if (c.repeats > 1 && runnerUp.timeS.min <= b.timeS.max && c.seriesBestBySpeedup)
        points.push(
          `Their times overlap (${kLabel(runnerUp.k)} ${seconds(runnerUp.timeS.min)} to ${seconds(runnerUp.timeS.max)}, ${kLabel(b.k)} ${seconds(b.timeS.min)} to ${seconds(b.timeS.max)}) because the machine's speed drifted between repeats, but against the baseline of the same repeat ${kLabel(b.k)} was the faster every time.`,
        );
      else if (c.repeats > 1 && runnerUp.timeS.min <= b.timeS.max)
        points.push(
          `The runner-up ${kLabel(runnerUp.k)} (${seconds(runnerUp.timeS.min)} to ${seconds(runnerUp.timeS.max)} over its runs) overlaps ${kLabel(b.k)} (${seconds(b.timeS.min)} to ${seconds(b.timeS.max)}), so the two are not clearly separated.`,
        );
      else if (c.repeats <= 1)
        points.push(
          gap < 0.05
            ? `The runner-up ${kLabel(runnerUp.k)} was only ${percent(gap)} slower, within what one repeat per K can resolve; repeats would tell them apart.`
            : `Each K ran once${c.prompts > 1 ? ' per prompt' : ''}, so nothing measured how much these times vary between runs; with 3 or more repeats the fastest K is named only when it is clear of the runner-up.`,
        );
    }
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
  if (shares.length > 0) {
    const first = shares[0]!;
    const last = shares.at(-1)!;
    points.push(
      first === last
        ? `Drafting took ${wholePercent(first.draftTimeShare!)} of the time at ${kLabel(first.k)} (${count(first.draftPasses)} draft passes).`
        : `Drafting took ${wholePercent(first.draftTimeShare!)} of the time at ${kLabel(first.k)} (${count(first.draftPasses)} draft passes) and ${wholePercent(last.draftTimeShare!)} at ${kLabel(last.k)} (${count(last.draftPasses)} draft passes): every extra K adds a draft pass per step, accepted or not.`,
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
    const first = acc[0]!;
    const last = acc.at(-1)!;
    points.push(
      acc.every((p) => p.acceptanceRate === 0)
        ? `No draft was accepted at any K: every draft pass was wasted work.`
        : `Acceptance went from ${percent(first.acceptanceRate!)} at ${kLabel(first.k)} to ${percent(last.acceptanceRate!)} at ${kLabel(last.k)}${last.acceptanceRate! < first.acceptanceRate! ? ': later drafts in a step are accepted less often, so a long K adds draft work that is mostly discarded' : ''}.`,
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
          p.k === b.k ? `${p.k} (${c.tiedKs.length > 0 ? 'best median' : 'best'})` : String(p.k),
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
