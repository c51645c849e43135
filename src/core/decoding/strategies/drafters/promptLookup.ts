/**
 * Prompt-lookup drafting (no draft model): find the latest earlier place where the context's last
 * n tokens occurred (n from maxNgram down to 1) and propose the tokens that followed it there.
 * Strong when the output repeats the prompt (summaries, code edits) and free to run.
 */
import type { Draft, Drafter, DrafterTraits } from './drafter';

export class PromptLookupDrafter implements Drafter {
  /** a copied span has no probabilities: a policy that reads them cannot run with it */
  static readonly traits: DrafterTraits = {
    label: 'prompt lookup',
    hasProbabilities: false,
    needsDraftModel: false,
  };

  constructor(private readonly maxNgram = 3) {}

  propose(context: readonly number[], k: number): Promise<Draft> {
    const len = context.length;
    for (let n = Math.min(this.maxNgram, len - 1); n >= 1; n--) {
      // latest start s < len - n with context[s..s+n) equal to the last n tokens
      for (let s = len - n - 1; s >= 0; s--) {
        let match = true;
        for (let j = 0; j < n && match; j++) match = context[s + j] === context[len - n + j];
        if (match) {
          const tokens = context.slice(s + n, Math.min(s + n + k, len));
          if (tokens.length > 0) return Promise.resolve({ tokens, probs: null });
        }
      }
    }
    return Promise.resolve({ tokens: [], probs: null });
  }

  rollback(): void {
    // no state: every proposal is computed from the context
  }
}
