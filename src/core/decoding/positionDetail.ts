/**
 * What the models thought at one position of a finished run: the target's and the draft's most
 * likely next tokens with their probabilities, from one fresh pass of each over the context (the
 * prompt and the output before the position), under the run's own decoding (the sampling warp
 * and the repetition controls, as the run applied them). Only the app's step detail view asks
 * for it, one position at a time, so no run pays for it on its hot path.
 */
import type { RepetitionParams, SamplingParams } from '../../shared/decoding';
import type { ModelPair } from '../model/pair';
import { SpecDecError } from '../errors';
import { applyRepetition, repetitionActive } from './repetition';
import { warp } from './sampling';

export interface ProbeToken {
  tokenId: number;
  text: string;
  prob: number;
}

export interface ProbeResult {
  /** the top tokens, most likely first */
  target: ProbeToken[];
  /** null without a draft model */
  draft: ProbeToken[] | null;
  /** each model's probability of `token`, when one was asked about */
  targetProb: number | null;
  draftProb: number | null;
}

export interface PositionDetailOptions {
  /** the token at the position (a draft, or what was emitted), to report its probabilities */
  token: number | null;
  sampling: SamplingParams | null;
  repetition: RepetitionParams | null;
  /** how many top tokens (default 5) */
  top?: number;
}

/** the distribution a run drew from (sampling) or judged by (greedy: the plain softmax) */
function distribution(
  row: Float32Array,
  context: readonly number[],
  options: PositionDetailOptions,
): Float64Array {
  if (repetitionActive(options.repetition)) applyRepetition(row, options.repetition, context);
  if (options.sampling) return warp(row, options.sampling);
  let max = -Infinity;
  for (const v of row) if (v > max) max = v;
  const p = new Float64Array(row.length);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += p[i] = Math.exp(row[i]! - max);
  for (let i = 0; i < p.length; i++) p[i]! /= sum;
  return p;
}

function topTokens(p: Float64Array, n: number, text: (id: number) => string): ProbeToken[] {
  const best: number[] = [];
  for (let i = 0; i < p.length; i++) {
    if (best.length === n && p[i]! <= p[best[n - 1]!]!) continue;
    let at = best.length;
    while (at > 0 && p[best[at - 1]!]! < p[i]!) at--;
    best.splice(at, 0, i);
    if (best.length > n) best.pop();
  }
  return best.map((id) => ({ tokenId: id, text: text(id), prob: p[id]! }));
}

export async function probePosition(
  pair: ModelPair,
  context: readonly number[],
  options: PositionDetailOptions,
): Promise<ProbeResult> {
  if (context.length === 0 || context.length >= pair.nPositions) {
    throw new SpecDecError(
      'BAD_ARGUMENT',
      `A position to look at needs 1 to ${pair.nPositions - 1} tokens before it (got ${context.length}).`,
    );
  }
  const vocab = pair.target.folder.config.vocabSize;
  if (context.some((t) => !Number.isInteger(t) || t < 0 || t >= vocab)) {
    throw new SpecDecError(
      'BAD_ARGUMENT',
      `Token ids must be whole numbers from 0 to ${vocab - 1}.`,
    );
  }
  const n = options.top ?? 5;
  const text = (id: number): string => pair.tokenizer.tokenText(id);
  const p = distribution(await pair.target.lm.probe(context), context, options);
  const q = pair.draft ? distribution(await pair.draft.lm.probe(context), context, options) : null;
  const token = options.token;
  return {
    target: topTokens(p, n, text),
    draft: q && topTokens(q, n, text),
    targetProb: token === null ? null : (p[token] ?? null),
    draftProb: token === null || !q ? null : (q[token] ?? null),
  };
}
