/**
 * The set-up's token trees in plain words: shapes and node budgets typed into the list, and why
 * the engine would refuse trees with the other choices (src/core/experiment/sweep.ts and
 * tree/treeRun.ts check the same; under controlled acceptance both ask src/shared/treeAcceptance.ts), so Run is off with the reason at the control instead of
 * failing after a click.
 */
import {
  MAX_TREE_NODES,
  MAX_TREE_SHAPES,
  treeBudgetProblem,
  treeShapeProblem,
  treeShapeText,
} from '../../../shared/treeShape';
import type { TreeVerifyChoice } from '../../../shared/settings';
import { treeAcceptanceProblem } from '../../../shared/treeAcceptance';

export type TreeAdd<T> = { ok: true; values: T[] } | { ok: false; message: string };

/** "3,2,1" or "3,2,1; 2,2,2" added to the shapes already chosen (`count`: shapes and budgets) */
export function addTreeShapes(
  shapes: readonly (readonly number[])[],
  count: number,
  text: string,
): TreeAdd<readonly number[]> {
  const parts = text
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0)
    return { ok: false, message: 'Type a shape: the branching per depth, e.g. 3,2,1.' };
  const next = [...shapes];
  for (const part of parts) {
    const shape = part.split(',').map((s) => (/^\s*\d+\s*$/.test(s) ? Number(s) : NaN));
    if (shape.some(Number.isNaN))
      return {
        ok: false,
        message: `A shape is each depth's branching as whole numbers separated by commas, e.g. 3,2,1; several shapes separated by ";" (got "${part}").`,
      };
    const problem = treeShapeProblem(shape);
    if (problem) return { ok: false, message: `Tree ${part}: ${problem}.` };
    const key = treeShapeText(shape);
    if (next.some((s) => treeShapeText(s) === key))
      return { ok: false, message: `Tree ${key} is already in the sweep.` };
    next.push(shape);
  }
  const total = count - shapes.length + next.length;
  if (total > MAX_TREE_SHAPES)
    return {
      ok: false,
      message: `At most ${MAX_TREE_SHAPES} tree shapes and budgets in one sweep (that would be ${total}).`,
    };
  return { ok: true, values: next };
}

/** "16" or "8, 16" added to the node budgets already chosen (`count`: shapes and budgets) */
export function addTreeBudgets(
  budgets: readonly number[],
  count: number,
  text: string,
): TreeAdd<number> {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0)
    return { ok: false, message: `Type a node budget from 1 to ${MAX_TREE_NODES}, e.g. 16.` };
  const next = [...budgets];
  for (const part of parts) {
    const budget = /^\d+$/.test(part) ? Number(part) : NaN;
    const problem = treeBudgetProblem(budget);
    if (problem)
      return {
        ok: false,
        message: `A node budget is a whole number from 1 to ${MAX_TREE_NODES} (got "${part}").`,
      };
    if (next.includes(budget))
      return { ok: false, message: `Budget ${budget} is already in the sweep.` };
    next.push(budget);
  }
  const total = count - budgets.length + next.length;
  if (total > MAX_TREE_SHAPES)
    return {
      ok: false,
      message: `At most ${MAX_TREE_SHAPES} tree shapes and budgets in one sweep (that would be ${total}).`,
    };
  return { ok: true, values: next.sort((a, b) => a - b) };
}

/** the verification ways the select offers, and the list each sends (the CLI's --tree-verify) */
export const TREE_VERIFY_OPTIONS: ReadonlyArray<{
  value: string;
  label: string;
  verify: TreeVerifyChoice[];
}> = [
  { value: 'auto', label: 'auto (mask if it can)', verify: ['auto'] },
  { value: 'mask', label: 'one pass (mask)', verify: ['mask'] },
  { value: 'rows', label: 'as rows (a path a row)', verify: ['rows'] },
  { value: 'mask,rows', label: 'mask and rows', verify: ['mask', 'rows'] },
];

export interface TreeContext {
  sampling: boolean;
  /** node budgets are in the sweep (static shapes sample; a budget runs greedy only) */
  budgets: boolean;
  /** controlled acceptance targets are set */
  acceptance: boolean;
}

/**
 * The engine's advice names CLI flags; the app's user changes a control instead. Each rule turns
 * one advice clause of src/shared/treeAcceptance.ts into the app's words (the unit test fails
 * if a flag is left, so a reworded engine sentence is caught).
 */
const FLAG_ADVICE: ReadonlyArray<[RegExp, string]> = [
  [
    /Set the temperature to 0, or sweep the trees without --acceptance\./,
    'Choose Greedy under Decoding, or remove the acceptance targets (sweep the trees without them).',
  ],
  [
    /sweep static shapes \(--tree 3,2,1\) with --acceptance, or run the budgets without it\./,
    'remove the node budgets (static shapes such as 3,2,1 run with acceptance targets), or remove the acceptance targets.',
  ],
];

/** the engine's refusal with its CLI advice in the app's words */
function inAppWords(message: string): string {
  return FLAG_ADVICE.reduce((out, [flag, inApp]) => out.replace(flag, inApp), message);
}

/** why the engine would refuse the trees with these choices; null: they run */
export function treeRefusal(context: TreeContext): string | null {
  const reasons: string[] = [];
  if (context.sampling && context.budgets)
    reasons.push(
      "A node budget keeps the draft's most probable paths, which are not draws an exact sampling rule can verify: choose Greedy under Decoding, or remove the budgets (static shapes sample).",
    );
  // greedy static shapes run under the tree oracle; the engine's sweep check asks the same
  const oracle = context.acceptance
    ? treeAcceptanceProblem({ sampling: context.sampling, budgets: context.budgets })
    : null;
  if (oracle) reasons.push(inAppWords(oracle));
  if (reasons.length === 0) return null;
  return `Token trees cannot run with these choices. ${reasons.join(' ')} Or remove the trees.`;
}
