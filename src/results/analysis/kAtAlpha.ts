/**
 * "Which K at which alpha": a controlled-acceptance sweep's answer (issue 34), written from the
 * K x alpha grid (acceptanceGrid.ts): one sentence per alpha, the measured heat map and the
 * theory's beside it, the best K per alpha against the prediction, and where the pair sits.
 */
import { fixed, times } from '../../shared/format';
import {
  PAIR_NOT_MEASURED,
  type AcceptanceGrid,
  type AcceptanceGridCell,
  type AlphaBest,
} from '../acceptanceGrid';
import type { AnalysisExtra, AnalysisTable, SweepOutcome } from './types';
import { kLabel, list } from './words';

/** the row label of an alpha: the pair's own alpha is marked on the swept alpha nearest it */
function alphaCell(grid: AcceptanceGrid, alpha: number): string {
  const pair = grid.pair;
  return pair && pair.nearestAlpha === alpha
    ? `${alpha} (your pair sits here: ${fixed(pair.alpha, 2)})`
    : String(alpha);
}

/** "1.90x (best)", "1.85x (tied)", "0.97x (fastest)": the verdict's marks on a measured cell */
function measuredCell(cell: AcceptanceGridCell, best: AlphaBest): string {
  if (cell.speedup === null) return '-';
  const mark = cell.isBest
    ? best.beatBaseline
      ? ' (best)'
      : ' (fastest, not a win)'
    : cell.withinNoise
      ? ' (tied)'
      : '';
  return `${times(cell.speedup)}${mark}`;
}

function heatMaps(grid: AcceptanceGrid): AnalysisTable[] {
  const head = ['alpha', ...grid.ks.map(kLabel)];
  const measured: AnalysisTable = {
    caption:
      'Measured speedup over the baseline (median), by alpha and K: best = the verdict’s best K at that alpha, tied = not beaten by it run for run (within noise), not a win = no K beat the baseline there',
    head,
    rows: grid.alphas.map((alpha, i) => [
      alphaCell(grid, alpha),
      ...grid.cells[i]!.map((cell) => measuredCell(cell, grid.bestPerAlpha[i]!)),
    ]),
    textColumns: [],
  };
  if (grid.costs === null) return [measured];
  const predicted: AnalysisTable = {
    caption:
      'Predicted by the measured-cost theory, E[tokens per pass] x t_target(1) / (K t_draft(1) + t_target(K+1)), with this pair’s measured c and verification costs: best = the highest prediction',
    head,
    rows: grid.alphas.map((alpha, i) => [
      alphaCell(grid, alpha),
      ...grid.cells[i]!.map((cell) =>
        cell.predicted === null
          ? '-'
          : `${times(cell.predicted)}${grid.bestPerAlpha[i]!.predictedBestK === cell.k ? ' (best)' : ''}`,
      ),
    ]),
  };
  const ratio: AnalysisTable = {
    caption: 'Measured over predicted, by alpha and K (1.00 = the theory was exact)',
    head,
    rows: grid.alphas.map((alpha, i) => [
      alphaCell(grid, alpha),
      ...grid.cells[i]!.map((cell) => fixed(cell.ratio, 2)),
    ]),
  };
  return [measured, predicted, ratio];
}

function bestTable(grid: AcceptanceGrid): AnalysisTable {
  const theory = grid.costs !== null;
  return {
    caption: 'Best K per alpha (the verdict’s rule), beside the theory’s prediction',
    head: [
      'alpha',
      'Best K',
      'Measured speedup',
      'Within noise',
      'Beat the baseline',
      ...(theory
        ? ['Predicted at that K', 'Measured / predicted', 'Theory’s best K (predicted)']
        : []),
    ],
    textColumns: [3, 4],
    rows: grid.bestPerAlpha.map((b) => [
      alphaCell(grid, b.alpha),
      b.bestK === null ? '-' : String(b.bestK),
      times(b.speedup),
      b.tiedKs.length > 0 ? list(b.tiedKs.map(kLabel)) : '-',
      b.bestK === null
        ? '-'
        : b.beatBaseline
          ? 'yes'
          : b.noiseMeasured
            ? 'no'
            : 'no (noise unmeasured)',
      ...(theory
        ? [
            times(b.predicted),
            fixed(b.ratio, 2),
            b.predictedBestK === null
              ? '-'
              : `${b.predictedBestK} (${times(b.predictedBestSpeedup)})`,
          ]
        : []),
    ]),
  };
}

/** Where the theory agreed with the measurement: the ratio's range and the best Ks compared. */
function theoryPoints(grid: AcceptanceGrid): string[] {
  const ratios = grid.cells.flat().flatMap((c) => (c.ratio === null ? [] : [c.ratio]));
  if (ratios.length === 0) return [];
  const agree: string[] = [];
  const differ: string[] = [];
  for (const b of grid.bestPerAlpha) {
    if (b.bestK === null || b.predictedBestK === null) continue;
    if (b.predictedBestK === b.bestK || b.tiedKs.includes(b.predictedBestK))
      agree.push(`alpha ${b.alpha}`);
    else
      differ.push(
        `alpha ${b.alpha} (predicted ${kLabel(b.predictedBestK)}, measured ${kLabel(b.bestK)})`,
      );
  }
  const lo = Math.min(...ratios);
  const hi = Math.max(...ratios);
  const why =
    hi < 1
      ? ': every cell was slower than predicted (the theory counts the passes only, not the rest of a run: see Where the time goes)'
      : lo > 1
        ? ': every cell was faster than predicted'
        : '';
  const out = [
    `Measured over predicted ranged from ${fixed(lo, 2)} to ${fixed(hi, 2)} over ${ratios.length} cells${why}.`,
  ];
  if (agree.length > 0 || differ.length > 0)
    out.push(
      differ.length === 0
        ? `The theory's best K was the measured best, or within noise of it, at every alpha.`
        : `The theory's best K was the measured best or within noise of it at ${agree.length > 0 ? list(agree) : 'no alpha'}; not at ${list(differ)}.`,
    );
  return out;
}

/** the acceptance the oracle's runs drew at each alpha: accepted over drafts tested, over its Ks */
function drawnPoint(grid: AcceptanceGrid): string | null {
  const parts = grid.alphas.flatMap((alpha, i) => {
    const drawn = grid.cells[i]!.flatMap((c) =>
      c.measuredAlpha === null ? [] : [c.measuredAlpha],
    );
    if (drawn.length === 0) return [];
    const lo = Math.min(...drawn);
    const hi = Math.max(...drawn);
    return [`${fixed(lo, 2)}${hi !== lo ? `-${fixed(hi, 2)}` : ''} at alpha ${alpha}`];
  });
  return parts.length === 0
    ? null
    : `The runs drew the acceptance set: accepted over drafts tested was ${list(parts)} (over the Ks).`;
}

function pairPoint(grid: AcceptanceGrid): string {
  return grid.pair ? grid.pair.sentence : PAIR_NOT_MEASURED;
}

/** The section, null without acceptance targets. */
export function kAtAlphaSection(
  grid: AcceptanceGrid | null,
  status: SweepOutcome,
): AnalysisExtra | null {
  if (!grid) return null;
  const points = [pairPoint(grid), ...theoryPoints(grid)];
  const drawn = drawnPoint(grid);
  if (drawn) points.push(drawn);
  if (grid.trees.length > 0)
    points.push(
      `Token trees ran at ${list(grid.trees.map((t) => `alpha ${t.alpha}`))} too: "Token trees against chains" sets each beside Sequoia's model with p_r = alpha and against the chains.`,
    );
  if (grid.costs === null)
    points.push(
      `No theory beside the measurement: ${status === 'finished' ? 'the pair’s pass costs were not measured' : 'the pair’s pass costs are measured after a sweep finishes'}.`,
    );
  return {
    id: 'k-at-alpha',
    title: 'Which K at which alpha',
    question: `Which K should this pair use when the draft agrees with the target at rate alpha, on this machine (${grid.strategy})?`,
    answers: grid.bestPerAlpha.map((b) => b.sentence),
    points,
    tables: [...heatMaps(grid), bestTable(grid)],
  };
}
