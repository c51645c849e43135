/**
 * The exact rule for sampled token trees (treeSampling.ts), on toy models small enough that the
 * target's distribution over whole 3-token sequences is known: siblings drawn without replacement
 * and walked by recursive rejection sampling emit sequences distributed as the target's own, by a
 * chi-square test (0.1% false alarms); a broken residual update, or i.i.d. siblings under the same
 * rule, fail it.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom, warp, sample, type SamplingParams } from '../../src/core/decoding/sampling';
import { TokenTree } from '../../src/core/decoding/tree/tokenTree';
import {
  drawWithoutReplacement,
  sampledWalker,
  type ResidualUpdate,
} from '../../src/core/decoding/tree/treeSampling';
import { Logits } from '../../src/core/model/logits';
import { chiSquare, chiSquareCritical, chiSquarePValue } from '../support/chiSquare';

const V = 5;
const LENGTH = 3;
const STEPS = 60_000;

/** a toy model's logits after a path: fixed pseudo-random values per (model, path) */
function toyModel(seed: number, spread: number): (path: readonly number[]) => Float32Array {
  const rows = new Map<string, Float32Array>();
  return (path) => {
    const key = path.join(',');
    let row = rows.get(key);
    if (!row) {
      const random = seededRandom(seed * 7919 + path.reduce((h, t) => h * 31 + t + 1, 17));
      row = Float32Array.from({ length: V }, () => spread * (random() - 0.5));
      rows.set(key, row);
    }
    return row;
  };
}

interface Setup {
  params: SamplingParams;
  target: (path: readonly number[]) => Float32Array;
  draft: (path: readonly number[]) => Float32Array;
}

/**
 * One tree step of `shape` after the empty context, then plain target draws up to LENGTH tokens:
 * the sequence a run would emit. `iid`: siblings drawn with replacement (the wrong drafting).
 */
function emitted(
  s: Setup,
  shape: number[],
  random: () => number,
  residual?: ResidualUpdate,
  iid = false,
): number[] {
  const tree = new TokenTree();
  let parents = [-1];
  for (const branching of shape) {
    const next: number[] = [];
    for (const parent of parents) {
      const q = warp(s.draft(tree.pathTokens(parent)), s.params);
      tree.setChildDist(parent, q);
      const tokens = iid
        ? Array.from({ length: branching }, () => sample(q, random))
        : drawWithoutReplacement(q, branching, random);
      for (const t of tokens) next.push(tree.add(parent, t, q[t]!));
    }
    parents = next;
  }
  // row 0: after the root; row n + 1: after node n
  const data = new Float32Array((tree.size + 1) * V);
  for (let node = -1; node < tree.size; node++)
    data.set(s.target(tree.pathTokens(node)), (node + 1) * V);
  const logits = new Logits(tree.size + 1, V, data);
  const walk = sampledWalker(
    { params: s.params, random, ...(residual ? { residual } : {}) },
    false,
  )(tree, logits, (node) => node + 1, []);
  const out = walk.accepted.map((n) => tree.nodes[n]!.tokenId);
  out.push(walk.targetTokenIds.at(-1)!);
  while (out.length < LENGTH) out.push(sample(warp(s.target(out), s.params), random));
  return out.slice(0, LENGTH);
}

/** the target's probability of every LENGTH-token sequence, indexed as base-V numbers */
function targetJoint(s: Setup): Float64Array {
  const joint = new Float64Array(V ** LENGTH);
  const walk = (path: number[], prob: number): void => {
    if (path.length === LENGTH) {
      joint[path.reduce((i, t) => i * V + t, 0)] = prob;
      return;
    }
    const p = warp(s.target(path), s.params);
    for (let t = 0; t < V; t++) if (p[t]! > 0) walk([...path, t], prob * p[t]!);
  };
  walk([], 1);
  return joint;
}

function fit(
  s: Setup,
  shape: number[],
  seed: number,
  residual?: ResidualUpdate,
  iid = false,
): { stat: number; df: number; critical: number; pValue: number } {
  const random = seededRandom(seed);
  const counts = new Map<number, number>();
  for (let i = 0; i < STEPS; i++) {
    const seq = emitted(s, shape, random, residual, iid);
    const bin = seq.reduce((b, t) => b * V + t, 0);
    counts.set(bin, (counts.get(bin) ?? 0) + 1);
  }
  const { stat, df } = chiSquare(counts, targetJoint(s), STEPS);
  const r = { stat, df, critical: chiSquareCritical(df), pValue: chiSquarePValue(stat, df) };
  console.info(
    `tree ${shape.join(',')}${residual ? ', broken residual' : ''}${iid ? ', i.i.d.' : ''}: ${JSON.stringify(r)}`,
  );
  return r;
}

const SETUPS: Array<[string, Setup]> = [
  [
    'full support, the draft far from the target',
    {
      params: { temperature: 1, topK: 0, topP: 1, seed: 0 },
      target: toyModel(1, 4),
      draft: toyModel(2, 4),
    },
  ],
  [
    'top-3 warps: tokens the draft never proposes, and proposals the target never emits',
    {
      params: { temperature: 0.8, topK: 3, topP: 1, seed: 0 },
      target: toyModel(3, 3),
      draft: toyModel(4, 3),
    },
  ],
];

describe('recursive rejection sampling over a token tree', () => {
  for (const [name, setup] of SETUPS) {
    for (const shape of [
      [3, 2],
      [2, 2, 2],
      [4, 1],
    ]) {
      it(`${name}: tree ${shape.join(',')} emits the target's 3-token sequences`, () => {
        const r = fit(setup, shape, 101);
        expect(r.df).toBeGreaterThan(10);
        expect(r.stat, JSON.stringify(r)).toBeLessThan(r.critical);
      });
    }
  }

  it('fails the test when the residual is not updated after a rejected sibling', () => {
    const [, setup] = SETUPS[0]!;
    const r = fit(setup, [3, 2], 101, (p) => p);
    expect(r.stat, JSON.stringify(r)).toBeGreaterThan(r.critical);
  });

  it('fails the test when the siblings are drawn i.i.d. (with replacement) under the same rule', () => {
    const [, setup] = SETUPS[0]!;
    const r = fit(setup, [3, 2], 101, undefined, true);
    expect(r.stat, JSON.stringify(r)).toBeGreaterThan(r.critical);
  });

  it('draws distinct tokens, never one the distribution leaves out, and stops when q runs out', () => {
    const random = seededRandom(5);
    const q = Float64Array.from([0.5, 0, 0.3, 0.2, 0]);
    for (let i = 0; i < 200; i++) {
      const drawn = drawWithoutReplacement(q, 4, random);
      expect(drawn).toHaveLength(3);
      expect(new Set(drawn).size).toBe(3);
      expect(drawn.every((t) => q[t]! > 0)).toBe(true);
    }
    // the first draw follows q itself
    const first = [0, 0, 0, 0, 0];
    for (let i = 0; i < 20_000; i++) first[drawWithoutReplacement(q, 2, random)[0]!]!++;
    expect(first[0]! / 20_000).toBeCloseTo(0.5, 1);
    expect(first[3]! / 20_000).toBeCloseTo(0.2, 1);
  });
});
