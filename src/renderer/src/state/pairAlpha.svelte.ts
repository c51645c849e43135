/**
 * The pair's own alpha (K=1 acceptance with real drafting) as measured by any sweep this window
 * saw finish or opened from History, per pair: a sweep with controlled acceptance only measures
 * no alpha of its own, and its heat map places the pair ("your pair sits here") from here.
 */
import type { PairChoice, Theory } from '../../../shared/protocol';

/**
 * the models and what they are fed, not where they run: alpha depends on the weights and on the
 * input (a prompt in the chat template is another input), not on the provider
 */
function pairKey(pair: PairChoice): string {
  const model = (m: PairChoice['target']): string => `${m.source ?? '(embedded)'}:${m.dtype}`;
  return `${model(pair.target)}|${model(pair.draft)}|${pair.chatTemplate ?? 'auto'}`;
}

export class PairAlphaMemory {
  private alphas = $state.raw<Readonly<Record<string, number>>>({});

  /** Keep the alpha a finished or opened sweep measured (none without a theory). */
  remember(pair: PairChoice | null | undefined, theory: Theory | null): void {
    if (!pair || !theory) return;
    this.alphas = { ...this.alphas, [pairKey(pair)]: theory.alpha };
  }

  /** the latest alpha measured for this pair, or null */
  of(pair: PairChoice | null | undefined): number | null {
    return pair ? (this.alphas[pairKey(pair)] ?? null) : null;
  }
}
