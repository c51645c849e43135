/**
 * Where the tree panel draws each node of a step's token tree: one column per depth (the pending
 * token, the root, in column 0), every leaf a row of its own in the order the tree lists its
 * children (the draft's first choice on top), and each parent centred on its children's rows.
 * Pure, so it is tested without a browser; the panel scales columns and rows to pixels.
 */

export interface LayoutInput {
  /** each node's parent index (-1: the root), in the verify event's order */
  parents: readonly number[];
  /** the target's own token, drawn as one more child of this node (-1: the root); absent: none */
  endParent?: number | null;
}

/** 'root', a node's index, or 'end' (the target's correction or bonus) */
export type LayoutId = 'root' | 'end' | number;

export interface LayoutItem {
  id: LayoutId;
  /** the parent's id; null for the root */
  parent: LayoutId | null;
  col: number;
  /** rows from the top, a half-row where a parent sits between its children */
  row: number;
}

export interface TreeLayout {
  items: LayoutItem[];
  /** columns and rows the items span (at least 1 each) */
  cols: number;
  rows: number;
}

export function layoutTree(input: LayoutInput): TreeLayout {
  const children = new Map<LayoutId, LayoutId[]>([['root', []]]);
  const childrenOf = (id: LayoutId): LayoutId[] => {
    let list = children.get(id);
    if (!list) children.set(id, (list = []));
    return list;
  };
  input.parents.forEach((parent, index) => {
    if (parent >= index)
      throw new Error(`node ${index}'s parent ${parent} is not listed before it`);
    childrenOf(parent < 0 ? 'root' : parent).push(index);
  });
  if (input.endParent !== undefined && input.endParent !== null)
    childrenOf(input.endParent < 0 ? 'root' : input.endParent).push('end');

  const items: LayoutItem[] = [];
  let nextRow = 0;
  let cols = 1;
  // depth first, children in order: a leaf takes the next row, a parent the middle of its children
  const place = (id: LayoutId, parent: LayoutId | null, col: number): number => {
    cols = Math.max(cols, col + 1);
    const item: LayoutItem = { id, parent, col, row: 0 };
    items.push(item);
    const kids = children.get(id) ?? [];
    if (kids.length === 0) {
      item.row = nextRow++;
    } else {
      const rows = kids.map((kid) => place(kid, id, col + 1));
      item.row = (rows[0]! + rows.at(-1)!) / 2;
    }
    return item.row;
  };
  place('root', null, 0);
  return { items, cols, rows: Math.max(1, nextRow) };
}
