/**
 * Question 5, the best configuration against the baseline: passes, time and output identity, per
 * drafter / policy and per prompt when the sweep has several.
 */
import { count, fixed, seconds, times, wholePercent } from '../../shared/format';
import type { RunRow } from '../../shared/protocol';
import { spreadOf } from '../../shared/stats';
import { strategyName } from '../strategy';
import { baselineRow, bestRow, summarizeByPrompt, type SummaryRow } from '../summary';
import type {
  AnalysisSection,
  AnalysisTable,
  BestFacts,
  Configuration,
  SectionContext,
} from './types';
import { list, shorten } from './words';

export interface BaselineSectionData {
  rows: readonly RunRow[];
  summary: readonly SummaryRow[];
  best: BestFacts | null;
  prompts: readonly string[];
  label: (r: Configuration) => string;
  strategies: boolean;
}

export function baselineSection(c: SectionContext, d: BaselineSectionData): AnalysisSection {
  const base = {
    id: 'baseline' as const,
    number: 5,
    title: 'Comparison to baseline',
    question:
      'How did the best speculative configuration compare with plain autoregressive decoding in target passes and wall-clock time?',
  };
  const { baseline } = c;
  const { best } = d;
  if (!baseline || !best) {
    return {
      ...base,
      answer: !baseline
        ? 'No baseline run finished, so the best configuration cannot be compared with it.'
        : 'No speculative run finished, so there is nothing to compare with the baseline.',
      points: [],
      tables: [],
    };
  }
  const points: string[] = [];
  const passCut = 1 - best.targetPasses / baseline.targetPasses;
  const faster = best.speedup.median >= 1;
  const passText =
    best.targetPasses === baseline.targetPasses
      ? `the same ${count(best.targetPasses)} target passes as the baseline`
      : `${count(best.targetPasses)} target passes instead of ${count(baseline.targetPasses)} (${wholePercent(Math.abs(passCut))} ${passCut >= 0 ? 'fewer' : 'more'})`;
  const who =
    best.tiedWith.length > 0
      ? `The configuration with the best median, ${best.label} (within noise of ${list(best.tiedWith)}),`
      : `The best configuration, ${best.label},`;
  let answer = `${who} needed ${passText} and took ${seconds(best.timeS.median)} instead of ${seconds(baseline.timeS.median)}: ${faster ? `a speedup of ${times(best.speedup.median)}` : `${times(best.speedup.median)} the baseline's speed, i.e. slower`}`;
  answer +=
    best.runs > 1 && best.speedup.n > 1
      ? `, ${times(best.speedup.min)} to ${times(best.speedup.max)} over its ${best.runs} runs.`
      : '.';
  if (!faster) {
    const n = best.speedupOverRepeats;
    answer +=
      n && n.n > 1 && n.max >= 1
        ? ` No speculative configuration was faster than the baseline beyond noise (${best.label}: ${times(n.min)} to ${times(n.max)} over ${n.n} repeats).`
        : ' No speculative configuration beat the baseline in this sweep.';
  }

  // Identity.
  const spec = d.rows.filter((r) => r.mode === 'speculative');
  const same = spec.filter((r) => r.identical).length;
  if (!c.sampled) {
    if (same === spec.length)
      points.push(
        `Output: all ${spec.length} speculative runs reproduced the baseline's tokens exactly (${best.identical}/${best.runs} for ${best.label}). With greedy decoding speculative decoding is lossless: it only changes how many target passes the same text takes.`,
      );
    else {
      const differing = d.summary
        .filter((r) => r.mode === 'speculative' && r.identicalCount < r.repeats)
        .map((r) => `${d.label(r)} (${r.repeats - r.identicalCount} of ${r.repeats})`);
      points.push(
        `Output: ${spec.length - same} of ${spec.length} speculative runs differed from the baseline's tokens: ${list(differing)}. Greedy speculative decoding should reproduce the baseline exactly; a difference usually comes from near-tied logits that a multi-token pass rounds differently from a one-token pass.`,
      );
    }
  } else {
    points.push(
      `Output: decoding was sampled, so identical outputs are not expected (${same} of ${spec.length} speculative runs happened to match the baseline's tokens); the verification's modified rejection sampling keeps the target's output distribution, so the method is still lossless in distribution.`,
    );
  }
  if (c.noCacheBaseline)
    points.push(
      `Against the notebook's baseline without a KV cache (${seconds(c.noCacheBaseline.timeS.median)}), ${best.label} was ${times(c.noCacheBaseline.timeS.median / best.timeS.median)} faster; the KV-cache baseline is the fair comparison.`,
    );

  const tables: AnalysisTable[] = [];
  if (d.strategies) {
    const byStrategy = new Map<string, SummaryRow[]>();
    for (const r of d.summary) {
      if (r.mode !== 'speculative') continue;
      const s = strategyName(r);
      byStrategy.set(s, [...(byStrategy.get(s) ?? []), r]);
    }
    const bests = [...byStrategy].map(([s, rs]) => [s, bestRow(rs)] as const);
    points.push(
      `Best per drafter / policy: ${list(bests.map(([s, r]) => (r?.speedup ? `${s} at K=${r.k} (${times(r.speedup.median)})` : `${s}: no speedup measured`)))}.`,
    );
    tables.push({
      caption: 'Best K per drafter / policy',
      head: ['Drafter / policy', 'Best K', 'Time (s)', 'Target passes', 'Speedup'],
      rows: bests.map(([s, r]) => [
        s,
        r ? String(r.k) : '-',
        r ? fixed(r.timeS.median, 3) : '-',
        r ? count(r.targetPasses.median) : '-',
        r?.speedup ? times(r.speedup.median) : '-',
      ]),
    });
  }
  if (d.prompts.length > 1) {
    const byPrompt = summarizeByPrompt(d.rows);
    const perPrompt = byPrompt.map(({ promptIndex, rows }) => ({
      promptIndex,
      own: bestRow(rows),
      overall: rows.find((r) => r.key === best.key)?.speedup?.median ?? null,
      baseline: baselineRow(rows)?.timeS.median ?? null,
    }));
    const speeds = perPrompt.map((p) => p.overall).filter((v): v is number => v !== null);
    if (speeds.length > 0) {
      const s = spreadOf(speeds)!;
      const bestKs = new Map<string, number>();
      for (const p of perPrompt)
        if (p.own) bestKs.set(d.label(p.own), (bestKs.get(d.label(p.own)) ?? 0) + 1);
      points.push(
        `Across ${speeds.length} prompts ${best.label} ran at ${times(s.median)} the baseline on median (min ${times(s.min)}, max ${times(s.max)}). Each prompt's own best: ${list([...bestKs].map(([l, n]) => `${l} for ${n} prompt${n === 1 ? '' : 's'}`))}.`,
      );
    }
    tables.push({
      caption: 'Per prompt (medians over repeats)',
      head: ['#', 'Prompt', 'Baseline (s)', 'Best there', 'Its speedup', `${best.label} speedup`],
      rows: perPrompt.map((p) => [
        String(p.promptIndex + 1),
        shorten(d.prompts[p.promptIndex] ?? '', 40),
        p.baseline === null ? '-' : fixed(p.baseline, 3),
        p.own ? d.label(p.own) : '-',
        p.own?.speedup ? times(p.own.speedup.median) : '-',
        p.overall === null ? '-' : times(p.overall),
      ]),
    });
  }
  return { ...base, answer, points, tables };
}
