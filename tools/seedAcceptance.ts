/**
 * `npm run bench:seed -- --acceptance 0.5,0.6,0.7,0.8,0.9`: the K x alpha picture of the seed pair
 * at real size. Random-weight stand-ins accept nothing on their own, so acceptance is controlled
 * (the oracle drafter, issue 34) while every pass is real; the sweep's own acceptanceGrid (one
 * object, src/results/acceptanceGrid.ts) is printed as the heat map and the best K per alpha.
 */
import type { AcceptanceGrid } from '../src/results/acceptanceGrid';

const f2 = (v: number | null): string => (v === null ? '-' : v.toFixed(2));

/** Markdown tables (pasted into docs/benchmarks.md as they are): measured, predicted, the verdicts. */
export function acceptanceTables(grid: AcceptanceGrid): string {
  const head = (label: string): string[] => [
    `| ${label} | ${grid.ks.map((k) => `K=${k}`).join(' | ')} |`,
    `| --- | ${grid.ks.map(() => '---:').join(' | ')} |`,
  ];
  const heat = (label: string, pick: (i: number, j: number) => string): string[] => [
    ...head(label),
    ...grid.alphas.map(
      (a, i) => `| alpha ${a} | ${grid.ks.map((_, j) => pick(i, j)).join(' | ')} |`,
    ),
  ];
  const measured = heat('measured speedup', (i, j) => {
    const c = grid.cells[i]![j]!;
    const mark = c.isBest ? ' **best**' : c.withinNoise ? ' (tie)' : '';
    return `${f2(c.speedup)}x${mark}`;
  });
  const predicted = heat(
    'predicted (measured cost)',
    (i, j) => `${f2(grid.cells[i]![j]!.predicted)}x`,
  );
  const best = [
    '| alpha | measured best K | speedup | within noise | predicted best K | predicted at measured best | measured / predicted |',
    '| --- | --- | ---: | --- | --- | ---: | ---: |',
    ...grid.bestPerAlpha.map(
      (b) =>
        `| ${b.alpha} | ${b.bestK === null ? '-' : `K=${b.bestK}`}${b.beatBaseline ? '' : ' (did not beat the baseline)'} | ${f2(b.speedup)}x | ${b.tiedKs.length ? b.tiedKs.map((k) => `K=${k}`).join(', ') : '-'} | ${b.predictedBestK === null ? '-' : `K=${b.predictedBestK} (${f2(b.predictedBestSpeedup)}x)`} | ${f2(b.predicted)}x | ${f2(b.ratio)} |`,
    ),
  ];
  const ratios = grid.cells.flat().flatMap((c) => (c.ratio === null ? [] : [c.ratio]));
  const sorted = [...ratios].sort((a, b) => a - b);
  const spread = sorted.length
    ? `measured / predicted over all ${sorted.length} cells: min ${f2(sorted[0]!)}, median ${f2(sorted[Math.floor(sorted.length / 2)]!)}, max ${f2(sorted.at(-1)!)}`
    : 'no cell has a prediction (the sweep measured no costs)';
  return [
    measured.join('\n'),
    predicted.join('\n'),
    best.join('\n'),
    grid.bestPerAlpha.map((b) => b.sentence).join('\n'),
    spread,
  ].join('\n\n');
}
