/** The set-up form: model pair, prompt, max new tokens, K chips, repeats, and their checks. */
import type { LiveSettings, PairChoice, SweepSettings } from '../../../shared/protocol';
import type { SetupField } from '../lib/hostErrors';
import {
  DEFAULT_KS,
  DEFAULT_MAX_NEW_TOKENS,
  DEFAULT_PROMPT,
  DEFAULT_REPEATS,
  addKs,
  checkKs,
  checkMaxNewTokens,
  checkPrompt,
  checkRepeats,
} from '../lib/setupValidation';

export type FieldErrors = Partial<Record<SetupField, string>>;

export class SetupState {
  /** a model folder per role; null means the embedded pair's */
  targetDir = $state<string | null>(null);
  draftDir = $state<string | null>(null);
  prompt = $state(DEFAULT_PROMPT);
  maxNewTokensText = $state(String(DEFAULT_MAX_NEW_TOKENS));
  ks = $state.raw<readonly number[]>([...DEFAULT_KS]);
  /** what is typed in the "add K" input */
  kInput = $state('');
  /** why the last add was refused (a duplicate, out of range) */
  kMessage = $state<string | null>(null);
  repeatsText = $state(String(DEFAULT_REPEATS));

  readonly errors: FieldErrors = $derived.by(() => {
    const errors: FieldErrors = {};
    const prompt = checkPrompt(this.prompt);
    if (prompt) errors.prompt = prompt;
    const maxNew = checkMaxNewTokens(this.maxNewTokensText);
    if (!maxNew.ok) errors.maxNewTokens = maxNew.message;
    const ks = checkKs(this.ks);
    if (ks) errors.ks = ks;
    const repeats = checkRepeats(this.repeatsText);
    if (!repeats.ok) errors.repeats = repeats.message;
    return errors;
  });

  get valid(): boolean {
    return Object.keys(this.errors).length === 0;
  }

  get pair(): PairChoice {
    return {
      target: { source: this.targetDir, dtype: 'fp32', ep: 'auto' },
      draft: { source: this.draftDir, dtype: 'fp32', ep: 'auto' },
      offline: false,
    };
  }

  /** The sweep to send, or null while a field is wrong. */
  get sweepSettings(): SweepSettings | null {
    const maxNew = checkMaxNewTokens(this.maxNewTokensText);
    const repeats = checkRepeats(this.repeatsText);
    if (!this.valid || !maxNew.ok || !repeats.ok) return null;
    return {
      pair: this.pair,
      prompts: [this.prompt],
      maxNewTokens: maxNew.value,
      ks: [...this.ks],
      repeats: repeats.value,
      policies: ['fixed'],
      drafters: ['model'],
      pMin: 0.5,
      sampling: null,
    };
  }

  /** Settings for a step-by-step run with one K; null while prompt or max new tokens is wrong. */
  liveSettings(k: number): LiveSettings | null {
    const maxNew = checkMaxNewTokens(this.maxNewTokensText);
    if (checkPrompt(this.prompt) || !maxNew.ok) return null;
    return {
      pair: this.pair,
      prompt: this.prompt,
      maxNewTokens: maxNew.value,
      k,
      policy: 'fixed',
      drafter: 'model',
      pMin: 0.5,
      sampling: null,
    };
  }

  /** Add the K value(s) typed in the chip input; keeps the text and says why when refused. */
  addK(): boolean {
    const result = addKs(this.ks, this.kInput);
    if (!result.ok) {
      this.kMessage = result.message;
      return false;
    }
    this.ks = result.ks;
    this.kInput = '';
    this.kMessage = null;
    return true;
  }

  removeK(k: number): void {
    this.ks = this.ks.filter((v) => v !== k);
    this.kMessage = null;
  }

  /** Set a folder typed as a path (browser mode): blank means the embedded model. */
  setDir(role: 'target' | 'draft', text: string): void {
    const dir = text.trim() === '' ? null : text.trim();
    if (role === 'target') this.targetDir = dir;
    else this.draftDir = dir;
  }
}
