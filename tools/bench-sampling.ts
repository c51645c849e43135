/**
 * `npm run bench:sampling`: the per-row cost of sampling at GPT-2's 50,257 ids. `warp` (top-k and
 * top-p by partial selection) against the full sort it replaced, interleaved in one run, medians
 * of many rows, as ratios; and whether both keep exactly the same tokens.
 *
 * Rows: Zipf-shaped rows (probability falling as rank^-s, shuffled over the ids), the shape
 * language-model rows have: s = 1.5 puts the 0.95 nucleus at about 200 ids, as is common;
 * s = 1.1 is a heavy tail whose nucleus holds thousands. And a flat row (random-weight models,
 * the worst case for top-p, which then keeps most of the vocabulary).
 */
import { median } from '../src/shared/stats';
import { seededRandom, warp, type SamplingParams } from '../src/core/decoding/sampling';

const VOCAB = 50257;
const ROWS = 40;
const TARGET_MS = 1.5;

/** The previous warp: the same softmax, then a full sort of every id, kept as the reference. */
function warpFullSort(row: Float32Array, s: SamplingParams): Float64Array {
  const n = row.length;
  const p = warp(row, { ...s, topK: 0, topP: 1 });
  if (!(s.topK > 0 && s.topK < n) && s.topP >= 1) return p;
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
  return p;
}

type Shape = 'zipf 1.5' | 'zipf 1.1' | 'flat';

function rows(kind: Shape, seed: number): Float32Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: ROWS }, () => {
    const row = new Float32Array(VOCAB);
    const ids = Array.from({ length: VOCAB }, (_, i) => i);
    for (let i = VOCAB - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [ids[i], ids[j]] = [ids[j]!, ids[i]!];
    }
    for (let rank = 0; rank < VOCAB; rank++)
      row[ids[rank]!] =
        kind === 'flat' ? random() * 0.5 : -(kind === 'zipf 1.5' ? 1.5 : 1.1) * Math.log(rank + 1);
    return row;
  });
}

const settings: Array<[string, SamplingParams]> = [
  ['top-k 50', { temperature: 1, topK: 50, topP: 1, seed: 0 }],
  ['top-p 0.95', { temperature: 1, topK: 0, topP: 0.95, seed: 0 }],
  ['top-k 50, top-p 0.95', { temperature: 0.8, topK: 50, topP: 0.95, seed: 0 }],
  ['no top-k/top-p (softmax only)', { temperature: 1, topK: 0, topP: 1, seed: 0 }],
];

console.log(`Sampling work per row at ${VOCAB} ids: medians over ${ROWS} rows, interleaved`);
console.log(
  'row      | setting                       | ours ms | full sort ms | ratio | same tokens kept',
);
const worst = new Map<string, number>();
for (const [seed, kind] of (['zipf 1.5', 'zipf 1.1', 'flat'] as const).entries()) {
  const data = rows(kind, seed + 1);
  for (const [name, s] of settings) {
    const ours: number[] = [];
    const full: number[] = [];
    let sameTokens = true;
    let maxRel = 0;
    for (const row of data) {
      let t = performance.now();
      const a = warp(row, s);
      ours.push(performance.now() - t);
      t = performance.now();
      const b = warpFullSort(row, s);
      full.push(performance.now() - t);
      for (let i = 0; i < VOCAB; i++) {
        if (a[i]! > 0 !== b[i]! > 0) sameTokens = false;
        if (b[i]! > 0) maxRel = Math.max(maxRel, Math.abs(a[i]! / b[i]! - 1));
      }
    }
    const o = median(ours);
    const fs = median(full);
    if (s.topK > 0 || s.topP < 1) worst.set(`${kind}:${name}`, o);
    console.log(
      `${kind.padEnd(8)} | ${name.padEnd(29)} | ${o.toFixed(3).padStart(7)} | ${fs.toFixed(3).padStart(12)} | ${(fs / o).toFixed(1).padStart(4)}x | ${sameTokens ? 'yes' : 'NO'}, probabilities within ${maxRel.toExponential(0)}`,
    );
  }
}
const verdict = (label: string, keys: string[]): void => {
  const ms = Math.max(...keys.map((k) => worst.get(k)!));
  console.log(
    `${label}: at most ${ms.toFixed(2)} ms a row (target ${TARGET_MS} ms): ${ms <= TARGET_MS ? 'met' : 'NOT met'}.`,
  );
};
verdict(
  'top-k 50, every row shape',
  ['zipf 1.5', 'zipf 1.1', 'flat'].map((k) => `${k}:top-k 50`),
);
verdict('top-p 0.95, nucleus within 256 ids (zipf 1.5)', ['zipf 1.5:top-p 0.95']);
verdict('top-p 0.95, heavy tail or flat (thousands of ids kept)', [
  'zipf 1.1:top-p 0.95',
  'flat:top-p 0.95',
]);
