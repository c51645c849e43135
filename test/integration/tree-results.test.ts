/**
 * Token trees' results end to end on the embedded pair: a sweep's runs CSV and summary CSV name
 * each tree, its JSON runs carry acceptance by draft rank that agrees with their counts, its
 * report compares trees with chains; and `specdec bench --tree` prints the pass cost against the
 * nodes (under the mask and as rows) and the verdict.
 */
import { parse } from 'csv-parse/sync';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunRow } from '../../src/shared/protocol';
import { PAIR_DRAFT, PAIR_TARGET, specdec } from '../support/helpers';

const embedded = ['--target', PAIR_TARGET, '--draft', PAIR_DRAFT, '--ep', 'cpu'];

describe('token trees in the outputs', () => {
  it('CSVs, JSON ranks and the report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tree-results-'));
    const [csv, summary, report] = ['runs.csv', 'summary.csv', 'report.md'].map((f) =>
      join(dir, f),
    );
    const r = await specdec([
      ...['sweep', ...embedded, '--k', '1,3', '--max-new-tokens', '30', '--repeats', '1'],
      ...['--warmup', '0', '--tree', '3,2,1', '--json'],
      ...['--csv', csv!, '--summary-csv', summary!, '--report', report!],
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { runs: RunRow[] };
    const tree = doc.runs.find((run) => run.tree)!;
    const ranks = tree.tree!.ranks!;
    // every accepted node was accepted at some rank; rank 1 is tested at every position reached
    expect(ranks.accepted.reduce((a, b) => a + b, 0)).toBe(tree.acceptedTokens);
    expect(ranks.tested[0]).toBeGreaterThanOrEqual(tree.verificationSteps);
    expect(ranks.tested.length).toBeLessThanOrEqual(3);

    const runs = parse(readFileSync(csv!, 'utf8'), { columns: true }) as Array<
      Record<string, string>
    >;
    const treeRow = runs.find((row) => row.treeShape === '3,2,1')!;
    expect(treeRow.treeVerify).toBe('mask');
    expect(treeRow.rankAccepted).toBe(ranks.accepted.join(' '));
    expect(runs.filter((row) => row.treeShape === '')).toHaveLength(3);

    const table = parse(readFileSync(summary!, 'utf8'), { columns: true }) as Array<
      Record<string, string>
    >;
    expect(table.map((row) => `${row.K}:${row['Tree Shape']}`)).toEqual([
      ':',
      '1:',
      '3:',
      '3:3,2,1',
    ]);

    const md = readFileSync(report!, 'utf8');
    expect(md).toContain('## Token trees against chains');
    expect(md).toMatch(/\| tree 3,2,1 \| tree in one pass \|/);
    expect(md).toMatch(/Acceptance by draft rank/);
  });

  it('bench --tree: the pass cost against the nodes, both ways, and the verdict', async () => {
    const r = await specdec([
      ...['bench', '--target', PAIR_TARGET, '--draft', PAIR_DRAFT],
      ...['--tree', '2', '--k', '1', '--repeats', '1', '--max-new-tokens', '12'],
    ]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/mask: run ms .* rows: run ms/);
    // the ladder from one node to 62, the asked shape among them
    expect(r.stdout).toMatch(/│ 2,2,2,2,2 +│ 62 +│ 32 +│/);
    expect(r.stdout).toMatch(/│ tree 2 +│ tree in one pass +│/);
    expect(r.stdout).toMatch(/│ tree 2 rows +│ as 2 rows +│/);
    expect(r.stdout).toMatch(/^verdict: .*(tree|chain)/m);
  });
});
