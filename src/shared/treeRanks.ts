/**
 * Acceptance by draft rank, counted from a verified tree's nodes: the engine observes it beside
 * every tree run (runStats.ts), the results read it (treeTheory.ts). A node's rank is its place
 * among its siblings (the drafters add children in the draft's order, greedy first).
 */
import type { TreeNodeEvent } from './events';

/**
 * Acceptance by draft rank, as counts: `tested[r]` positions where the draft's (r+1)-th choice was
 * checked because its earlier siblings were rejected, `accepted[r]` those where it was the
 * target's token.
 */
export interface RankCounts {
  tested: number[];
  accepted: number[];
}

export function emptyRankCounts(): RankCounts {
  return { tested: [], accepted: [] };
}

/**
 * Add one verified tree (a verify event's nodes) to the counts. At every node the walk reached
 * (the root, then each accepted node) its children are tested in rank order up to the one the
 * target chose; a walk that ends at a leaf tests nothing more.
 */
export function addRankCounts(
  counts: RankCounts,
  nodes: readonly Pick<TreeNodeEvent, 'parent' | 'verdict'>[],
): void {
  const children = new Map<number, number[]>();
  nodes.forEach((node, i) => {
    const list = children.get(node.parent);
    if (list) list.push(i);
    else children.set(node.parent, [i]);
  });
  for (const siblings of children.values()) {
    if (siblings.every((i) => nodes[i]!.verdict === 'unchecked')) continue;
    for (const [rank, i] of siblings.entries()) {
      const accepted = nodes[i]!.verdict === 'accepted';
      counts.tested[rank] = (counts.tested[rank] ?? 0) + 1;
      counts.accepted[rank] = (counts.accepted[rank] ?? 0) + (accepted ? 1 : 0);
      if (accepted) break;
    }
  }
}
