/**
 * The inputs of one decoder pass besides the cache, as the architecture names them and the graph
 * takes them. Used on the hot path (causalLm.ts) and by the provider probe's child, which imports
 * nothing but onnxruntime-node and modules like this one.
 */
import * as ort from 'onnxruntime-node';
import type { PassInput, PassInputs } from './architectures/architecture';

/**
 * The tree_bias a graph that has one is fed on a pass without a tree: `scalar`, one zero
 * broadcast over every score (the export's rewrite adds it with an Add); `full`, zeros of
 * [1, 1, sequence, total] (the fused rebuild's MultiHeadAttention takes no smaller bias).
 * Adding exact zeros leaves every score, and so every logit, as the graph without it gives them.
 */
export type ZeroTreeBias = 'scalar' | 'full';

/** the name of the input a tree graph has (treeMaskGraph.ts TREE_BIAS) */
const TREE_BIAS = 'tree_bias';

export class PassFeeds {
  /**
   * a long row of ones: each pass's attention mask is a prefix view of it, not an allocation;
   * grown (doubling, up to the context) as the sequence grows, never sized from the context
   * up front: a context read from config.json is not memory to spend before the first pass
   */
  private ones = new BigInt64Array(0);
  /** the inputs fed, in the architecture's order: the required ones and the optional the graph has */
  private readonly fed: readonly PassInput[];
  /** zeros for a `full` zero bias, grown as the ones are; views of it are fed */
  private zeros = new Float32Array(0);
  /** the tree_bias fed on a pass without a tree; null: the graph has no tree_bias */
  private readonly zeroBias: ZeroTreeBias | null;
  private readonly scalarZero = new ort.Tensor('float32', new Float32Array(1), [1, 1, 1, 1]);

  constructor(
    inputs: PassInputs,
    graphInputs: readonly string[],
    private readonly maxPositions: number,
    /** how a graph with a tree_bias input is fed it on a pass without a tree */
    zeroBias: ZeroTreeBias = 'full',
  ) {
    const has = new Set(graphInputs);
    this.fed = [...inputs.required, ...inputs.optional.filter((name) => has.has(name))];
    this.zeroBias = has.has(TREE_BIAS) ? zeroBias : null;
  }

  /** a pass's zero tree_bias over n new and `total` tokens */
  private zeroBiasFor(n: number, total: number): ort.Tensor {
    if (this.zeroBias === 'scalar') return this.scalarZero;
    const length = n * total;
    if (this.zeros.length < length)
      this.zeros = new Float32Array(Math.max(length, 2 * this.zeros.length));
    return new ort.Tensor('float32', this.zeros.subarray(0, length), [1, 1, n, total]);
  }

  /** the first `length` ones of the row, growing it when it is shorter */
  private onesFor(length: number): BigInt64Array {
    if (this.ones.length < length) {
      const grown = Math.min(this.maxPositions, Math.max(length, 2 * this.ones.length, 64));
      this.ones = new BigInt64Array(Math.max(grown, length)).fill(1n);
    }
    return this.ones.subarray(0, length);
  }

  /** the required inputs a graph lacks */
  static missing(inputs: PassInputs, graphInputs: readonly string[]): PassInput[] {
    const has = new Set(graphInputs);
    return inputs.required.filter((name) => !has.has(name));
  }

  /**
   * the feeds for `tokens` after `past` cached ones (the cache slots are added by the caller);
   * with `batch` rows, `tokens` holds them row after row (a token tree's paths), each at the
   * same positions
   */
  build(
    tokens: readonly number[],
    past: number,
    batch = 1,
    /** each token's position where they are not consecutive (a token tree's nodes: its depth) */
    positions?: readonly number[],
    /** a token tree's mask, [n, past + n] row-major, fed as the tree graph's tree_bias */
    treeBias?: Float32Array,
  ): Record<string, ort.Tensor> {
    const n = tokens.length / batch;
    const feeds: Record<string, ort.Tensor> = {};
    if (treeBias) feeds.tree_bias = new ort.Tensor('float32', treeBias, [1, 1, n, past + n]);
    else if (this.zeroBias) feeds.tree_bias = this.zeroBiasFor(n, past + n);
    for (const name of this.fed) {
      switch (name) {
        case 'input_ids': {
          const ids = new BigInt64Array(tokens.length);
          for (let i = 0; i < tokens.length; i++) ids[i] = BigInt(tokens[i]!);
          feeds.input_ids = new ort.Tensor('int64', ids, [batch, n]);
          break;
        }
        case 'attention_mask':
          // A prefix view of a long row of ones: same buffer start, no allocation.
          feeds.attention_mask = new ort.Tensor('int64', this.onesFor(batch * (past + n)), [
            batch,
            past + n,
          ]);
          break;
        case 'position_ids': {
          const pos = new BigInt64Array(tokens.length);
          for (let i = 0; i < tokens.length; i++) pos[i] = BigInt(positions?.[i] ?? past + (i % n));
          feeds.position_ids = new ort.Tensor('int64', pos, [batch, n]);
          break;
        }
        case 'use_cache_branch':
          feeds.use_cache_branch = new ort.Tensor('bool', [past > 0], [1]);
          break;
      }
    }
    return feeds;
  }
}
