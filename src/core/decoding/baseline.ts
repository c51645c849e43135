/** Greedy autoregressive decoding with the target alone: the baseline every speedup is against. */
import type { EngineEvent } from '../../shared/events';
import { argmax, probOf } from '../model/argmax';
import type { ModelPair } from '../model/pair';
import { DecodeRun, type RunOptions } from './decodeRun';
import { applyRepetition } from './repetition';
import { sample, warp } from './sampling';

export class BaselineRun extends DecodeRun {
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
    const logits = await lm.forward(this.context.slice(lm.length));
    const row = logits.row(logits.rows - 1);
    if (this.repetition) applyRepetition(row, this.repetition, this.context);
    this.m.targetOnlyTokens++;
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
