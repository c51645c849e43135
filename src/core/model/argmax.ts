/** Greedy choice and probabilities over one logits row. */

/** index of the largest value (the first one on ties, like torch.argmax) */
export function argmax(row: Float32Array): number {
  let best = 0;
  let bestVal = row[0]!;
  for (let i = 1; i < row.length; i++) {
    const v = row[i]!;
    if (v > bestVal) {
      bestVal = v;
      best = i;
    }
  }
  return best;
}

/**
 * argmax and the gap between the largest and second-largest logit (how close the greedy choice
 * was to a tie) in one pass; the gap is written to out[0].
 */
export function argmaxWithMargin(row: Float32Array, out: Float64Array): number {
  let best = 0;
  let a = row[0]!;
  let b = -Infinity;
  for (let i = 1; i < row.length; i++) {
    const v = row[i]!;
    if (v > a) {
      b = a;
      a = v;
      best = i;
    } else if (v > b) {
      b = v;
    }
  }
  out[0] = a - b;
  return best;
}

/** softmax probability of one token */
export function probOf(row: Float32Array, token: number): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  return Math.exp(row[token]! - max) / sum;
}

/**
 * The k largest values' indices, largest first; ties go to the lower index, so the first is
 * `argmax`'s choice (a token tree's first child is the chain's draft).
 */
export function topK(row: Float32Array, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (best.length === k && v <= row[best[k - 1]!]!) continue;
    // insertion after every index of an equal or larger value: the lower index stays first
    let at = best.length;
    while (at > 0 && row[best[at - 1]!]! < v) at--;
    best.splice(at, 0, i);
    if (best.length > k) best.pop();
  }
  return best;
}

/** log of the softmax's denominator: a token's probability is exp(row[token] - logSumExp(row)) */
export function logSumExp(row: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  return max + Math.log(sum);
}
