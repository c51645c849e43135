/** `specdec sweep --report FILE`: the Markdown analysis and its SVG charts, on the micro fixtures. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { markdownText } from '../../src/results/analysis/markdown';
import { bestOf, bestSentence, type SummaryRow } from '../../src/results/summary';
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
      best: { k: number; beatBaseline: boolean };
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

    // the verdict the Markdown tells is the JSON's (bestOf over the same summary), in its words
    const best = bestOf(doc.summary)!;
    expect(best).not.toBeNull();
    expect(doc.best.k).toBe(best.row.k);
    expect(doc.best.beatBaseline).toBe(best.beatBaseline);
    expect(md).toContain(`Best: ${markdownText(bestSentence(best, false))}`);
    if (best.beatBaseline) {
      expect(md).toContain(`**The fastest K was K=${best.row.k} at`);
      expect(md).toContain(`**The best configuration, K=${best.row.k}, needed`);
    } else {
      expect(md).toContain(`**No K beat the baseline: the fastest, K=${best.row.k} at`);
      expect(md).toContain(`**No configuration beat the baseline: the fastest, K=${best.row.k},`);
    }
    const baseline = doc.summary.find((r) => r.mode === 'baseline')!;
    expect(md).toContain(`| Baseline | 1 | ${baseline.timeS.median.toFixed(3)} |`);
    // the exercise's table has its Output text sample
    expect(md).toMatch(/\| Identical \| Output text sample \|/);
    if (doc.theory)
      expect(md).toMatch(
        new RegExp(
          `Leviathan's formula predicts (K=\\d+, )*(K=\\d+ and )?K=${doc.theory.bestK}( and K=\\d+)? as best`,
        ),
      );

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
