/**
 * Autoregressive decoding with the target alone, greedy or sampled: the baseline every speedup
 * is against.
 */
import type { EngineEvent } from '../../shared/events';
import { argmax, probOf } from '../model/argmax';
import type { ModelPair } from '../model/pair';
import { DecodeRun, type RunOptions } from './decodeRun';
import { applyRepetition } from './repetition';
import { sample, warp } from './sampling';

export class BaselineRun extends DecodeRun {
  private readonly gap = new Float64Array(1);

  /**
   * useCache false re-runs the whole sequence every step with no KV cache, as the exercise's
   * notebook does, so users can see what the cache is worth.
   */
  constructor(
    pair: ModelPair,
    options: RunOptions,
    private readonly useCache = true,
  ) {
    super(pair, useCache ? 'baseline' : 'baseline-no-cache', null, options);
  }

  protected async runStep(out: EngineEvent[]): Promise<void> {
    const lm = this.pair.target.lm;
    if (!this.useCache) lm.reset();
    // Greedy with no repetition controls needs only the argmax: on a device-resident model
    // that is all the pass reads back.
    const plain = !this.sampling && !this.repetition;
    const logits = await lm.forward(this.context.slice(lm.length), plain ? {} : undefined);
    const last = logits.rows - 1;
    if (plain) {
      const token = logits.argmax(last, this.gap);
      const prob = this.reportProbabilities ? logits.prob(last, token) : null;
      this.emit(out, token, 'target', null, prob);
      return;
    }
    const row = logits.row(last);
    if (this.repetition) applyRepetition(row, this.repetition, this.context);
    if (this.sampling) {
      const p = warp(row, this.sampling);
      const token = sample(p, this.random);
      this.emit(out, token, 'target', null, p[token]!);
      return;
    }
    const token = argmax(row);
    this.emit(out, token, 'target', null, this.reportProbabilities ? probOf(row, token) : null);
  }
}
