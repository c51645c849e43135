/** Question 1, K and target passes: how many forward passes of the target each K needed, and why. */
import { count, fixed, wholePercent } from '../../shared/format';
import { trendWords } from './trend';
import type { AnalysisSection, KPoint, SectionContext } from './types';
import { kLabel, list } from './words';

/** "40% fewer", "10% more", "the same" */
function passChange(passes: number, baselinePasses: number): string {
  const cut = 1 - passes / baselinePasses;
  if (wholePercent(Math.abs(cut)) === '0%') return cut === 0 ? 'the same' : 'about the same';
  return cut > 0 ? `${wholePercent(cut)} fewer` : `${wholePercent(-cut)} more`;
}

export function passesSection(c: SectionContext): AnalysisSection {
  const base = {
    id: 'passes' as const,
    number: 1,
    title: 'Impact of K on target model passes',
    question:
      'How did K change the number of forward passes of the target model, compared with the baseline?',
  };
  const { series, baseline } = c;
  if (series.length === 0) {
    return {
      ...base,
      answer: baseline
        ? `No speculative run finished; the baseline made ${count(baseline.targetPasses)} target passes for ${count(baseline.newTokens)} new tokens.`
        : 'No run finished, so there are no pass counts to compare.',
      points: [],
      tables: [],
    };
  }
  const byPasses = [...series].sort((a, b) => a.targetPasses - b.targetPasses);
  const fewest = byPasses[0]!;
  const most = byPasses.at(-1)!;
  const points: string[] = [];
  let answer: string;
  if (baseline) {
    const change = (p: KPoint): string => passChange(p.targetPasses, baseline.targetPasses);
    if (fewest.targetPasses >= baseline.targetPasses) {
      answer =
        most.targetPasses === baseline.targetPasses
          ? `Speculative decoding did not reduce the target passes: ${series.length === 1 ? kLabel(fewest.k) : 'every K'} needed ${count(fewest.targetPasses)}, the same as the baseline.`
          : `Speculative decoding did not reduce the target passes: the baseline needed ${count(baseline.targetPasses)}, the speculative runs ${count(fewest.targetPasses)} to ${count(most.targetPasses)}.`;
    } else if (series.length === 1) {
      answer = `With ${kLabel(fewest.k)} the target made ${count(fewest.targetPasses)} passes instead of the baseline's ${count(baseline.targetPasses)} (${change(fewest)}).`;
    } else if (fewest.targetPasses === most.targetPasses) {
      answer = `Speculative decoding cut the target passes from the baseline's ${count(baseline.targetPasses)} to ${count(fewest.targetPasses)} (${change(fewest)}) at every K.`;
    } else {
      // every K at the fewest and at the most passes is named, not one of them
      const ksAt = (p: KPoint): string =>
        list(
          series
            .filter((q) => count(q.targetPasses) === count(p.targetPasses))
            .map((q) => kLabel(q.k)),
        );
      answer = `Speculative decoding cut the target passes from the baseline's ${count(baseline.targetPasses)} to between ${count(fewest.targetPasses)} (${ksAt(fewest)}, ${change(fewest)}) and ${count(most.targetPasses)} (${ksAt(most)}, ${change(most)}).`;
    }
    const notFewer = series.filter((p) => p.targetPasses >= baseline.targetPasses);
    if (notFewer.length > 0 && notFewer.length < series.length)
      points.push(
        `${list(notFewer.map((p) => kLabel(p.k)))} needed as many passes as the baseline or more.`,
      );
    points.push(
      baseline.targetPasses === baseline.newTokens
        ? `The baseline makes one target pass per new token (${count(baseline.newTokens)} tokens, ${count(baseline.targetPasses)} passes).`
        : `The baseline made ${count(baseline.targetPasses)} target passes for ${count(baseline.newTokens)} new tokens (${fixed(baseline.targetPasses / Math.max(1, baseline.newTokens), 2)} per token).`,
    );
  } else {
    answer = `Without a baseline run, only the speculative counts are known: ${list(series.map((p) => `${kLabel(p.k)} ${count(p.targetPasses)}`))} target passes.`;
  }
  if (fewest.tokensPerPass !== null)
    points.push(
      `Why: each target pass checks all K drafts at once and keeps the accepted ones plus one token of its own (a correction or a bonus). At ${kLabel(fewest.k)} a pass yielded ${fixed(fewest.tokensPerPass, 2)} tokens, so ${count(fewest.newTokens)} new tokens took about ${count(fewest.newTokens)} / ${fixed(fewest.tokensPerPass, 2)} = ${(fewest.newTokens / fewest.tokensPerPass).toFixed(1)} passes (measured: ${count(fewest.targetPasses)}).`,
    );
  if (series.length > 1) {
    const { trend, words } = trendWords(
      series.map((p) => ({ k: p.k, value: p.targetPasses })),
      count,
    );
    const last = series.at(-1)!;
    const why =
      trend.kind === 'plateau' && trend.direction === 'fell'
        ? `: drafting more than ${series[trend.at]!.k} tokens bought no fewer passes`
        : '';
    points.push(`Passes ${words}${why}.`);
    // where a larger K needed more passes, its passes yielded fewer tokens
    const rises = series
      .slice(1)
      .map((p, i) => [series[i]!, p] as const)
      .filter(([a, b]) => count(b.targetPasses) !== count(a.targetPasses))
      .filter(([a, b]) => b.targetPasses > a.targetPasses)
      .map(
        ([a, b]) =>
          `${kLabel(b.k)} needed ${count(b.targetPasses)} where ${kLabel(a.k)} needed ${count(a.targetPasses)}${b.tokensPerPass !== null && a.tokensPerPass !== null ? ` (${fixed(b.tokensPerPass, 2)} tokens per pass against ${fixed(a.tokensPerPass, 2)})` : ''}`,
      );
    if (rises.length > 0) points.push(`A larger K did not always save passes: ${list(rises)}.`);
    if (last.tokensPerPass !== null)
      points.push(
        `A pass can yield at most K + 1 tokens; at ${kLabel(last.k)} that is ${last.k + 1}, but it yielded ${fixed(last.tokensPerPass, 2)} (${wholePercent(last.tokensPerPass / (last.k + 1))} of the ceiling), because a step ends at the first rejected draft. The fewest passes possible would be ${count(last.newTokens)} / ${last.k + 1} = ${(last.newTokens / (last.k + 1)).toFixed(1)}.`,
      );
  }
  if (c.noCacheBaseline && baseline)
    points.push(
      c.noCacheBaseline.targetPasses === baseline.targetPasses
        ? `The baseline without a KV cache made the same ${count(baseline.targetPasses)} passes; it is slower per pass, not in passes.`
        : `The baseline without a KV cache made ${count(c.noCacheBaseline.targetPasses)} passes (with the cache: ${count(baseline.targetPasses)}).`,
    );
  return {
    ...base,
    answer,
    points,
    tables: [
      {
        caption: 'Target passes per K',
        head: [
          'K',
          'Target passes',
          ...(baseline ? ['vs baseline'] : []),
          'Tokens per pass',
          'New tokens / tokens per pass',
        ],
        rows: series.map((p) => [
          String(p.k),
          count(p.targetPasses),
          ...(baseline ? [passChange(p.targetPasses, baseline.targetPasses)] : []),
          p.tokensPerPass === null ? '-' : fixed(p.tokensPerPass, 2),
          p.tokensPerPass === null ? '-' : (p.newTokens / p.tokensPerPass).toFixed(1),
        ]),
      },
    ],
  };
}
