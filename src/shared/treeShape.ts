/**
 * Static token-tree shapes (`--tree 3,2,1`): the draft's top-b choices at each depth under every
 * node of the depth above, the first child always the draft's greedy choice. Parsed and checked
 * here, once, for the CLI and the engine; the node count is what one target pass verifies.
 */

/** deepest tree: one draft pass per depth, and a chain of this depth is the tree's first path */
export const MAX_TREE_DEPTH = 8;
/** most nodes in one tree (every node is a token the target pass verifies) */
export const MAX_TREE_NODES = 64;
/** most shapes one sweep compares */
export const MAX_TREE_SHAPES = 16;

/** branching per depth: shape[d] children under every node at depth d (the root at depth 0) */
export type TreeShape = readonly number[];

/** nodes at each depth 1..D: the running product of the branching */
export function nodesPerDepth(shape: TreeShape): number[] {
  const counts: number[] = [];
  let width = 1;
  for (const branching of shape) {
    width *= branching;
    counts.push(width);
  }
  return counts;
}

/** every node of the full tree (the root, the pending token, is not one) */
export function treeNodeCount(shape: TreeShape): number {
  return nodesPerDepth(shape).reduce((a, b) => a + b, 0);
}

/** "3,2,1": the shape as the flag writes it, and its part of labels and keys */
export function treeShapeText(shape: TreeShape): string {
  return shape.join(',');
}

/** Why a shape cannot run, or null when it can. */
export function treeShapeProblem(shape: TreeShape): string | null {
  if (shape.length === 0) return 'a tree needs at least one depth';
  if (shape.length > MAX_TREE_DEPTH)
    return `${shape.length} depths is deeper than ${MAX_TREE_DEPTH}, the deepest tree`;
  const bad = shape.find((b) => !Number.isInteger(b) || b < 1);
  if (bad !== undefined)
    return `each depth's branching is a whole number of at least 1 (got ${bad})`;
  const nodes = treeNodeCount(shape);
  if (nodes > MAX_TREE_NODES)
    return `${treeShapeText(shape)} has ${nodes} nodes, more than ${MAX_TREE_NODES}, the most one target pass verifies here`;
  return null;
}

/** Why a node budget (`--tree-budget N`) cannot run, or null when it can. */
export function treeBudgetProblem(budget: number): string | null {
  return Number.isInteger(budget) && budget >= 1 && budget <= MAX_TREE_NODES
    ? null
    : `a node budget is a whole number from 1 to ${MAX_TREE_NODES} (got ${budget})`;
}

/**
 * `--tree-budget` values as typed: each value one budget or several separated by commas. Returns
 * the distinct budgets in order; throws an Error saying what to type.
 */
export function parseTreeBudgets(values: readonly string[]): number[] {
  const budgets: number[] = [];
  for (const value of values) {
    for (const part of value.split(',')) {
      const text = part.trim();
      const budget = /^\d+$/.test(text) ? Number(text) : NaN;
      if (treeBudgetProblem(budget))
        throw new Error(
          `--tree-budget takes node budgets, whole numbers from 1 to ${MAX_TREE_NODES} separated by commas, e.g. 16 or 8,16,32 (got ${JSON.stringify(text)}).`,
        );
      if (!budgets.includes(budget)) budgets.push(budget);
    }
  }
  if (budgets.length > MAX_TREE_SHAPES)
    throw new Error(
      `--tree-budget: at most ${MAX_TREE_SHAPES} budgets in one sweep (got ${budgets.length}).`,
    );
  return budgets;
}

/**
 * `--tree` values as typed: each value one shape ("3,2,1") or several separated by ";"
 * ("3,2,1;2,2,2,2"). Returns the distinct shapes in order; throws an Error saying what to type.
 */
export function parseTreeShapes(values: readonly string[]): number[][] {
  const shapes: number[][] = [];
  const seen = new Set<string>();
  for (const value of values) {
    for (const part of value.split(';')) {
      const text = part.trim();
      if (text === '') continue;
      const shape = text.split(',').map((s) => (/^\s*\d+\s*$/.test(s) ? Number(s) : NaN));
      if (shape.some((b) => Number.isNaN(b)))
        throw new Error(
          `--tree takes each depth's branching as whole numbers separated by commas, e.g. 3,2,1, and several shapes separated by ";" (got ${JSON.stringify(text)}).`,
        );
      const problem = treeShapeProblem(shape);
      if (problem) throw new Error(`--tree ${text}: ${problem}.`);
      const key = treeShapeText(shape);
      if (!seen.has(key)) {
        seen.add(key);
        shapes.push(shape);
      }
    }
  }
  if (shapes.length === 0)
    throw new Error('--tree needs a shape, e.g. --tree 3,2,1 (several: --tree "3,2,1;2,2,2").');
  if (shapes.length > MAX_TREE_SHAPES)
    throw new Error(
      `--tree: at most ${MAX_TREE_SHAPES} shapes in one sweep (got ${shapes.length}).`,
    );
  return shapes;
}
