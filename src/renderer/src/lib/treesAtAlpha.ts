/**
 * The rows of the heat map's "Token trees at each alpha" table: src/results/treeAcceptance.ts'
 * trees per alpha (through sweepAcceptanceGrid) laid out a tree a row, high alpha first as the
 * map draws it, with each alpha's fastest chain and verdict once. Only words and layout here.
 */
import type { TreeAtAlpha, TreesAtAlpha } from '../../../results/treeAcceptance';
import { fixed, times } from '../../../shared/format';
import { treeShapeText } from '../../../shared/treeShape';

export interface TreeAlphaRow {
  alpha: number;
  /** the first tree at its alpha: the alpha, fastest chain and verdict cells start here */
  first: boolean;
  /** trees at this alpha (the rowspan of its shared cells) */
  span: number;
  /** "tree 3,2,1" ("tree 3,2,1 rows" when verified as rows): the alpha is the row's */
  tree: string;
  /** the summary's label, "tree 3,2,1 alpha 0.8" */
  label: string;
  measuredTokens: number | null;
  predictedTokens: number;
  ratio: number | null;
  speedup: number | null;
  /** "2,1 (2.71)": the best shape `--tree` can type with as many nodes, at p_r = A */
  bestShape: string;
  /** "K=2 (1.31x)", or "none" when no chain ran at this alpha */
  fastestChain: string;
  /** the fastest chain's K, null when none ran */
  fastestChainK: number | null;
  /** the fastest tree against the fastest chain, in a few words */
  verdict: string;
  treeWins: boolean | null;
  /** the row's tooltip: the ranks drawn, Sequoia's best static tree, the runs behind it */
  title: string;
}

/** the fastest tree against the fastest chain at one alpha, as the table's cell says it */
function verdictWords(at: TreesAtAlpha): string {
  if (!at.fastestChain) return 'no chain ran';
  if (at.treeWins === true) return `${at.fastestTree?.label.replace(/ alpha .*$/, '')} beat it`;
  if (at.treeWins === false) return 'no tree beat it';
  return 'too few runs to tell';
}

function titleOf(t: TreeAtAlpha): string {
  const drawn =
    t.rankAcceptance.length > 0
      ? `acceptance by draft rank drawn: ${t.rankAcceptance
          .map((p, r) => `p_${r + 1} ${fixed(p, 2)} (${t.rankTested[r]} tested)`)
          .join(', ')}`
      : 'no rank tested';
  const best = `Sequoia's best static tree of ${t.nodes} nodes at p_r = ${t.alpha}: nodes per depth ${t.bestStatic.nodesPerDepth.join(', ')}, ${fixed(t.bestStatic.expected, 2)} tokens per pass`;
  return `${t.label}: ${t.runs} run${t.runs === 1 ? '' : 's'}; ${drawn}; ${best}`;
}

/** a row per tree, alphas descending (high alpha on top, as the map); trees in the grid's order */
export function treeAlphaRows(trees: readonly TreesAtAlpha[]): TreeAlphaRow[] {
  return [...trees].reverse().flatMap((at) =>
    at.trees.map((t, i): TreeAlphaRow => ({
      alpha: at.alpha,
      first: i === 0,
      span: at.trees.length,
      tree: `tree ${treeShapeText(t.shape)}${t.verify === 'rows' ? ' rows' : ''}`,
      label: t.label,
      measuredTokens: t.measuredTokens,
      predictedTokens: t.predictedTokens,
      ratio: t.ratio,
      speedup: t.speedup,
      bestShape: t.bestShape
        ? `${treeShapeText(t.bestShape.shape)} (${fixed(t.bestShape.expected, 2)})`
        : '-',
      fastestChain: at.fastestChain
        ? `K=${at.fastestChain.k} (${times(at.fastestChain.speedup)})`
        : 'none',
      fastestChainK: at.fastestChain?.k ?? null,
      verdict: verdictWords(at),
      treeWins: at.treeWins,
      title: titleOf(t),
    })),
  );
}
