/**
 * Token trees under controlled acceptance (`--tree` with `--acceptance`): at each alpha, each
 * tree's measured tokens per verification beside Sequoia's expectation with p_r = A at every rank
 * (the tree oracle's rule, src/shared/treeAcceptance.ts), the acceptance by rank its runs drew,
 * Sequoia's best static tree for its node count, and the fastest tree against the fastest chain.
 */
import { fixed, times } from '../shared/format';
import type { TreeVerifyMode } from '../shared/events';
import type { RunRow } from '../shared/protocol';
import { oracleRankAcceptance } from '../shared/treeAcceptance';
import { treeNodeCount, treeShapeText } from '../shared/treeShape';
import { REFERENCE_STRATEGY, strategyName } from './strategy';
import { groupRows, summarizeRows, variantLabel, type SummaryRow } from './summary';
import {
  bestShape,
  bestStaticTree,
  expectedTokensOfShape,
  rankAcceptance,
  sumRankCounts,
} from './treeTheory';
import { comparePaired, MIN_PAIRS } from './verdict';

/** One tree at one alpha: measured against Sequoia's model with p_r = A. */
export interface TreeAtAlpha {
  alpha: number;
  /** the configuration's summary key (summary.ts groupKey) */
  key: string;
  /** "tree 3,2,1 alpha 0.8" */
  label: string;
  shape: number[];
  verify: TreeVerifyMode;
  /** nodes of the full shape */
  nodes: number;
  /** runs behind it (repeats x prompts) */
  runs: number;
  /** median speedup over the baseline of the same repeat and prompt */
  speedup: number | null;
  /** tokens per verification (vLLM's mean acceptance length), the median over its runs */
  measuredTokens: number | null;
  /** Sequoia's expectation for the shape with p_r = A at every rank */
  predictedTokens: number;
  /** measured / predicted */
  ratio: number | null;
  /** acceptance by draft rank its runs drew: positions tested and accepted / tested per rank */
  rankTested: number[];
  rankAcceptance: number[];
  /** Sequoia's best static tree of the same node count at p_r = A: nodes per depth, expectation */
  bestStatic: { nodesPerDepth: number[]; expected: number };
  /** the best shape --tree can type within the same node count, at p_r = A */
  bestShape: { shape: number[]; expected: number } | null;
}

/** The trees at one alpha, the fastest against the fastest chain, in one sentence. */
export interface TreesAtAlpha {
  alpha: number;
  trees: TreeAtAlpha[];
  /** acceptance by draft rank over every tree at this alpha: accepted / tested per rank */
  drawnRankAcceptance: number[];
  /** the fastest tree's label and median speedup */
  fastestTree: { label: string; speedup: number | null } | null;
  /** the fastest chain at this alpha (the grid's drafter / policy) */
  fastestChain: { k: number; speedup: number | null } | null;
  /** the fastest tree beat the fastest chain run for run (null: too few pairs or no chain) */
  treeWins: boolean | null;
  /** "At alpha 0.8, tree 3,2,1 verified 2.95 tokens per pass (predicted 2.98) ...; ..." */
  sentence: string;
}

/** "tree 3,2,1", "tree 3,2,1 rows": the label without its alpha (the sentence names the alpha once) */
const plainLabel = (t: Pick<TreeAtAlpha, 'shape' | 'verify'>): string =>
  `tree ${treeShapeText(t.shape)}${t.verify === 'rows' ? ' rows' : ''}`;

/** "a, b and c" */
const listWords = (items: readonly string[]): string =>
  items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;

const speedOf = (r: SummaryRow): number => r.speedup?.median ?? 1 / r.timeS.median;

function fastest(rows: readonly SummaryRow[]): SummaryRow | null {
  return rows.reduce<SummaryRow | null>(
    (b, r) => (b === null || speedOf(r) > speedOf(b) ? r : b),
    null,
  );
}

function treeAt(alpha: number, r: SummaryRow, runs: readonly RunRow[]): TreeAtAlpha {
  const shape = r.tree!.shape!;
  const nodes = treeNodeCount(shape);
  const p = oracleRankAcceptance(alpha, nodes);
  const predictedTokens = expectedTokensOfShape(shape, p);
  const measuredTokens = r.meanAcceptanceLength?.median ?? null;
  const counts = sumRankCounts(runs.flatMap((run) => (run.tree?.ranks ? [run.tree.ranks] : [])));
  const best = bestStaticTree(nodes, p);
  const typed = bestShape(nodes, p);
  return {
    alpha,
    key: r.key,
    label: variantLabel(r, false),
    shape: [...shape],
    verify: r.tree!.verify,
    nodes,
    runs: r.repeats,
    speedup: r.speedup?.median ?? null,
    measuredTokens,
    predictedTokens,
    ratio: measuredTokens === null ? null : measuredTokens / predictedTokens,
    rankTested: counts.tested,
    rankAcceptance: rankAcceptance(counts),
    bestStatic: { nodesPerDepth: best.nodesPerDepth, expected: best.expected },
    bestShape: typed ? { shape: typed.shape, expected: typed.expected } : null,
  };
}

/** the verdict clause: the fastest tree against the fastest chain at one alpha */
function againstChain(
  tree: SummaryRow,
  chain: SummaryRow | null,
): { clause: string; treeWins: boolean | null } {
  const x = (r: SummaryRow, label: string): string => `${label} (${times(r.speedup?.median)})`;
  const treeText = x(tree, plainLabel({ shape: tree.tree!.shape!, verify: tree.tree!.verify }));
  if (!chain)
    return {
      clause: `the fastest tree was ${treeText}; no chain ran at this alpha`,
      treeWins: null,
    };
  const chainText = x(chain, `K=${chain.k}`);
  const treeWins = comparePaired(tree.times, chain.times);
  const chainWins = comparePaired(chain.times, tree.times);
  const over = `${treeWins.pairs} ${treeWins.pairs === 1 ? 'run' : 'runs'} paired`;
  if (treeWins.pairs < MIN_PAIRS) {
    const faster = speedOf(tree) > speedOf(chain);
    return {
      clause: `the fastest tree, ${treeText}, was ${faster ? 'faster' : 'not faster'} than the fastest chain, ${chainText}, from ${over}: too few to measure noise`,
      treeWins: null,
    };
  }
  if (treeWins.beats)
    return {
      clause: `the fastest tree, ${treeText}, beat the fastest chain, ${chainText}, beyond noise over ${over}`,
      treeWins: true,
    };
  if (chainWins.beats)
    return {
      clause: `the fastest chain, ${chainText}, beat the fastest tree, ${treeText}, beyond noise over ${over}`,
      treeWins: false,
    };
  return {
    clause: `the fastest tree, ${treeText}, and the fastest chain, ${chainText}, are within noise over ${over}`,
    treeWins: false,
  };
}

/**
 * The trees of a controlled-acceptance sweep at each alpha, ascending; empty without one.
 * `chainStrategy`: the drafter / policy the chains are compared at (the grid's), default model / fixed.
 */
export function treesUnderAcceptance(
  rows: readonly RunRow[],
  chainStrategy: string = REFERENCE_STRATEGY,
): TreesAtAlpha[] {
  const summary = summarizeRows(rows);
  const controlled = summary.filter((r) => r.mode === 'speculative' && r.acceptanceTarget !== null);
  const trees = controlled.filter((r) => r.tree?.shape);
  if (trees.length === 0) return [];
  const groups = groupRows(rows);
  const alphas = [...new Set(trees.map((r) => r.acceptanceTarget!))].sort((a, b) => a - b);
  return alphas.map((alpha): TreesAtAlpha => {
    const here = trees.filter((r) => r.acceptanceTarget === alpha);
    const chains = controlled.filter(
      (r) =>
        r.acceptanceTarget === alpha &&
        !r.tree &&
        r.k !== null &&
        strategyName(r) === chainStrategy,
    );
    const atAlpha = here.map((r) => treeAt(alpha, r, groups.get(r.key) ?? []));
    const bestTree = fastest(here)!;
    const bestChain = fastest(chains);
    const { clause, treeWins } = againstChain(bestTree, bestChain);
    const each = atAlpha.map(
      (t, i) =>
        `${plainLabel(t)} verified ${fixed(t.measuredTokens, 2)}${i === 0 ? ' tokens per pass' : ''} against ${fixed(t.predictedTokens, 2)} predicted`,
    );
    // the ranks every tree at this alpha drew, pooled
    const pooled = rankAcceptance(
      sumRankCounts(
        here.flatMap((r) =>
          (groups.get(r.key) ?? []).flatMap((run) => (run.tree?.ranks ? [run.tree.ranks] : [])),
        ),
      ),
    );
    const drawn =
      pooled.length > 0
        ? `; the runs drew p = ${pooled.map((p) => fixed(p, 2)).join(', ')} by rank`
        : '';
    return {
      alpha,
      trees: atAlpha,
      fastestTree: {
        label: variantLabel(bestTree, false),
        speedup: bestTree.speedup?.median ?? null,
      },
      fastestChain: bestChain
        ? { k: bestChain.k!, speedup: bestChain.speedup?.median ?? null }
        : null,
      treeWins,
      drawnRankAcceptance: pooled,
      sentence: `At alpha ${alpha} (Sequoia's model with p_r = ${alpha} at every rank${drawn}), ${listWords(each)}; ${clause}.`,
    };
  });
}

/** positions a rank of the pair's own draft must be read at to be used */
const MIN_RANK_POSITIONS = 20;

/** Where the pair's own draft sits on the trees' picture: its own p_r, measured behind the oracle. */
export interface TreePairPlacement {
  /** the draft model's own acceptance by rank where its context was the target's text */
  rankTested: number[];
  /** p_r, up to the last rank read at MIN_RANK_POSITIONS positions or more */
  rankAcceptance: number[];
  /** controlled tree runs it was pooled over */
  runs: number;
  /** each swept shape's expected tokens per verification at the pair's own p_r */
  shapes: Array<{ shape: number[]; expected: number }>;
  /** Sequoia's best static tree at the pair's own p_r, for the largest swept node count */
  bestStatic: { nodes: number; nodesPerDepth: number[]; expected: number } | null;
  /** "Your pair's own draft ranked the target's token ..." */
  sentence: string;
}

/** The pair on the trees' picture, from the controlled tree runs' draftModelRanks; null without. */
export function treePairPlacement(rows: readonly RunRow[]): TreePairPlacement | null {
  const runs = rows.filter(
    (r) => r.acceptanceTarget != null && r.tree?.shape && r.tree.draftModelRanks,
  );
  const counts = sumRankCounts(runs.map((r) => r.tree!.draftModelRanks!));
  // a rank read at too few positions says little: the ranks end before it
  const readable = counts.tested.findIndex((n) => n < MIN_RANK_POSITIONS);
  const p = rankAcceptance(counts).slice(0, readable < 0 ? undefined : readable);
  if (p.length === 0) return null;
  const shapes = [...new Set(runs.map((r) => treeShapeText(r.tree!.shape!)))].map((text) => {
    const shape = text.split(',').map(Number);
    return { shape, expected: expectedTokensOfShape(shape, p) };
  });
  const nodes = Math.max(...shapes.map((s) => treeNodeCount(s.shape)));
  const best = bestStaticTree(nodes, p);
  const bestStatic =
    best.parents.length > 0
      ? { nodes, nodesPerDepth: best.nodesPerDepth, expected: best.expected }
      : null;
  const ranks = listWords(
    p.map((pr, r) => `p_${r + 1} = ${fixed(pr, 2)} (of ${counts.tested[r]} positions)`),
  );
  const each = listWords(
    shapes.map((s) => `tree ${treeShapeText(s.shape)} at ${fixed(s.expected, 2)}`),
  );
  const bestText = bestStatic
    ? `, and Sequoia's best static tree of ${nodes} nodes (nodes per depth ${bestStatic.nodesPerDepth.join(', ')}) at ${fixed(bestStatic.expected, 2)}`
    : '';
  return {
    rankTested: counts.tested,
    rankAcceptance: p,
    runs: runs.length,
    shapes,
    bestStatic,
    sentence: `Your pair's own draft, behind the oracle where its context was the target's text, held the target's token at ${ranks}: with those ranks Sequoia's model puts ${each} tokens per pass${bestText}.`,
  };
}
