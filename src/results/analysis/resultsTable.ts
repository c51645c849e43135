/** The "Results" table: one row per configuration of the sweep, medians (and ranges) of each measure. */
import { count, fixed, percent, times } from '../../shared/format';
import type { RunRow } from '../../shared/protocol';
import type { Spread } from '../../shared/stats';
import type { SummaryRow } from '../summary';
import { medianOf } from './facts';
import type { AnalysisTable } from './types';
import { spreadText } from './words';

/** `spread`: configurations ran more than once, so each cell shows its min to max too */
export function resultsTable(
  summary: readonly SummaryRow[],
  groups: ReadonlyMap<string, RunRow[]>,
  label: (r: SummaryRow) => string,
  spread: boolean,
): AnalysisTable {
  const sp = (s: Spread | null, fmt: (v: number) => string): string =>
    s === null ? '-' : spread ? spreadText(s, fmt) : fmt(s.median);
  return {
    caption: `Results per configuration (medians${spread ? ', min to max in brackets' : ''})`,
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
    ],
    rows: summary.map((r) => {
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
      ];
    }),
  };
}
