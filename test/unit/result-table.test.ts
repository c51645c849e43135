/**
 * The CLI's result table at its widest content (long strategy labels, the cache-less baseline,
 * spreads, samples that differ): the default still fits 100 columns, `--wide` keeps every column.
 */
import { describe, expect, it } from 'vitest';
import type { RunRow } from '../../src/shared/protocol';
import { summarizeRows } from '../../src/results/summary';
import {
  NARROW_WIDTH,
  resultTable,
  sampleNote,
  sampleViewOf,
} from '../../src/cli/sweep/resultTable';
import { runRow } from '../support/helpers';

/** every configuration of a strategy comparison, times (up to 10-99 s) and outputs that vary */
function runs(sampled: boolean, repeats = 3): RunRow[] {
  const rows: RunRow[] = [];
  for (let repeat = 0; repeat < repeats; repeat++) {
    const vary = 1 + repeat / 7;
    rows.push(runRow({ mode: 'baseline', k: null, repeat, timeS: 10.1234 * vary, speedup: 1 }));
    rows.push(
      runRow({ mode: 'baseline-no-cache', k: null, repeat, timeS: 25.5 * vary, speedup: 0.4 }),
    );
    for (const drafter of ['model', 'prompt-lookup'] as const)
      for (const policy of ['fixed', 'heuristic', 'confidence'] as const)
        for (const k of [1, 12, 64])
          rows.push(
            runRow({
              repeat,
              k,
              drafter,
              policy,
              timeS: 3.5 * vary * k,
              speedup: 10.5 / (vary * k),
              acceptanceRate: 0.5 / vary,
              tokensPerTargetPass: 12.25 / vary,
              identical: !sampled,
              outputText: sampled ? `sampled ${k} ${drafter} ${policy}` : 'x',
            }),
          );
  }
  return rows;
}

const width = (text: string): number => Math.max(...text.split('\n').map((l) => [...l].length));

describe('the result table', () => {
  it(`fits ${NARROW_WIDTH} columns by default, with every strategy and spread`, () => {
    for (const [sampled, repeats] of [
      [false, 3],
      [true, 3],
      [true, 15],
    ] as const) {
      const rows = summarizeRows(runs(sampled, repeats));
      const view = sampleViewOf(rows, 'A prompt that is long enough to matter');
      expect(width(resultTable(rows, true, view, false))).toBeLessThanOrEqual(NARROW_WIDTH);
      expect(width(resultTable(rows, false, view, false))).toBeLessThanOrEqual(NARROW_WIDTH);
    }
  });

  it('prints a shared sample once (a note, no column); differing ones marked, or in --wide', () => {
    const greedy = summarizeRows(runs(false));
    const shared = sampleViewOf(greedy, 'P')!;
    expect(shared.shared).toBe(true);
    expect(sampleNote(shared, false)).toMatch(/every row's is the baseline output above/);
    expect(resultTable(greedy, true, shared, true)).not.toContain('Output Text Sample');

    const sampled = summarizeRows(runs(true));
    const differs = sampleViewOf(sampled, 'P')!;
    expect(differs.shared).toBe(false);
    const narrow = resultTable(sampled, true, differs, false);
    // every speculative row's text differs from the baseline's: marked, its text not printed
    expect(narrow.match(/ \* /g)).toHaveLength(18);
    expect(narrow).not.toContain('sampled');
    const wide = resultTable(sampled, true, differs, true);
    expect(wide).toContain('Output Text Sample');
    expect(wide).toContain('sampled 12 prompt-lookup confidence');
    expect(sampleNote(differs, true)).toBeNull();
  });

  it('has no sample column or note for a prompt set', () => {
    expect(sampleViewOf(summarizeRows(runs(true)), null)).toBeNull();
    expect(sampleNote(null, false)).toBeNull();
  });
});
