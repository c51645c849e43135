/**
 * What `specdec sweep` prints for people and the exercise's table it writes: help with examples,
 * a result table that fits 100 columns (`--wide` for all), a shared output sample printed once,
 * and `--summary-csv` (one row per configuration, from the same summary).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { RunRow } from '../../src/shared/protocol';
import { summarizeRows } from '../../src/results/summary';
import { SUMMARY_CSV_COLUMNS, summaryCsv } from '../../src/results/summaryCsv';
import { MICRO_A, MICRO_B, specdec } from '../support/helpers';

const micro = ['--target', MICRO_A, '--draft', MICRO_B];
const small = [...micro, '--k', '1,2,3', '--max-new-tokens', '12', '--repeats', '3'];

/** the table's lines: from its top border to its bottom one */
function tableLines(stdout: string): string[] {
  const lines = stdout.split('\n');
  const top = lines.findIndex((l) => l.startsWith('┌'));
  const bottom = lines.findIndex((l) => l.startsWith('└'));
  expect(top).toBeGreaterThanOrEqual(0);
  return lines.slice(top, bottom + 1);
}

describe('specdec --help', () => {
  it('ends with example command lines, at the top level and for sweep', async () => {
    const top = await specdec(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Examples:');
    expect(top.stdout).toContain('$ specdec sweep --pair seed');
    const sweep = await specdec(['sweep', '--help']);
    expect(sweep.code).toBe(0);
    const examples = sweep.stdout.slice(sweep.stdout.indexOf('Examples:'));
    expect(examples.match(/^ {2}\$ specdec sweep/gm)?.length).toBeGreaterThanOrEqual(3);
    expect(examples).toContain('--summary-csv');
    expect(sweep.stdout).toContain('--wide');
  });
});

describe('the result table', () => {
  it('fits 100 columns by default, and the output sample every row shares is printed once', async () => {
    const r = await specdec(['sweep', ...small, '--no-kv-cache']);
    expect(r.code).toBe(0);
    const table = tableLines(r.stdout);
    for (const line of table) expect([...line].length).toBeLessThanOrEqual(100);
    // greedy: every row produced the baseline's text, said once under the table, not per row
    expect(r.stdout).toContain("Output Text Sample: every row's is the baseline output above.");
    const baselineOutput = r.stdout.split('\n').find((l) => l.startsWith('Baseline output: '))!;
    const generated = baselineOutput.slice(baselineOutput.length - 20);
    expect(r.stdout.split(generated)).toHaveLength(2);
    expect(table.join('\n')).not.toContain('Output Text Sample');
  });

  it('--wide prints every column', async () => {
    /** the header's words (cli-table3 wraps a long header over several lines) */
    const headWords = (stdout: string): string[] => {
      const table = tableLines(stdout);
      const end = table.findIndex((l, i) => i > 0 && l.startsWith('├'));
      return table
        .slice(1, end)
        .join(' ')
        .split(/[\s│]+/);
    };
    const wide = await specdec(['sweep', ...small, '--wide']);
    expect(wide.code).toBe(0);
    const words = headWords(wide.stdout);
    for (const word of ['Time', 'Target', 'Avg', 'Draft', 'Acceptance', 'Speedup', 'Identical'])
      expect(words).toContain(word);
    // Time spread (s) and Speedup spread, beside their medians
    expect(words.filter((w) => w === 'spread')).toHaveLength(2);
    expect(Math.max(...tableLines(wide.stdout).map((l) => [...l].length))).toBeGreaterThan(100);
    // the default leaves Draft Passes to --wide and puts each spread under its median
    const narrow = await specdec(['sweep', ...small]);
    expect(headWords(narrow.stdout)).not.toContain('Draft');
    expect(headWords(narrow.stdout)).not.toContain('spread');
  });

  it('marks the rows whose sample differs (sampling) and --wide prints each one', async () => {
    const sampled = [...small, '--temperature', '1.5', '--seed', '3'];
    const r = await specdec(['sweep', ...sampled]);
    expect(r.code).toBe(0);
    for (const line of tableLines(r.stdout)) expect([...line].length).toBeLessThanOrEqual(100);
    expect(r.stdout).toMatch(/ \* +│/);
    expect(r.stdout).toContain("* this row's output text sample differs from the baseline's");
    const wide = await specdec(['sweep', ...sampled, '--wide']);
    expect(wide.code).toBe(0);
    expect(
      tableLines(wide.stdout)
        .join(' ')
        .replace(/[\s│]+/g, ' '),
    ).toContain('Output Text Sample');
  });
});

describe('--summary-csv', () => {
  it("writes the exercise's table: one row per configuration, from the summary", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'specdec-summary-'));
    const file = join(dir, 'nested', 'table.csv');
    const r = await specdec(['sweep', ...small, '--no-kv-cache', '--json', '--summary-csv', file]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { runs: RunRow[] };
    const text = readFileSync(file, 'utf8');
    expect(text).toBe(summaryCsv(doc.runs));
    const rows = parse(text, { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0]!)).toEqual([...SUMMARY_CSV_COLUMNS]);
    const summary = summarizeRows(doc.runs);
    // baseline, baseline without cache, K=1, K=2, K=3
    expect(rows.map((x) => `${x.Mode}:${x.K}`)).toEqual([
      'baseline:',
      'baseline-no-cache:',
      'speculative:1',
      'speculative:2',
      'speculative:3',
    ]);
    rows.forEach((row, i) => {
      const s = summary[i]!;
      expect(Number(row['Time Median (s)'])).toBe(s.timeS.median);
      expect(Number(row['Time Min (s)'])).toBe(s.timeS.min);
      expect(Number(row['Time Max (s)'])).toBe(s.timeS.max);
      expect(Number(row['Target Passes'])).toBe(s.targetPasses.median);
      expect(row.Runs).toBe('3');
      expect(row.Identical).toBe('yes');
      expect(row['Output Text Sample']).toBe(s.outputSample);
    });
    expect(rows[2]!.Policy).toBe('fixed');
    expect(rows[2]!.Drafter).toBe('model');
  });

  it('is checked writable before anything runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'specdec-summary-'));
    const notAFolder = join(dir, 'file');
    writeFileSync(notAFolder, '');
    const r = await specdec(['sweep', ...small, '--summary-csv', join(notAFolder, 'table.csv')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^specdec: error: --summary-csv .*table\.csv: cannot write there/);
  });
});
