/**
 * The renderer's pure logic for token trees (issue 35, drawn as a tree): the panel's layout, the
 * step's tree read from the events as a replay shows it, the stream's accepted sibling, the steps
 * CSV's node columns, the set-up's shapes, budgets and refusals, and the trees-versus-chains
 * scatter built from the summary.
 */
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/shared/events';
import { summarizeRows, badgeRow } from '../../src/results/summary';
import { runRow } from '../support/helpers';
import { layoutTree } from '../../src/renderer/src/lib/treeLayout';
import {
  acceptedPath,
  hasTrees,
  latestTreeStep,
  pendingTokenText,
  treeAtStep,
} from '../../src/renderer/src/lib/treeStep';
import { StreamBuilder } from '../../src/renderer/src/lib/stream';
import { stepsCsv } from '../../src/renderer/src/lib/csv';
import { addTreeBudgets, addTreeShapes, treeRefusal } from '../../src/renderer/src/lib/treeSetup';
import { treeScatterData } from '../../src/renderer/src/lib/treeScatter';
import { timeChartData } from '../../src/renderer/src/lib/chartData';
import { SweepSettings } from '../../src/shared/settings';

const R = 'run-1';
/** one step of a 2,1 tree after the pending token "!": A (rejected), B (accepted), C under A
 * (unchecked), D under B (rejected), then the target's correction E */
const TREE_NODES = [
  { parent: -1, depth: 1, tokenId: 10, draftProb: 0.5, verdict: 'rejected' },
  { parent: -1, depth: 1, tokenId: 11, draftProb: 0.3, verdict: 'accepted' },
  { parent: 0, depth: 2, tokenId: 12, draftProb: 0.9, verdict: 'unchecked' },
  { parent: 1, depth: 2, tokenId: 13, draftProb: 0.6, verdict: 'rejected' },
] as const;
const TEXT: Record<number, string> = { 10: ' A', 11: ' B', 12: ' C', 13: ' D', 14: ' E' };

function treeEvents(): EngineEvent[] {
  const metrics = runRow({}) as unknown as Extract<EngineEvent, { type: 'step-end' }>['metrics'];
  return [
    {
      type: 'run-start',
      runId: R,
      mode: 'speculative',
      k: 2,
      maxNewTokens: 8,
      models: { target: 't', draft: 'd' },
      promptTokenIds: [1, 2],
      promptText: 'Hi!',
    },
    ...TREE_NODES.map((n, index): EngineEvent => ({
      type: 'draft',
      runId: R,
      step: 1,
      index,
      position: 2 + n.depth - 1,
      tokenId: n.tokenId,
      text: TEXT[n.tokenId]!,
      draftProb: n.draftProb,
    })),
    {
      type: 'verify',
      runId: R,
      step: 1,
      draftedTokenIds: TREE_NODES.map((n) => n.tokenId),
      verdicts: TREE_NODES.map((n) => n.verdict),
      targetTokenIds: [11, 14],
      targetProbs: [0.1, 0.7, 0.2, 0.05],
      minLogitMargin: 0.5,
      tree: { verify: 'mask', nodes: TREE_NODES.map((n) => ({ ...n })) },
    },
    {
      type: 'emit',
      runId: R,
      step: 1,
      position: 2,
      tokenId: 11,
      text: ' B',
      kind: 'accepted',
      draftProb: 0.3,
      targetProb: 0.7,
    },
    {
      type: 'emit',
      runId: R,
      step: 1,
      position: 3,
      tokenId: 14,
      text: ' E',
      kind: 'correction',
      draftProb: null,
      targetProb: 0.8,
    },
    { type: 'step-end', runId: R, step: 1, metrics },
  ];
}

describe('the tree layout', () => {
  it('puts each depth in its column, every leaf on its own row, parents centred on their children', () => {
    // 3,2,1 = 3 + 6 + 6 = 15 nodes
    const parents = [-1, -1, -1, 0, 0, 1, 1, 2, 2, 3, 4, 5, 6, 7, 8];
    const { items, cols, rows } = layoutTree({ parents });
    expect(items).toHaveLength(16);
    expect(cols).toBe(4);
    expect(rows).toBe(6);
    const at = (id: number | 'root'): { col: number; row: number } => {
      const item = items.find((i) => i.id === id)!;
      return { col: item.col, row: item.row };
    };
    expect(at('root')).toEqual({ col: 0, row: 2.5 });
    // the draft's first choice on top, its first child's leaf on row 0
    expect(at(0)).toEqual({ col: 1, row: 0.5 });
    expect(at(9)).toEqual({ col: 3, row: 0 });
    expect(at(14)).toEqual({ col: 3, row: 5 });
    expect(at(2)).toEqual({ col: 1, row: 4.5 });
    // every item's parent sits one column left of it
    for (const item of items.filter((i) => i.parent !== null)) {
      const parent = items.find((i) => i.id === item.parent)!;
      expect(item.col).toBe(parent.col + 1);
    }
    // no two leaves share a row
    const leafRows = items.filter((i) => !items.some((c) => c.parent === i.id)).map((i) => i.row);
    expect(new Set(leafRows).size).toBe(leafRows.length);
  });

  it("draws the target's token as one more child of the accepted path's last node", () => {
    const bonus = layoutTree({ parents: [-1, 0, 1], endParent: 2 });
    expect(bonus.cols).toBe(5);
    expect(bonus.items.find((i) => i.id === 'end')).toMatchObject({ parent: 2, col: 4, row: 0 });
    const correction = layoutTree({ parents: [-1, -1], endParent: -1 });
    expect(correction.rows).toBe(3);
    expect(correction.items.find((i) => i.id === 'end')).toMatchObject({ col: 1, row: 2 });
    // a depth-8 chain is 10 columns with the root and the target's token
    expect(layoutTree({ parents: [-1, 0, 1, 2, 3, 4, 5, 6], endParent: 7 }).cols).toBe(10);
    expect(() => layoutTree({ parents: [1, -1] })).toThrow(/not listed before/);
  });
});

describe("a step's tree from the events", () => {
  it('reads nodes, verdicts, the accepted path and the correction as far as the replay has got', () => {
    const events = treeEvents();
    const whole = treeAtStep(events, 1, events.length)!;
    expect(whole.nodes.map((n) => [n.text, n.verdict])).toEqual([
      [' A', 'rejected'],
      [' B', 'accepted'],
      [' C', 'unchecked'],
      [' D', 'rejected'],
    ]);
    expect(whole.accepted).toEqual([1]);
    expect(whole.end).toMatchObject({ parent: 1, text: ' E', kind: 'correction' });
    expect(whole.verify).toBe('mask');
    // two drafts on screen: the structure is known, two nodes drawn, nothing judged yet
    const drafting = treeAtStep(events, 1, 3)!;
    expect(drafting.nodes.filter((n) => n.drafted)).toHaveLength(2);
    expect(drafting.nodes.every((n) => n.verdict === 'pending')).toBe(true);
    expect(drafting.accepted).toEqual([]);
    expect(drafting.end).toBeNull();
    // verified, the correction not emitted yet
    const verified = treeAtStep(events, 1, 6)!;
    expect(verified.accepted).toEqual([1]);
    expect(verified.end).toBeNull();
    expect(treeAtStep(events, 0, events.length)).toBeNull();
    expect(treeAtStep(events, 2, events.length)).toBeNull();
    expect(latestTreeStep(events, events.length)).toBe(1);
    expect(latestTreeStep(events, 5)).toBeNull();
    expect(hasTrees(events)).toBe(true);
    expect(pendingTokenText(events, 1)).toBe('(prompt)');
    expect(pendingTokenText(events, 2)).toBe(' E');
  });

  it('follows accepted children from the root only', () => {
    expect(
      acceptedPath([
        { parent: -1, verdict: 'rejected' },
        { parent: -1, verdict: 'accepted' },
        { parent: 0, verdict: 'accepted' },
        { parent: 1, verdict: 'accepted' },
      ]),
    ).toEqual([1, 3]);
  });

  it('the stream marks the accepted sibling, not the first draft at its position', () => {
    const builder = new StreamBuilder();
    for (const event of treeEvents()) builder.apply(event);
    const output = builder.tokens.filter((t) => t.outputIndex !== null);
    expect(output.map((t) => [t.text, t.kind])).toEqual([
      [' B', 'accepted'],
      [' E', 'correction'],
    ]);
    expect(builder.tokens.find((t) => t.text === ' A')?.kind).toBe('rejected');
  });

  it("the steps CSV gives a tree's verify rows their node, parent and depth; a chain's file is unchanged", () => {
    const run = {
      promptIndex: 0,
      prompt: 'p',
      target: 't',
      draft: 'd',
      mode: 'speculative',
      k: 2,
      policy: 'fixed',
      drafter: 'model',
      repeat: 0,
    };
    const lines = stepsCsv(treeEvents(), run).trim().split('\n');
    expect(lines[0]!.endsWith(',verdict,draftProb,targetProb,node,parent,depth')).toBe(true);
    const verifyRows = lines.filter((l) => l.includes(',verify,'));
    expect(verifyRows).toHaveLength(4);
    expect(verifyRows[3]!.endsWith(',rejected,0.6,0.05,3,1,2')).toBe(true);
    expect(verifyRows[0]!.endsWith(',rejected,0.5,0.1,0,-1,1')).toBe(true);
    const chain = treeEvents().map((e) =>
      e.type === 'verify' ? { ...e, tree: undefined } : e,
    ) as EngineEvent[];
    expect(stepsCsv(chain, run).split('\n')[0]!.endsWith(',targetProb')).toBe(true);
  });
});

describe('token trees in the set-up', () => {
  it('adds shapes and budgets once each within the limits, and says why otherwise', () => {
    expect(addTreeShapes([], 0, '3,2,1; 2,2,2')).toEqual({
      ok: true,
      values: [
        [3, 2, 1],
        [2, 2, 2],
      ],
    });
    expect(addTreeShapes([[3, 2, 1]], 1, '3, 2, 1')).toMatchObject({ ok: false });
    expect(addTreeShapes([], 0, '3,x')).toMatchObject({ ok: false, message: /whole numbers/ });
    expect(addTreeShapes([], 0, '8,8')).toMatchObject({ ok: false, message: /more than 64/ });
    expect(addTreeShapes([], 0, '1,1,1,1,1,1,1,1,1')).toMatchObject({
      ok: false,
      message: /deeper/,
    });
    expect(addTreeBudgets([16], 1, '8, 32')).toEqual({ ok: true, values: [8, 16, 32] });
    expect(addTreeBudgets([], 0, '65')).toMatchObject({ ok: false, message: /1 to 64/ });
    expect(addTreeBudgets([], 15, '4, 8')).toMatchObject({ ok: false, message: /At most 16/ });
  });

  it('refuses a node budget with sampling, each with what to change', () => {
    const ok = { sampling: false, budgets: false, acceptance: false };
    expect(treeRefusal(ok)).toBeNull();
    // static shapes sample (recursive rejection sampling); a budget's best paths are no draws
    expect(treeRefusal({ ...ok, sampling: true })).toBeNull();
    expect(treeRefusal({ ...ok, budgets: true })).toBeNull();
    expect(treeRefusal({ ...ok, sampling: true, budgets: true })).toMatch(
      /node budget.*choose Greedy under Decoding, or remove the budgets/,
    );
    // greedy static shapes run under controlled acceptance (renderer-tree-acceptance.test.ts)
    expect(treeRefusal({ ...ok, acceptance: true })).toBeNull();
  });

  it('the protocol takes shapes, budgets and the verification within the limits', () => {
    const base = {
      pair: {
        target: { source: null, dtype: 'fp32', ep: 'auto' },
        draft: { source: null, dtype: 'fp32', ep: 'auto' },
        offline: false,
      },
      prompts: ['p'],
      maxNewTokens: 8,
      ks: [3],
      repeats: 1,
      policies: ['fixed'],
      drafters: ['model'],
      pMin: 0.5,
      sampling: null,
    };
    const ok = SweepSettings.safeParse({
      ...base,
      trees: [[3, 2, 1]],
      treeBudgets: [16],
      treeVerify: ['mask', 'rows'],
    });
    expect(ok.success).toBe(true);
    expect(SweepSettings.safeParse({ ...base, trees: [[8, 8]] }).success).toBe(false);
    expect(SweepSettings.safeParse({ ...base, treeBudgets: [0] }).success).toBe(false);
    expect(SweepSettings.safeParse({ ...base, treeVerify: ['tree'] }).success).toBe(false);
  });
});

describe('trees against chains', () => {
  it('one point per configuration from the summary, series by kind, the best ringed', () => {
    const tree = { shape: [3, 2, 1], verify: 'mask' as const, nodesPerStep: [15] };
    // three repeats, so the paired verdict can name a best
    const rows = [0, 1, 2].flatMap((repeat) => [
      runRow({ repeat, mode: 'baseline', k: null, timeS: 2, speedup: 1, tokensPerTargetPass: 1 }),
      runRow({ repeat, k: 3, timeS: 1.5, speedup: 2 / 1.5, tokensPerTargetPass: 2.1 }),
      runRow({ repeat, k: 3, timeS: 1.2, speedup: 2 / 1.2, tokensPerTargetPass: 2.9, tree }),
    ]);
    const summary = summarizeRows(rows);
    const best = badgeRow(summary);
    const data = treeScatterData(summary, best, false);
    const byLabel = Object.fromEntries(data.datasets.map((d) => [d.label, d.data]));
    expect(byLabel['Baseline']).toEqual([{ x: 1, y: 2, label: 'Baseline' }]);
    expect(byLabel['Chains (K)']).toEqual([{ x: 2.1, y: 1.5, label: 'K=3' }]);
    expect(byLabel['Trees']).toEqual([{ x: 2.9, y: 1.2, label: 'tree 3,2,1' }]);
    expect(best?.tree?.shape).toEqual([3, 2, 1]);
    expect(byLabel['Best (verdict)']).toEqual([{ x: 2.9, y: 1.2, label: 'tree 3,2,1' }]);
    // the K charts draw the chains only: a tree's K is its depth, not a point on the chain's curve
    const time = timeChartData(summary);
    expect(time.datasets[0]!.data).toEqual([{ x: 3, y: 1.5 }]);
  });
});
