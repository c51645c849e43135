/** `specdec sweep --report FILE`: the Markdown analysis and its SVG charts, on the micro fixtures. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bestRow, type SummaryRow } from '../../src/results/summary';
import { MICRO_A, MICRO_B, specdec } from '../support/helpers';

/** Every tag closed in order: a small well-formedness check without an XML parser. */
function balancedTags(xml: string): boolean {
  const stack: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, close, name, selfClose] = m;
    if (selfClose) continue;
    if (close) {
      if (stack.pop() !== name) return false;
    } else stack.push(name!);
  }
  return stack.length === 0;
}

describe('specdec sweep --report', () => {
  it('writes the five answers as Markdown, with SVG charts beside it linked by relative paths', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'specdec-report-'));
    const report = join(dir, 'analysis.md');
    const { code, stdout, stderr } = await specdec([
      'sweep',
      '--target',
      MICRO_A,
      '--draft',
      MICRO_B,
      '--repeats',
      '1',
      '--k',
      '1,2,3',
      '--max-new-tokens',
      '12',
      '--ep',
      'cpu',
      '--json',
      '--report',
      report,
    ]);
    expect(code).toBe(0);
    // --json still prints one JSON document and nothing else on stdout
    const doc = JSON.parse(stdout) as {
      summary: SummaryRow[];
      theory: { bestK: number } | null;
      runs: Array<{ mode: string; k: number | null }>;
    };
    expect(stderr).toContain(`Report: ${report}`);
    const md = readFileSync(report, 'utf8');

    const headings = md.split('\n').filter((l) => /^## \d\. /.test(l));
    expect(headings).toEqual([
      '## 1. Impact of K on target model passes',
      '## 2. Impact of K on wall-clock time',
      '## 3. Impact of K on average accepted tokens',
      '## 4. Trade-offs of K',
      '## 5. Comparison to baseline',
    ]);
    expect(md).toContain('| Configuration | Runs | Time (s) |');

    // the best K the Markdown names is the best row of the same run's JSON summary
    const best = bestRow(doc.summary)!;
    expect(best).not.toBeNull();
    expect(md).toContain(`**The fastest K was K=${best.k} at`);
    expect(md).toContain(`**The best configuration, K=${best.k}, needed`);
    const baseline = doc.summary.find((r) => r.mode === 'baseline')!;
    expect(md).toContain(`| Baseline | 1 | ${baseline.timeS.median.toFixed(3)} |`);
    if (doc.theory)
      expect(md).toContain(`Leviathan's formula predicts K=${doc.theory.bestK} as best`);

    for (const chart of ['time', 'passes', 'acceptance']) {
      const file = join(dir, `analysis-${chart}.svg`);
      expect(existsSync(file), file).toBe(true);
      const svg = readFileSync(file, 'utf8');
      expect(svg.startsWith('<svg ')).toBe(true);
      expect(svg).toMatch(/<polyline points="[\d.]+,[\d.]+( [\d.]+,[\d.]+){2,}"/);
      expect(svg).not.toContain('NaN');
      expect(balancedTags(svg)).toBe(true);
      expect(md).toContain(`](analysis-${chart}.svg)`);
    }
  });
});
