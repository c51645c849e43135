/**
 * Token trees in a sweep's results: the runs CSV and the summary CSV name the tree (a tree row
 * never reads as another K), the report's K questions ignore trees, and "Token trees against
 * chains" compares them with the chains, says which way they were verified, whether a tree paid,
 * and sets the measured tokens per verification beside the theory from acceptance by rank.
 */
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { analysisMarkdown, analyzeSweep, type AnalysisInput } from '../../src/results/analysis';
import { RUN_CSV_COLUMNS, runsCsv } from '../../src/results/runsCsv';
import { summaryCsv, SUMMARY_CSV_COLUMNS } from '../../src/results/summaryCsv';
import { expectedTokensOfShape } from '../../src/results/treeTheory';
import type { RunRow } from '../../src/shared/protocol';
import { runRow } from '../support/helpers';

const ranks = { tested: [20, 12, 6], accepted: [8, 6, 2] };

/** three repeats of a baseline, chains K=1..3 and tree 3,2,1 each way; times per repeat */
function sweep(times: { tree: number[]; rows: number[]; chain3: number[] }): RunRow[] {
  const rows: RunRow[] = [];
  for (let repeat = 0; repeat < 3; repeat++) {
    const at = (timeS: number, p: Partial<RunRow>): RunRow =>
      runRow({ repeat, timeS, speedup: 1 / timeS, policy: 'fixed', drafter: 'model', ...p });
    rows.push(at(1, { mode: 'baseline', k: null, policy: null, drafter: null, speedup: null }));
    rows.push(at(0.9, { k: 1, acceptanceRate: 0.4, meanAcceptanceLength: 1.4 }));
    rows.push(at(0.85, { k: 2, meanAcceptanceLength: 1.56 }));
    rows.push(at(times.chain3[repeat]!, { k: 3, targetPasses: 30, meanAcceptanceLength: 1.62 }));
    const tree = (verify: 'mask' | 'rows', timeS: number): RunRow =>
      at(timeS, {
        k: 3,
        targetPasses: 22,
        meanAcceptanceLength: 2.1,
        tree: { shape: [3, 2, 1], verify, nodesPerStep: [15, 15, 0], ranks },
      });
    rows.push(tree('mask', times.tree[repeat]!), tree('rows', times.rows[repeat]!));
  }
  return rows;
}

function input(rows: RunRow[]): AnalysisInput {
  return {
    rows,
    theory: null,
    prompts: ['p'],
    models: { target: 't', draft: 'd' },
    settings: {
      maxNewTokens: 10,
      ks: [1, 2, 3],
      repeats: 3,
      policies: ['fixed'],
      drafters: ['model'],
      sampling: null,
    },
    status: 'finished',
  };
}

const paid = { tree: [0.6, 0.62, 0.61], rows: [0.9, 0.95, 0.92], chain3: [0.8, 0.8, 0.81] };

describe('the CSVs name the tree', () => {
  const rows = sweep(paid);
  const csvContext = {
    prompts: ['p'],
    models: { target: 't', draft: 'd' },
    dtypes: { target: 'fp32', draft: 'fp32' },
    sampling: null,
    repetition: null,
  };

  it('runs CSV: shape, budget, verify, nodes per step and the rank counts; empty on chains', () => {
    for (const col of ['treeShape', 'treeBudget', 'treeVerify', 'nodesPerStep'])
      expect(RUN_CSV_COLUMNS).toContain(col);
    const records = parse(runsCsv(rows, csvContext), { columns: true }) as Array<
      Record<string, string>
    >;
    const tree = records.find((r) => r.treeVerify === 'rows')!;
    expect(tree).toMatchObject({
      k: '3',
      treeShape: '3,2,1',
      treeBudget: '',
      nodesPerStep: '15 15 0',
      rankTested: '20 12 6',
      rankAccepted: '8 6 2',
    });
    const chain = records.find((r) => r.k === '3' && r.treeVerify === '')!;
    expect(chain).toMatchObject({ treeShape: '', nodesPerStep: '', rankTested: '' });
  });

  it('summary CSV: the tree columns after Drafter only in a sweep with trees', () => {
    const records = parse(summaryCsv(rows), { columns: true }) as Array<Record<string, string>>;
    const [header] = summaryCsv(rows).split('\n');
    expect(header!.split(',').slice(0, 8)).toEqual([
      'Mode',
      'K',
      'Policy',
      'Drafter',
      'Tree Shape',
      'Tree Budget',
      'Tree Verify',
      'Nodes per Step',
    ]);
    expect(
      records.filter((r) => r.K === '3').map((r) => [r['Tree Shape'], r['Tree Verify']]),
    ).toEqual([
      ['', ''],
      ['3,2,1', 'mask'],
      ['3,2,1', 'rows'],
    ]);
    // the median over the runs of each run's mean over the steps that drafted
    expect(records.find((r) => r['Tree Verify'] === 'mask')!['Nodes per Step']).toBe('15');
    const chainsOnly = rows.filter((r) => !r.tree);
    expect(summaryCsv(chainsOnly).split('\n')[0]).toBe(SUMMARY_CSV_COLUMNS.join(','));
  });
});

describe('the report with trees', () => {
  it('the K questions are the chains: a tree is no K point', () => {
    const a = analyzeSweep(input(sweep(paid)));
    expect(a.series.map((p) => p.k)).toEqual([1, 2, 3]);
    expect(a.measuredBestK).toBe(3);
  });

  it('trees against chains: the table, the ways, the verdict, the theory', () => {
    const a = analyzeSweep(input(sweep(paid)));
    const t = a.trees!;
    expect(t.title).toBe('Token trees against chains');
    expect(t.answers[0]).toMatch(
      /^Yes, the tree paid on this machine: tree 3,2,1 \(1\.64x the baseline\) was faster than the fastest chain, K=3 \(1\.25x the baseline\), beyond noise over 3 runs paired/,
    );
    const [compared, byRank, sequoia] = t.tables;
    const mask = compared!.rows.find((r) => r[0] === 'tree 3,2,1')!;
    const rows = compared!.rows.find((r) => r[0] === 'tree 3,2,1 rows')!;
    expect(mask[1]).toBe('tree in one pass');
    expect(rows[1]).toBe('as 6 rows');
    expect(mask[5]).toBe('15.0');
    expect(mask[9]).toBe('best');
    // p = 8/20, 6/12, 2/6
    const expected = expectedTokensOfShape([3, 2, 1], [0.4, 0.5, 1 / 3]);
    expect(mask[7]).toBe(expected.toFixed(2));
    expect(mask[8]).toBe((2.1 / expected).toFixed(2));
    expect(byRank!.rows.map((r) => r[3])).toEqual(['0.400', '0.500', '0.333']);
    expect(sequoia!.rows[0]![0]).toBe('15');
    expect(t.points.join(' ')).toMatch(
      /tree 3,2,1 took 0\.61\d s under the mask and 0\.92\d s as rows/,
    );
    expect(t.points.join(' ')).toMatch(
      /took 22 target passes where the chain of its depth, K=3, took 30/,
    );
    const md = analysisMarkdown(a);
    expect(md).toContain('## Token trees against chains');
  });

  it('says when the chain won, and when neither did beyond noise', () => {
    const lost = analyzeSweep(
      input(sweep({ tree: [0.9, 0.92, 0.91], rows: [0.95, 0.96, 0.97], chain3: [0.8, 0.8, 0.81] })),
    );
    expect(lost.trees!.answers[0]).toMatch(
      /^No, the tree did not pay on this machine: the fastest chain, K=3/,
    );
    const close = analyzeSweep(
      input(sweep({ tree: [0.8, 0.82, 0.79], rows: [0.95, 0.96, 0.97], chain3: [0.81, 0.8, 0.8] })),
    );
    expect(close.trees!.answers[0]).toMatch(/^Not beyond noise: the fastest tree/);
  });

  it('no section without trees', () => {
    const a = analyzeSweep(input(sweep(paid).filter((r) => !r.tree)));
    expect(a.trees).toBeNull();
  });
});
