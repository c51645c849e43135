/** Token-tree shapes as `--tree` takes them, their node counts and limits, and top-k's order. */
import { describe, expect, it } from 'vitest';
import { topK, argmax } from '../../src/core/model/argmax';
import { TokenTree } from '../../src/core/decoding/tree/tokenTree';
import { BudgetGrowth } from '../../src/core/decoding/tree/dynamicTree';
import {
  MAX_TREE_DEPTH,
  MAX_TREE_NODES,
  nodesPerDepth,
  parseTreeBudgets,
  parseTreeShapes,
  treeNodeCount,
  treeShapeProblem,
} from '../../src/shared/treeShape';

describe('tree shapes', () => {
  it('parses one shape, several separated by ";" and repeated flags, once each', () => {
    expect(parseTreeShapes(['3,2,1'])).toEqual([[3, 2, 1]]);
    expect(parseTreeShapes(['3,2,1; 2,2,2', '4,1,1', '3,2,1'])).toEqual([
      [3, 2, 1],
      [2, 2, 2],
      [4, 1, 1],
    ]);
    expect(parseTreeShapes([' 1 '])).toEqual([[1]]);
  });

  it('counts nodes depth by depth', () => {
    expect(nodesPerDepth([3, 2, 1])).toEqual([3, 6, 6]);
    expect(treeNodeCount([3, 2, 1])).toBe(15);
    expect(treeNodeCount([1, 1, 1, 1])).toBe(4);
  });

  it('refuses what cannot run, saying what to type', () => {
    expect(() => parseTreeShapes(['3,x'])).toThrow(
      /whole numbers separated by commas, e\.g\. 3,2,1/,
    );
    expect(() => parseTreeShapes(['3,,1'])).toThrow(/whole numbers/);
    expect(() => parseTreeShapes(['2.5'])).toThrow(/whole numbers/);
    expect(() => parseTreeShapes(['3,0,1'])).toThrow(/at least 1 \(got 0\)/);
    expect(() => parseTreeShapes([';'])).toThrow(/needs a shape/);
    expect(() => parseTreeShapes(['9,9,9'])).toThrow(`819 nodes, more than ${MAX_TREE_NODES}`);
    const deep = Array<number>(MAX_TREE_DEPTH + 1)
      .fill(1)
      .join(',');
    expect(() => parseTreeShapes([deep])).toThrow(`deeper than ${MAX_TREE_DEPTH}`);
    expect(treeShapeProblem(Array<number>(MAX_TREE_DEPTH).fill(1))).toBeNull();
    expect(treeShapeProblem([])).toMatch(/at least one depth/);
  });
});

describe('top-k and the tree', () => {
  it('orders by value, ties to the lower index, the first being argmax', () => {
    const row = Float32Array.from([0.1, 0.7, 0.7, -1, 0.9, 0.7]);
    expect(topK(row, 1)).toEqual([argmax(row)]);
    expect(topK(row, 3)).toEqual([4, 1, 2]);
    expect(topK(row, 4)).toEqual([4, 1, 2, 5]);
    expect(topK(row, 10)).toEqual([4, 1, 2, 5, 0, 3]);
  });

  it('holds paths, leaves and ancestry', () => {
    const t = new TokenTree();
    const a = t.add(-1, 10, 0.5);
    const b = t.add(-1, 11, 0.2);
    const c = t.add(a, 12, 0.9);
    expect(t.depth).toBe(2);
    expect(t.pathTokens(c)).toEqual([10, 12]);
    expect(t.leaves()).toEqual([b, c]);
    expect(t.children(-1)).toEqual([a, b]);
    expect(t.isUnder(c, a)).toBe(true);
    expect(t.isUnder(c, b)).toBe(false);
    expect(t.isUnder(b, -1)).toBe(true);
  });
});

describe('node budgets (dynamic trees)', () => {
  it('parses budgets once each and refuses what is out of range', () => {
    expect(parseTreeBudgets(['16', '8,16, 32'])).toEqual([16, 8, 32]);
    expect(() => parseTreeBudgets(['0'])).toThrow(/whole numbers from 1 to 64/);
    expect(() => parseTreeBudgets([`${MAX_TREE_NODES + 1}`])).toThrow(/from 1 to 64/);
    expect(() => parseTreeBudgets(['1.5'])).toThrow(/e\.g\. 16 or 8,16,32/);
  });

  it('keeps the N candidates of highest path probability, as a tree, depth by depth', () => {
    const g = new BudgetGrowth(3);
    const a = g.add(-1, 10, 0.6);
    const b = g.add(-1, 11, 0.3);
    g.add(-1, 12, 0.1);
    // under a: 0.6 * 0.9 = 0.54 beats b's 0.3; 0.6 * 0.1 = 0.06 does not
    expect(g.worthExpanding([a, b])).toEqual([a, b]);
    const aa = g.add(a, 20, 0.9);
    g.add(a, 21, 0.1);
    expect(g.worthExpanding([aa])).toEqual([aa]);
    const tree = g.tree();
    expect(tree.nodes.map((n) => [n.parent, n.tokenId])).toEqual([
      [-1, 10],
      [-1, 11],
      [0, 20],
    ]);
    // a candidate below the N-th best score is not worth expanding
    const h = new BudgetGrowth(1);
    const x = h.add(-1, 1, 0.5);
    const y = h.add(-1, 2, 0.4);
    expect(h.worthExpanding([x, y])).toEqual([x]);
  });
});
