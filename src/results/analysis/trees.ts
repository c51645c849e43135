/**
 * "Token trees against chains" (issue 35): a sweep with `--tree` or `--tree-budget` compares its
 * trees with its chains (time, target passes, tokens per verification, nodes per step, the
 * verdict), says which way the target verified them and whether a tree paid on this machine, and
 * sets the measured tokens per verification beside Sequoia's expectation from acceptance by rank;
 * trees under controlled acceptance beside the same expectation with p_r = A (treeAcceptance.ts).
 */
import { count, fixed, percent, probability, seconds, times } from '../../shared/format';
import type { RunRow } from '../../shared/protocol';
import { median } from '../../shared/stats';
import { treeNodeCount, treeShapeText } from '../../shared/treeShape';
import { REFERENCE_STRATEGY, strategyName } from '../strategy';
import { baselineRow, bestOf, meanNodesPerStep, type SummaryRow } from '../summary';
import {
  bestShape,
  bestStaticTree,
  expectedTokensOfShape,
  rankAcceptance,
  rankShares,
  sumRankCounts,
  type RankCounts,
} from '../treeTheory';
import {
  treePairPlacement,
  treesUnderAcceptance,
  type TreePairPlacement,
  type TreesAtAlpha,
} from '../treeAcceptance';
import { comparePaired, MIN_PAIRS } from '../verdict';
import type { AnalysisExtra, AnalysisTable } from './types';
import { list, ordinal } from './words';

type Label = (r: SummaryRow) => string;

/** a row's speed: its median speedup, or 1 / its median time without a baseline */
function speedOf(r: SummaryRow): number {
  return r.speedup?.median ?? 1 / r.timeS.median;
}

function fastest(rows: readonly SummaryRow[]): SummaryRow | null {
  return rows.reduce<SummaryRow | null>(
    (b, r) => (b === null || speedOf(r) > speedOf(b) ? r : b),
    null,
  );
}

/** "tree in one pass", "as 6 rows" (a batch row per root-to-leaf path), "chain" */
export function verifyWay(r: SummaryRow): string {
  if (!r.tree) return 'chain';
  if (r.tree.verify === 'mask') return 'tree in one pass';
  const shape = r.tree.shape;
  return shape ? `as ${shape.reduce((a, b) => a * b, 1)} rows` : 'as rows (one per path)';
}

/** the expected tokens per verification of a chain or a static shape; null for a budget's tree */
function expectedOf(r: SummaryRow, p: readonly number[]): number | null {
  if (p.length === 0) return null;
  if (!r.tree) return r.k === null ? null : expectedTokensOfShape(Array(r.k).fill(1), p);
  return r.tree.shape ? expectedTokensOfShape(r.tree.shape, p) : null;
}

/** the median of the runs' measured tokens per verification (1 + accepted / steps) */
const measuredOf = (r: SummaryRow): number | null => r.meanAcceptanceLength?.median ?? null;

/** nodes a row verifies per step: a tree's median, a chain's drafts per step */
function nodesOf(r: SummaryRow, groups: ReadonlyMap<string, RunRow[]>): number | null {
  if (r.tree) return r.tree.nodesPerStep?.median ?? null;
  const means = (groups.get(r.key) ?? [])
    .map(meanNodesPerStep)
    .filter((v): v is number => v !== null);
  return means.length > 0 ? median(means) : null;
}

/** Did the best tree pay against the best chain on this machine? One sentence. */
export function treeVerdictSentence(
  bestTree: SummaryRow,
  bestChain: SummaryRow | null,
  label: Label,
): string {
  const x = (r: SummaryRow): string =>
    r.speedup ? `${times(r.speedup.median)} the baseline` : `${seconds(r.timeS.median)}`;
  const tree = `${label(bestTree)} (${x(bestTree)})`;
  if (!bestChain)
    return `The sweep has no chain to compare the trees with: run it with --k up to the tree's depth (e.g. --k 1,2,3) beside --tree. The fastest tree was ${tree}.`;
  const chain = `${label(bestChain)} (${x(bestChain)})`;
  const treeWins = comparePaired(bestTree.times, bestChain.times);
  const chainWins = comparePaired(bestChain.times, bestTree.times);
  const pairs = treeWins.pairs;
  const over = `${pairs} ${pairs === 1 ? 'run' : 'runs'} paired by repeat and prompt`;
  if (pairs < MIN_PAIRS) {
    const faster = speedOf(bestTree) > speedOf(bestChain);
    return `Not measured beyond noise: the fastest tree, ${tree}, was ${faster ? 'faster' : 'not faster'} than the fastest chain, ${chain}, from ${over}, too few to measure noise: run 3 or more repeats.`;
  }
  if (treeWins.beats)
    return `Yes, the tree paid on this machine: ${tree} was faster than the fastest chain, ${chain}, beyond noise over ${over} (time ratio ${fixed(treeWins.ratio, 2)}).`;
  if (chainWins.beats)
    return `No, the tree did not pay on this machine: the fastest chain, ${chain}, was faster than the fastest tree, ${tree}, beyond noise over ${over} (time ratio ${fixed(chainWins.ratio, 2)}).`;
  return `Not beyond noise: the fastest tree, ${tree}, and the fastest chain, ${chain}, are within noise of each other over ${over}; on this machine the tree's extra branches bought no time a chain could not.`;
}

/** the chains a tree is compared with: the draft model's, real drafting, its reference policy if run */
function chainsOf(summary: readonly SummaryRow[]): SummaryRow[] {
  const chains = summary.filter(
    (r) =>
      r.mode === 'speculative' &&
      !r.tree &&
      r.k !== null &&
      r.acceptanceTarget === null &&
      r.drafter === 'model',
  );
  const reference = chains.filter((r) => strategyName(r) === REFERENCE_STRATEGY);
  return reference.length > 0 ? reference : chains;
}

export function treesSection(
  summary: readonly SummaryRow[],
  groups: ReadonlyMap<string, RunRow[]>,
  label: Label,
  sampled = false,
): AnalysisExtra | null {
  if (!summary.some((r) => r.tree !== undefined)) return null;
  // trees under controlled acceptance are read against p_r = A, not the measured ranks
  const all = [...groups.values()].flat();
  const controlled = treesUnderAcceptance(all);
  const pair = treePairPlacement(all);
  const trees = summary.filter((r) => r.tree !== undefined && r.acceptanceTarget === null);
  if (trees.length === 0) return controlledSection(controlled, pair);
  const chains = chainsOf(summary);
  const treeRuns = trees.flatMap((r) => groups.get(r.key) ?? []);
  const counts: RankCounts = sumRankCounts(
    treeRuns.flatMap((r) => (r.tree?.ranks ? [r.tree.ranks] : [])),
  );
  const p = rankAcceptance(counts);
  const q = rankShares(p);
  const choice = bestOf(summary);
  const verdictOf = (r: SummaryRow): string =>
    choice?.row.key === r.key
      ? choice.beatBaseline
        ? 'best'
        : 'fastest, not a win'
      : choice?.tiedWith.some((t) => t.key === r.key)
        ? 'tied with the best'
        : '';
  const baseline = baselineRow(summary);
  const bestTree = fastest(trees)!;
  const bestChain = fastest(chains);

  const compared: AnalysisTable = {
    caption:
      "Token trees against chains (medians over the runs; tokens per verification = 1 + accepted / verification steps; expected: Sequoia's model with the acceptance by rank below)",
    head: [
      'Configuration',
      'Verified',
      'Time (s)',
      'Speedup',
      'Target passes',
      'Nodes per step',
      'Tokens per verification',
      'Expected',
      'Measured / expected',
      'Verdict',
    ],
    textColumns: [1, 9],
    rows: [...(baseline ? [baseline] : []), ...chains, ...trees].map((r) => {
      const measured = measuredOf(r);
      const expected = expectedOf(r, p);
      if (r.mode !== 'speculative')
        return [
          label(r),
          '-',
          seconds(r.timeS.median),
          times(r.speedup?.median),
          count(r.targetPasses.median),
          '-',
          '-',
          '-',
          '-',
          '',
        ];
      return [
        label(r),
        verifyWay(r),
        seconds(r.timeS.median),
        times(r.speedup?.median),
        count(r.targetPasses.median),
        fixed(nodesOf(r, groups), 1),
        fixed(measured, 2),
        fixed(expected, 2),
        measured !== null && expected ? fixed(measured / expected, 2) : '-',
        verdictOf(r),
      ];
    }),
  };

  const tables: AnalysisTable[] = [compared];
  const points: string[] = [];
  const answers = [treeVerdictSentence(bestTree, bestChain, label)];

  if (p.length > 0) {
    tables.push({
      caption:
        "Acceptance by draft rank, over every tree run: at each position the walk reached, the draft's choices tested in rank order up to the target's",
      head: [
        'Draft rank',
        'Positions tested',
        'Accepted',
        'p (accepted / tested)',
        'Share of positions',
      ],
      rows: p.map((pr, r) => [
        ordinal(r + 1),
        count(counts.tested[r]),
        count(counts.accepted[r]),
        probability(pr),
        percent(q[r]),
      ]),
    });
    const beyond = 1 - q.reduce((s, v) => s + v, 0);
    points.push(
      `The target's token was the draft's ${list(q.map((v, r) => `${ordinal(r + 1)} choice at ${percent(v)}`))} of the positions a tree reached, and none of its first ${p.length} at ${percent(beyond)}.`,
    );
    if (sampled)
      points.push(
        "Sampled, a sibling's rank is the order it was drawn in (without replacement) and p_r the chance recursive rejection sampling kept it after its earlier siblings were rejected: Sequoia's acceptance vector.",
      );
    const sizes = [
      ...new Set(
        trees.map((r) => (r.tree!.shape ? treeNodeCount(r.tree!.shape) : r.tree!.budget!)),
      ),
    ].sort((a, b) => a - b);
    const sequoia: AnalysisTable = {
      caption:
        "Sequoia's best static tree for each node budget of the sweep, from the measured acceptance by rank, beside the best shape --tree can type and what this sweep's trees of that size measured",
      head: [
        'Nodes',
        'Best tree: nodes per depth',
        'Expected',
        'Best --tree shape',
        'Expected',
        'Measured (this sweep)',
      ],
      textColumns: [1, 3, 5],
      rows: sizes.map((n) => {
        const tree = bestStaticTree(n, p);
        const shape = bestShape(n, p);
        const measured = trees
          .filter((r) => (r.tree!.budget ?? treeNodeCount(r.tree!.shape!)) === n)
          .map((r) => `${label(r)} ${fixed(measuredOf(r), 2)}`);
        return [
          String(n),
          tree.parents.length > 0 ? tree.nodesPerDepth.join(', ') : 'none: no rank is accepted',
          fixed(tree.expected, 2),
          shape ? `${treeShapeText(shape.shape)} (${shape.nodes} nodes)` : '-',
          fixed(shape?.expected, 2),
          measured.join('; ') || '-',
        ];
      }),
    };
    tables.push(sequoia);
    const largest = sizes.at(-1)!;
    const best = bestStaticTree(largest, p);
    const typed = bestShape(largest, p);
    answers.push(
      best.parents.length === 0
        ? `With this acceptance by rank no draft is ever accepted: no tree (and no chain) verifies more than the target's own token per pass.`
        : `With this acceptance by rank, the best static tree of ${largest} nodes would verify ${fixed(best.expected, 2)} tokens per pass (nodes per depth ${best.nodesPerDepth.join(', ')}); the best shape --tree takes within ${largest} nodes is ${typed ? `${treeShapeText(typed.shape)} (${fixed(typed.expected, 2)})` : 'none'}.`,
    );
  } else {
    points.push(
      'No tree run recorded its acceptance by draft rank (runs saved before it was counted), so there is no expectation beside the measurement.',
    );
  }

  // which way each tree was verified, and the two ways side by side where both ran
  const byWay = new Map<string, SummaryRow[]>();
  for (const r of trees) {
    const name = r.tree!.shape ? treeShapeText(r.tree!.shape) : `budget ${r.tree!.budget}`;
    byWay.set(name, [...(byWay.get(name) ?? []), r]);
  }
  const ways = [...byWay.values()].map((rs) => list(rs.map((r) => `${label(r)}: ${verifyWay(r)}`)));
  points.push(
    `Verified: ${list(ways)} ("tree in one pass": the nodes under a tree mask in one target pass; "as N rows": every root-to-leaf path a batch row over the tiled cache).`,
  );
  for (const rs of byWay.values()) {
    const mask = rs.find((r) => r.tree!.verify === 'mask');
    const rows = rs.find((r) => r.tree!.verify === 'rows');
    if (!mask || !rows) continue;
    const ratio = rows.timeS.median / mask.timeS.median;
    points.push(
      `${label(mask)} took ${seconds(mask.timeS.median)} under the mask and ${seconds(rows.timeS.median)} as rows: the mask ${ratio >= 1 ? `${fixed(ratio, 2)}x faster` : `${fixed(1 / ratio, 2)}x slower`}.`,
    );
  }
  // the invariant: a tree never needs more target passes than the chain of its depth
  for (const r of trees.filter((t) => t.tree!.shape)) {
    const chain = chains.find((c) => c.k === r.k);
    if (chain)
      points.push(
        `${label(r)} took ${count(r.targetPasses.median)} target passes where the chain of its depth, ${label(chain)}, took ${count(chain.targetPasses.median)}.`,
      );
  }
  if (!baseline)
    points.push('The sweep has no baseline run: speeds are compared by time, without a speedup.');
  points.push(
    "The expectations assume a rank's acceptance is the same at every depth (Sequoia's model); a text that loops accepts more deep in a tree than this average.",
  );
  if (controlled.length > 0) {
    answers.push(...controlled.map((t) => t.sentence));
    points.push(ORACLE_RULE, TRUNCATION, ...(pair ? [pair.sentence] : []));
    tables.push(controlledTable(controlled));
  }
  return {
    id: 'trees',
    title: 'Token trees against chains',
    question: TREES_QUESTION,
    answers,
    points,
    tables,
  };
}

const TREES_QUESTION =
  'Did drafting a tree (several guesses per position, verified in one pass) pay against drafting a chain on this machine, and how close is it to what its acceptance by rank predicts?';

/** the tree oracle's rule, as the report states it (src/shared/treeAcceptance.ts) */
const ORACLE_RULE =
  "Under controlled acceptance (--acceptance A) the tree oracle drafts every tree with the draft model's real passes and, at every node on the target's text, puts the target's token in each child slot, in the draft's rank order, with probability A given the earlier slots did not hold it (the other slots hold the draft's own next-best tokens): p_r = A at every rank, so Sequoia's model predicts each shape exactly, and a 1-wide tree is the chain oracle.";

/** why a short run measures a little under the expectation */
const TRUNCATION =
  "Sequoia's expectation is for a whole tree: a run's last steps, cut short by max new tokens (or an end of text), verify shallower trees, which pulls a short run's measurement a little under it; with few steps the draws move it either way (the drawn p by rank says how far the draws strayed from A).";

/** trees at each alpha: measured tokens per verification against Sequoia's model with p_r = A */
function controlledTable(controlled: readonly TreesAtAlpha[]): AnalysisTable {
  return {
    caption:
      "Token trees under controlled acceptance (medians over the runs): tokens per verification against Sequoia's model with p_r = A at every rank, the acceptance by rank the runs drew, and Sequoia's best static tree and --tree shape of the same node count at that A",
    head: [
      'alpha',
      'Tree',
      'Nodes',
      'Speedup',
      'Tokens per verification',
      'Predicted',
      'Measured / predicted',
      'Drawn p by rank',
      'Best static tree: nodes per depth',
      'Expected',
      'Best --tree shape',
      'Expected',
    ],
    textColumns: [1, 7, 8, 10],
    rows: controlled.flatMap((at) =>
      at.trees.map((t) => [
        String(t.alpha),
        t.label,
        String(t.nodes),
        times(t.speedup),
        fixed(t.measuredTokens, 2),
        fixed(t.predictedTokens, 2),
        fixed(t.ratio, 2),
        t.rankAcceptance.length > 0 ? t.rankAcceptance.map((p) => fixed(p, 2)).join(', ') : '-',
        t.bestStatic.nodesPerDepth.join(', ') || '-',
        fixed(t.bestStatic.expected, 2),
        t.bestShape ? treeShapeText(t.bestShape.shape) : '-',
        fixed(t.bestShape?.expected, 2),
      ]),
    ),
  };
}

/** the section when every tree ran under controlled acceptance */
function controlledSection(
  controlled: readonly TreesAtAlpha[],
  pair: TreePairPlacement | null,
): AnalysisExtra {
  return {
    id: 'trees',
    title: 'Token trees against chains',
    question: TREES_QUESTION,
    answers: controlled.map((t) => t.sentence),
    points: [ORACLE_RULE, TRUNCATION, ...(pair ? [pair.sentence] : [])],
    tables: [controlledTable(controlled)],
  };
}
