/**
 * A real sweep over two acceptance targets answers "which K at which alpha" the same way on every
 * surface: the CLI's sentences are the report's, each names the grid's best K (the heat map's
 * marked cell and the best-K table's row), the JSON carries the grid, and the report says where
 * the time goes for every configuration. Structure only: which K wins is the machine's business.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AcceptanceGrid } from '../../src/results/acceptanceGrid';
import type { RunRow } from '../../src/shared/protocol';
import { PAIR_DRAFT, PAIR_TARGET, specdec } from '../support/helpers';

const sweep = [
  'sweep',
  // the embedded pair: its draft is cheap enough that the best K differs between the alphas
  '--target',
  PAIR_TARGET,
  '--draft',
  PAIR_DRAFT,
  '--k',
  '1,4',
  '--max-new-tokens',
  '40',
  '--repeats',
  '3',
  '--acceptance',
  '0.5,0.9',
];

/** the Markdown table whose caption starts with `caption`: its header and rows, as cells */
function tableAfter(markdown: string, caption: string): string[][] {
  const start = markdown.indexOf(`*${caption}`);
  expect(start).toBeGreaterThanOrEqual(0);
  const lines = markdown.slice(start).split('\n').slice(2);
  const rows: string[][] = [];
  for (const line of lines) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim()),
    );
  }
  return [rows[0]!, ...rows.slice(2)];
}

/** "K=3" of a per-alpha sentence: the best K it names */
const sentenceK = (sentence: string): number =>
  Number(/, (?:the fastest, )?K=(\d+) \(/.exec(sentence)![1]);

describe('which K at which alpha', () => {
  it('the CLI prints the report’s sentences; each names the grid’s best K; time split per configuration', async () => {
    const report = join(mkdtempSync(join(tmpdir(), 'specdec-')), 'report.md');
    const r = await specdec([...sweep, '--report', report]);
    expect(r.code).toBe(0);
    const md = readFileSync(report, 'utf8');

    // the CLI: a heading, one sentence per alpha in order, then where the pair sits
    const lines = r.stdout.split('\n');
    const at = lines.indexOf('Which K at which alpha:');
    expect(at).toBeGreaterThan(0);
    const cliSentences = lines.slice(at + 1, at + 3).map((l) => l.trim());
    expect(cliSentences[0]).toMatch(/^At alpha 0\.5 on this machine, /);
    expect(cliSentences[1]).toMatch(/^At alpha 0\.9 on this machine, /);
    // no real-drafting run: the oracle's count of the draft model's own tokens places the pair
    const pairLine = lines[at + 3]!.trim();
    expect(pairLine).toMatch(
      /^Your pair sits at alpha 0\.\d\d \(the draft model's own tokens against the target's, behind the oracle in its 12 runs\), nearest the swept alpha 0\.[59]/,
    );

    // the report: the same sentences, word for word (Markdown escapes none of their characters)
    const section = md.slice(md.indexOf('## Which K at which alpha'), md.indexOf('## 1. '));
    expect(section.length).toBeGreaterThan(0);
    for (const s of cliSentences) expect(section).toContain(`- **${s}**`);
    expect(section).toContain(pairLine);

    // each sentence's K is the heat map's marked cell and the best-K table's
    const heat = tableAfter(md, 'Measured speedup over the baseline');
    expect(heat[0]).toEqual(['alpha', 'K=1', 'K=4']);
    const best = tableAfter(md, 'Best K per alpha');
    cliSentences.forEach((s, i) => {
      const k = sentenceK(s);
      const row = heat[i + 1]!;
      // the swept alpha nearest the pair's own carries the marker
      expect(row[0]!.replace(/ \(your pair sits here: 0\.\d\d\)$/, '')).toBe(['0.5', '0.9'][i]);
      const marked = row
        .slice(1)
        .flatMap((c, j) => (/\((best|fastest, not a win)\)/.test(c) ? [j + 1] : []));
      expect(marked.map((j) => [1, 4][j - 1])).toEqual([k]);
      // the cells marked tied are the Ks the table names within noise
      const tied = row.slice(1).flatMap((c, j) => (c.endsWith('(tied)') ? [`K=${[1, 4][j]}`] : []));
      expect(tied.join(' and ') || '-').toBe(best[i + 1]![3]);
      expect(best[i + 1]![1]).toBe(String(k));
      // "no K beat the baseline" exactly where the table says it did not
      expect(best[i + 1]![4] === 'yes').toBe(!s.includes('no K beat the baseline'));
    });
    // the theory beside it: the pair's costs are measured after a finished sweep
    expect(md).toContain('*Predicted by the measured-cost theory');

    // where the time goes: every configuration, its parts adding up to its time
    const split = tableAfter(md, 'Time split per configuration');
    expect(split.slice(1).map((row) => row[0])).toEqual([
      'Baseline',
      'K=1 alpha 0.5',
      'K=4 alpha 0.5',
      'K=1 alpha 0.9',
      'K=4 alpha 0.9',
    ]);
    for (const row of split.slice(1)) {
      const [time, draft, target, other] = row.slice(1, 5).map(Number);
      expect(Math.abs(draft! + target! + other! - time!)).toBeLessThanOrEqual(
        0.02 * time! + 0.0015,
      );
    }
    expect(md).toMatch(/the three sum to the run's time within 2%/);
  });

  it('--json carries the grid the sentences are written from', async () => {
    const r = await specdec([...sweep, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { acceptanceGrid: AcceptanceGrid };
    const grid = doc.acceptanceGrid;
    expect(grid.alphas).toEqual([0.5, 0.9]);
    expect(grid.ks).toEqual([1, 4]);
    // every controlled run counted the draft model's own agreement: the pair is placed by it
    const runs = (doc as unknown as { runs: RunRow[] }).runs.filter(
      (x) => x.acceptanceTarget != null,
    );
    const positions = runs.reduce((n, x) => n + x.draftModelAgreement!.positions, 0);
    const agreed = runs.reduce((n, x) => n + x.draftModelAgreement!.agreed, 0);
    expect(grid.pair).toMatchObject({ source: 'draft-model-agreement', runs: runs.length });
    expect(grid.pair!.alpha).toBeCloseTo(agreed / positions, 12);
    expect(grid.costs?.c).toBeGreaterThan(0);
    grid.bestPerAlpha.forEach((b, i) => {
      const marked = grid.cells[i]!.filter((c) => c.isBest).map((c) => c.k);
      expect(marked).toEqual([b.bestK]);
      expect(sentenceK(b.sentence)).toBe(b.bestK);
      for (const c of grid.cells[i]!) {
        expect(c.alpha).toBe(b.alpha);
        expect(c.runs).toBe(3);
        expect(c.predicted).toBeGreaterThan(0);
        expect(c.ratio).toBeCloseTo(c.speedup! / c.predicted!, 12);
        expect(c.withinNoise).toBe(b.tiedKs.includes(c.k));
      }
    });
  });
});
