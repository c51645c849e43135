/**
 * The "Results" table, the exercise's: one row per configuration of the sweep, medians (and
 * ranges) of each measure, and its output text sample (said once where every row's is the same).
 */
import { count, fixed, percent, times } from '../../shared/format';
import type { RunRow } from '../../shared/protocol';
import type { Spread } from '../../shared/stats';
import { SAMPLE_CHARS, type SummaryRow } from '../summary';
import { medianOf } from './facts';
import type { AnalysisTable } from './types';
import { shorten, spreadText } from './words';

/** what a row's sample cell says: the text, or that it is the reference's (the baseline's) */
function sampleCells(summary: readonly SummaryRow[]): string[] {
  const reference = summary.find((r) => r.mode === 'baseline') ?? summary[0];
  const name = reference?.mode === 'baseline' ? 'the baseline' : 'the first row';
  return summary.map((r) =>
    r !== reference && reference && r.outputSample === reference.outputSample
      ? `same as ${name}`
      : shorten(r.outputSample, SAMPLE_CHARS).trim(),
  );
}

/** `spread`: configurations ran more than once, so each cell shows its min to max too */
export function resultsTable(
  summary: readonly SummaryRow[],
  groups: ReadonlyMap<string, RunRow[]>,
  label: (r: SummaryRow) => string,
  spread: boolean,
): AnalysisTable {
  const sp = (s: Spread | null, fmt: (v: number) => string): string =>
    s === null ? '-' : spread ? spreadText(s, fmt) : fmt(s.median);
  const samples = sampleCells(summary);
  const multiPrompt = summary.some((r) => r.prompts > 1);
  return {
    caption: `Results per configuration (medians${spread ? ', min to max in brackets' : ''}; output text: the first ${SAMPLE_CHARS} characters of ${multiPrompt ? "the first prompt's first run" : 'the first run'})`,
    head: [
      'Configuration',
      'Runs',
      'Time (s)',
      'Speedup',
      'Target passes',
      'Tokens per pass',
      'Acceptance',
      'Draft passes',
      'Wasted drafts',
      'Identical',
      'Output text sample',
    ],
    textColumns: [10],
    rows: summary.map((r, i) => {
      const group = groups.get(r.key) ?? [];
      const wasted = medianOf(group, (x) => x.draftedTokens - x.acceptedTokens);
      return [
        label(r),
        String(r.repeats),
        sp(r.timeS, (v) => fixed(v, 3)),
        sp(r.speedup, times),
        count(r.targetPasses.median),
        r.tokensPerTargetPass ? fixed(r.tokensPerTargetPass.median, 2) : '-',
        r.acceptanceRate ? percent(r.acceptanceRate.median) : '-',
        count(r.draftPasses.median),
        r.mode === 'speculative' && wasted !== null ? count(wasted) : '-',
        r.mode === 'speculative' ? `${r.identicalCount}/${r.repeats}` : '-',
        samples[i]!,
      ];
    }),
  };
}
