/**
 * Question 5, the best configuration against the baseline: passes, time and output identity, per
 * drafter / policy and per prompt when the sweep has several.
 */
import { count, fixed, seconds, times, wholePercent } from '../../shared/format';
import type { RunRow } from '../../shared/protocol';
import { spreadOf } from '../../shared/stats';
import { strategyName } from '../strategy';
import {
  baselineRow,
  bestOf,
  summarizeByPrompt,
  type BestChoice,
  type SummaryRow,
} from '../summary';
import { kVerdictOf, tiedLabels, type KVerdict } from './kVerdict';
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

/** ", tied with K=3 (1.43x)", "; none of its Ks beat the baseline": a drafter / policy's verdict */
function strategyVerdictWords(v: KVerdict): string {
  if (!v.beatBaseline)
    return `; none of its Ks beat the baseline${v.noiseMeasured ? ' beyond noise' : ''}`;
  if (v.noiseMeasured && v.tiedKs.length > 0) return `, tied with ${list(tiedLabels(v))}`;
  return '';
}

function strategyVerdictCell(v: KVerdict): string {
  if (!v.noiseMeasured)
    return v.beatBaseline ? 'fastest (noise not measured)' : 'slower than the baseline';
  if (!v.beatBaseline) return 'did not beat the baseline';
  return v.tiedKs.length > 0
    ? `tied with ${list(tiedLabels(v))}`
    : 'beat the baseline and its other Ks';
}

/** "K=2", "K=2, tied with K=3", "none (fastest: K=1)": a prompt's own verdict */
function promptVerdictCell(v: BestChoice, label: (r: Configuration) => string): string {
  if (!v.beatBaseline) return `none beat the baseline (fastest: ${label(v.row)})`;
  if (v.noiseMeasured && v.tiedWith.length > 0)
    return `${label(v.row)}, tied with ${list(v.tiedWith.map(label))}`;
  return label(v.row);
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
  // who: the verdict's words (summary.ts bestOf), never a ranking of this section's own
  const who = !best.beatBaseline
    ? `No configuration beat the baseline${best.noiseMeasured ? ` beyond noise over ${best.over}` : ''}: the fastest, ${best.label},`
    : best.noiseMeasured && best.tiedWith.length > 0
      ? `The configuration with the best median, ${best.label} (tied with ${list(best.tiedWith)}: not faster than ${best.tiedWith.length > 1 ? 'them' : 'it'} beyond noise),`
      : `The best configuration, ${best.label},`;
  const speed = faster
    ? `a ${best.runs > 1 ? 'median ' : ''}speedup of ${times(best.speedup.median)}`
    : `${times(best.speedup.median)} the baseline's speed, i.e. slower`;
  const spread =
    best.runs > 1 && best.speedup.n > 1 && best.speedup.min !== best.speedup.max
      ? `, ${times(best.speedup.min)} to ${times(best.speedup.max)} over its ${best.runs} runs`
      : '';
  const rule =
    best.noiseMeasured && best.beatBaseline && best.tiedWith.length === 0
      ? `; it beat the baseline and every other configuration beyond noise over ${best.over}`
      : '';
  const answer = `${who} needed ${passText} and took ${seconds(best.timeS.median)} instead of ${seconds(baseline.timeS.median)}: ${speed}${spread}${rule}.`;

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
    const baseRow = baselineRow(d.summary);
    const bests = [...byStrategy].map(([s, rs]) => [s, kVerdictOf(rs, baseRow), rs] as const);
    const rowOf = (rs: readonly SummaryRow[], k: number): SummaryRow | undefined =>
      rs.find((r) => r.k === k);
    points.push(
      `Best per drafter / policy: ${list(
        bests.map(([s, v, rs]) => {
          const r = v ? rowOf(rs, v.k) : undefined;
          return r?.speedup && v
            ? `${s} at K=${v.k} (${times(r.speedup.median)}${strategyVerdictWords(v)})`
            : `${s}: no speedup measured`;
        }),
      )}.`,
    );
    tables.push({
      caption: 'Best K per drafter / policy',
      head: ['Drafter / policy', 'Best K', 'Time (s)', 'Target passes', 'Speedup', 'Verdict'],
      textColumns: [5],
      rows: bests.map(([s, v, rs]) => {
        const r = v ? rowOf(rs, v.k) : undefined;
        return [
          s,
          r ? String(r.k) : '-',
          r ? fixed(r.timeS.median, 3) : '-',
          r ? count(r.targetPasses.median) : '-',
          r?.speedup ? times(r.speedup.median) : '-',
          v ? strategyVerdictCell(v) : '-',
        ];
      }),
    });
  }
  if (d.prompts.length > 1) {
    const byPrompt = summarizeByPrompt(d.rows);
    const perPrompt = byPrompt.map(({ promptIndex, rows }) => ({
      promptIndex,
      own: bestOf(rows),
      overall: rows.find((r) => r.key === best.key)?.speedup?.median ?? null,
      baseline: baselineRow(rows)?.timeS.median ?? null,
    }));
    const speeds = perPrompt.map((p) => p.overall).filter((v): v is number => v !== null);
    if (speeds.length > 0) {
      const s = spreadOf(speeds)!;
      // each prompt's own verdict (its repeats paired), counted by kind
      const clear = new Map<string, number>();
      let tied = 0;
      let none = 0;
      for (const p of perPrompt) {
        if (!p.own) continue;
        if (!p.own.beatBaseline) none++;
        else if (p.own.tiedWith.length > 0) tied++;
        else clear.set(d.label(p.own.row), (clear.get(d.label(p.own.row)) ?? 0) + 1);
      }
      const prompts = (n: number): string => `${n} prompt${n === 1 ? '' : 's'}`;
      const verdicts = [
        ...[...clear].map(([l, n]) => `${l} best on ${prompts(n)}`),
        ...(tied > 0 ? [`a tie on ${prompts(tied)}`] : []),
        ...(none > 0 ? [`no configuration beat the baseline on ${prompts(none)}`] : []),
      ];
      const measured = perPrompt.some((p) => p.own?.noiseMeasured);
      points.push(
        `Across ${speeds.length} prompts ${best.label} ran at ${times(s.median)} the baseline on median (min ${times(s.min)}, max ${times(s.max)}). Each prompt's own verdict${measured ? ' (its repeats paired)' : ' (one run each: noise not measured)'}: ${list(verdicts)}.`,
      );
    }
    tables.push({
      caption: 'Per prompt (medians over repeats)',
      head: ['#', 'Prompt', 'Baseline (s)', 'Best there', 'Its speedup', `${best.label} speedup`],
      textColumns: [1, 3],
      rows: perPrompt.map((p) => [
        String(p.promptIndex + 1),
        shorten(d.prompts[p.promptIndex] ?? '', 40),
        p.baseline === null ? '-' : fixed(p.baseline, 3),
        p.own ? promptVerdictCell(p.own, d.label) : '-',
        p.own?.row.speedup ? times(p.own.row.speedup.median) : '-',
        p.overall === null ? '-' : times(p.overall),
      ]),
    });
  }
  return { ...base, answer, points, tables };
}
