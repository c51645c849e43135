/**
 * The logits of one pass's new positions, as the decoding loops read them: the rows themselves,
 * or (on a device-resident model) only the per-row greedy verdicts the head graph computed.
 */
import { argmaxWithMargin, probOf } from './argmax';

/**
 * What a greedy pass needs back: per row, the argmax, its margin and probability, and the
 * probability of `pick[row]` (a draft token; absent or -1: none). On a device-resident model this
 * is all that is read; elsewhere the rows come back anyway and these are computed from them.
 */
export interface GreedyRead {
  pick?: readonly number[];
}

/** The per-row values the head graph computes on the device (deviceGraphs.ts). */
export interface DeviceVerdicts {
  ids: BigInt64Array;
  top2: Float32Array;
  lse: Float32Array;
  picked: Float32Array;
  pick: BigInt64Array;
}

/**
 * The logits of the new positions of one pass: the rows, or their greedy verdicts. A row is read
 * over its first `vocab` ids: all of the model's rows, or in a pair whose logit widths differ the
 * ids both models have (pair.ts), so that every argmax, probability and draw is over those.
 */
export class Logits {
  constructor(
    readonly rows: number,
    /** the ids each row is read over */
    readonly vocab: number,
    private readonly rowData: Float32Array | null,
    private readonly verdicts: DeviceVerdicts | null = null,
    /** the values one row holds in `rowData` (the model's logit width): vocab or more */
    readonly stride: number = vocab,
  ) {
    if (stride < vocab)
      throw new Error(`a row of ${stride} logits cannot be read over ${vocab} ids`);
  }

  /** all rows, row-major [rows, stride] (only when the pass read rows) */
  get data(): Float32Array {
    if (!this.rowData)
      throw new Error('this pass read greedy verdicts only: forward() without them');
    return this.rowData;
  }

  /** row i over the ids it is read over (a view: changing it changes the pass's logits) */
  row(i: number): Float32Array {
    return this.data.subarray(i * this.stride, i * this.stride + this.vocab);
  }

  /** the greedy choice of row i (the first on ties); the top-two gap goes to gap[0] */
  argmax(i: number, gap: Float64Array): number {
    const v = this.verdicts;
    if (!v) return argmaxWithMargin(this.row(i), gap);
    gap[0] = v.top2[2 * i]! - v.top2[2 * i + 1]!;
    return Number(v.ids[i]!);
  }

  /** softmax probability of `token` in row i (on the device: the argmax or the picked token) */
  prob(i: number, token: number): number {
    const v = this.verdicts;
    if (!v) return probOf(this.row(i), token);
    if (Number(v.pick[i]!) === token) return Math.exp(v.picked[i]! - v.lse[i]!);
    if (Number(v.ids[i]!) === token) return Math.exp(v.top2[2 * i]! - v.lse[i]!);
    throw new Error(`row ${i}: token ${token} is neither the argmax nor the picked token`);
  }
}
