/**
 * What the step-by-step run drafts: a chain of K, or one of the token trees chosen in the set-up
 * (its first verification way), as a choice in the live controls and as the settings it sends.
 */
import type { LiveSettings } from '../../../shared/protocol';
import { MAX_TREE_DEPTH, treeShapeText } from '../../../shared/treeShape';
import type { TreeVerifyChoice } from '../../../shared/protocol';

export const CHAIN = 'chain';

export interface LiveDraftOption {
  value: string;
  label: string;
}

/** the chain, then each shape and budget of the set-up, as the runs are labelled */
export function liveDraftOptions(
  shapes: readonly (readonly number[])[],
  budgets: readonly number[],
): LiveDraftOption[] {
  return [
    { value: CHAIN, label: 'a chain of K' },
    ...shapes.map((s) => ({
      value: `shape:${treeShapeText(s)}`,
      label: `tree ${treeShapeText(s)}`,
    })),
    ...budgets.map((b) => ({ value: `budget:${b}`, label: `tree budget ${b}` })),
  ];
}

/**
 * The tree an option stands for, with the K it is sent with (its depth: a shape's length, a
 * budget's deepest, MAX_TREE_DEPTH at most); null for the chain or an option no longer offered.
 */
export function liveTree(
  value: string,
  shapes: readonly (readonly number[])[],
  budgets: readonly number[],
  verify: TreeVerifyChoice,
): { k: number; tree: NonNullable<LiveSettings['tree']> } | null {
  const shape = shapes.find((s) => value === `shape:${treeShapeText(s)}`);
  if (shape) return { k: shape.length, tree: { shape: [...shape], verify } };
  const budget = budgets.find((b) => value === `budget:${b}`);
  if (budget !== undefined)
    return { k: Math.min(budget, MAX_TREE_DEPTH), tree: { budget, verify } };
  return null;
}
