/**
 * Sampling: temperature, top-k and top-p applied to a logits row, a seeded random source, and
 * the modified rejection sampling that makes speculative sampling lossless (Leviathan et al.
 * 2023; Chen et al. 2023): accept a draft token x with probability min(1, p(x) / q(x)); at the
 * first rejection sample from normalise(max(0, p - q)); when all drafts pass, sample the bonus
 * from p. The output then follows the target's own (warped) distribution exactly.
 */
import { SpecDecError, type SettingName } from '../errors';

import type { SamplingParams } from '../../shared/decoding';
export type { SamplingParams };

export function checkSampling(s: SamplingParams): void {
  const bad = (setting: SettingName, msg: string): never => {
    throw new SpecDecError('BAD_ARGUMENT', msg, [setting]);
  };
  if (!(s.temperature > 0 && s.temperature <= 10))
    bad('temperature', `The temperature must be above 0 and at most 10 (got ${s.temperature}).`);
  if (!Number.isInteger(s.topK) || s.topK < 0)
    bad('topK', `Top-k must be a whole number, 0 for off (got ${s.topK}).`);
  if (!(s.topP > 0 && s.topP <= 1))
    bad('topP', `Top-p must be above 0 and at most 1 (got ${s.topP}).`);
  if (!Number.isInteger(s.seed)) bad('seed', `The seed must be a whole number (got ${s.seed}).`);
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

/** The sampling distribution of one logits row: softmax(logits / T), then top-k and top-p. */
export function warp(row: Float32Array, s: SamplingParams): Float64Array {
  const n = row.length;
  const p = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (row[i]! > max) max = row[i]!;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += p[i] = Math.exp((row[i]! - max) / s.temperature);
  for (let i = 0; i < n; i++) p[i]! /= sum;
  if ((s.topK > 0 && s.topK < n) || s.topP < 1) {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => p[b]! - p[a]!);
    const keep = s.topK > 0 ? Math.min(s.topK, n) : n;
    let cum = 0;
    let kept = 0;
    for (; kept < keep; kept++) {
      cum += p[order[kept]!]!;
      if (cum >= s.topP) {
        kept++;
        break;
      }
    }
    for (let j = kept; j < n; j++) p[order[j]!] = 0;
    for (let i = 0; i < n; i++) p[i]! /= cum;
  }
  return p;
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
