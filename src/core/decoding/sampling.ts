/**
 * Sampling: temperature, top-k and top-p applied to a logits row, a seeded random source, and
 * the modified rejection sampling that makes speculative sampling lossless (Leviathan et al.
 * 2023; Chen et al. 2023): accept a draft token x with probability min(1, p(x) / q(x)); at the
 * first rejection sample from normalise(max(0, p - q)); when all drafts pass, sample the bonus
 * from p. The output then follows the target's own (warped) distribution exactly.
 */
import { MAX_SEED, MAX_TEMPERATURE, MAX_TOP_K } from '../../shared/limits';
import { SpecDecError, type SettingName } from '../errors';

import type { SamplingParams } from '../../shared/decoding';
export type { SamplingParams };

export function checkSampling(s: SamplingParams): void {
  const bad = (setting: SettingName, msg: string): never => {
    throw new SpecDecError('BAD_ARGUMENT', msg, [setting]);
  };
  if (!(s.temperature > 0 && s.temperature <= MAX_TEMPERATURE))
    bad(
      'temperature',
      `The temperature must be above 0 and at most ${MAX_TEMPERATURE} (got ${s.temperature}).`,
    );
  if (!Number.isInteger(s.topK) || s.topK < 0 || s.topK > MAX_TOP_K)
    bad('topK', `Top-k must be a whole number from 0 (off) to ${MAX_TOP_K} (got ${s.topK}).`);
  if (!(s.topP > 0 && s.topP <= 1))
    bad('topP', `Top-p must be above 0 and at most 1 (got ${s.topP}).`);
  // the generator keeps 32 bits: a seed outside 0..MAX_SEED would alias another one
  if (!Number.isInteger(s.seed) || s.seed < 0 || s.seed > MAX_SEED)
    bad('seed', `The seed must be a whole number from 0 to ${MAX_SEED} (got ${s.seed}).`);
}

/** mulberry32: a small, fast, well-distributed 32-bit generator; plenty for sampling tokens */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The sampling distribution of one logits row: softmax(logits / T), then top-k and top-p (the
 * smallest set of most probable tokens, lower id first on ties, holding at least top-p of the
 * mass, at most top-k of them), renormalised. The whole vocabulary is never sorted: the most
 * probable 256 are picked in one pass with a small heap and ordered, which holds the nucleus of
 * almost every language-model row; only a flatter row falls back to `nucleus`.
 */
export function warp(row: Float32Array, s: SamplingParams): Float64Array {
  const n = row.length;
  const p = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (row[i]! > max) max = row[i]!;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += p[i] = Math.exp((row[i]! - max) / s.temperature);
  for (let i = 0; i < n; i++) p[i]! /= sum;
  const keep = s.topK > 0 ? Math.min(s.topK, n) : n;
  if (keep === n && s.topP >= 1) return p;
  const order = topOrder(p, Math.min(keep, HEAP_SIZE));
  let cum = 0;
  let kept = 0;
  while (kept < order.length) {
    cum += p[order[kept++]!]!;
    if (cum >= s.topP) break;
  }
  if (cum >= s.topP || kept === keep) return keepOnly(p, order.subarray(0, kept), cum);
  const wide = nucleus(p, keep, s.topP);
  return keepOnly(p, wide.kept, wide.mass);
}

const HEAP_SIZE = 256;

/** p with only the `kept` ids, each divided by `mass` */
function keepOnly(p: Float64Array, kept: Int32Array, mass: number): Float64Array {
  const values = new Float64Array(kept.length);
  for (let j = 0; j < kept.length; j++) values[j] = p[kept[j]!]! / mass;
  p.fill(0);
  for (let j = 0; j < kept.length; j++) p[kept[j]!] = values[j]!;
  return p;
}

/**
 * The m most probable ids, most probable first and lower id first on ties (the first m of a
 * full sort), in one pass over the row with a heap of m: O(n log m), mostly O(n) comparisons.
 */
export function topOrder(p: Float64Array, m: number): Int32Array {
  const heap = new Int32Array(m);
  let size = 0;
  // the heap's root is its worst id: the least probable, the higher id on ties
  const worse = (a: number, b: number): boolean => p[a]! < p[b]! || (p[a] === p[b] && a > b);
  const siftDown = (at: number): void => {
    for (;;) {
      const l = 2 * at + 1;
      if (l >= size) return;
      const r = l + 1;
      const c = r < size && worse(heap[r]!, heap[l]!) ? r : l;
      if (!worse(heap[c]!, heap[at]!)) return;
      const t = heap[c]!;
      heap[c] = heap[at]!;
      heap[at] = t;
      at = c;
    }
  };
  for (let i = 0; i < p.length && m > 0; i++) {
    if (size < m) {
      let at = size++;
      heap[at] = i;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (!worse(heap[at]!, heap[parent]!)) break;
        const t = heap[parent]!;
        heap[parent] = heap[at]!;
        heap[at] = t;
        at = parent;
      }
    } else if (p[i]! > p[heap[0]!]!) {
      // a later id with an equal probability is never better (lower id first on ties)
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => p[b]! - p[a]! || a - b);
}

/**
 * The shortest prefix of the ids ordered by weight (largest first, lower id first on ties) that
 * holds at least `need` of the weight, cut at `limit` ids; and the weight it holds. Found by
 * three-way partitioning around a pivot, as quickselect does, so only where the boundary falls is
 * ever looked at closely: expected O(n), and a sort of the last few dozen ids.
 */
export function nucleus(
  w: Float64Array,
  limit: number,
  need: number,
): { kept: Int32Array; mass: number } {
  const idx = new Int32Array(w.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  const kept: number[] = [];
  let mass = 0;
  let lo = 0;
  let hi = idx.length;
  const full = (): boolean => kept.length >= limit || mass >= need;
  const take = (from: number, to: number): void => {
    for (let i = from; i < to && !full(); i++) {
      kept.push(idx[i]!);
      mass += w[idx[i]!]!;
    }
  };
  while (!full() && lo < hi) {
    if (hi - lo <= 32) {
      const rest = Array.from(idx.subarray(lo, hi)).sort((a, b) => w[b]! - w[a]! || a - b);
      idx.set(rest, lo);
      take(lo, hi);
      break;
    }
    const a = w[idx[lo]!]!;
    const b = w[idx[(lo + hi) >>> 1]!]!;
    const c = w[idx[hi - 1]!]!;
    const pivot = a > b ? (b > c ? b : a > c ? c : a) : a > c ? a : b > c ? c : b;
    // [lo, gt) above the pivot, [gt, i) equal, [lt, hi) below (Dijkstra's three-way partition)
    let gt = lo;
    let i = lo;
    let lt = hi;
    let above = 0;
    while (i < lt) {
      const v = w[idx[i]!]!;
      if (v > pivot) {
        above += v;
        const t = idx[gt]!;
        idx[gt++] = idx[i]!;
        idx[i++] = t;
      } else if (v < pivot) {
        const t = idx[--lt]!;
        idx[lt] = idx[i]!;
        idx[i] = t;
      } else i++;
    }
    if (kept.length + (gt - lo) >= limit || mass + above >= need) {
      hi = gt; // the boundary is among the ids above the pivot
      continue;
    }
    take(lo, gt); // all of them are kept
    idx.subarray(gt, lt).sort(); // ties at the pivot: lower id first
    take(gt, lt);
    lo = lt;
  }
  return { kept: Int32Array.from(kept), mass };
}

/** a token drawn from a distribution (which need not be normalised) */
export function sample(dist: Float64Array, random: () => number): number {
  let total = 0;
  for (let i = 0; i < dist.length; i++) total += dist[i]!;
  let r = random() * total;
  let last = 0;
  for (let i = 0; i < dist.length; i++) {
    if (dist[i]! <= 0) continue;
    last = i;
    r -= dist[i]!;
    if (r < 0) return i;
  }
  return last;
}

/** The correction after a rejection: a draw from normalise(max(0, p - q)). */
export function residualSample(p: Float64Array, q: Float64Array, random: () => number): number {
  const r = new Float64Array(p.length);
  let any = false;
  for (let i = 0; i < p.length; i++) {
    const d = p[i]! - q[i]!;
    if (d > 0) {
      r[i] = d;
      any = true;
    }
  }
  // p == q exactly would never reject; guard against float dust anyway.
  return sample(any ? r : p, random);
}

/**
 * The target's distribution after a rejection, normalise(max(0, p - q)), for a rule that tests
 * another proposal against it (a token tree's next sibling); p itself when nothing is left
 * (p == q exactly never rejects: only float dust gets here).
 */
export function residualDistribution(p: Float64Array, q: Float64Array): Float64Array {
  const r = new Float64Array(p.length);
  let total = 0;
  for (let i = 0; i < p.length; i++) {
    const d = p[i]! - q[i]!;
    if (d > 0) {
      r[i] = d;
      total += d;
    }
  }
  if (!(total > 0)) return p;
  for (let i = 0; i < r.length; i++) r[i]! /= total;
  return r;
}
