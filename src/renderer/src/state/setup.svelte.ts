/**
 * The set-up form: model pair, prompt (or prompt set), max new tokens, K chips, repeats, draft
 * length policies, drafters, greedy or sampled decoding, controlled acceptance, and their checks.
 */
import {
  DEFAULT_DRAFTER,
  DEFAULT_POLICY,
  type DrafterKind,
  type DraftPolicyName,
  type RepetitionParams,
  type SamplingParams,
} from '../../../shared/decoding';
import type { LiveSettings, PairChoice, SweepSettings } from '../../../shared/protocol';
import type { SetupField } from '../lib/hostErrors';
import { catalogMatch } from '../lib/modelChoice';
import { PairState } from './pair.svelte';
import { TreeChoice } from './treeChoice.svelte';
import { treeRefusal } from '../lib/treeSetup';
import {
  DEFAULT_KS,
  DEFAULT_MAX_NEW_TOKENS,
  DEFAULT_P_MIN,
  DEFAULT_PROMPT,
  DEFAULT_REPEATS,
  acceptanceRefusal,
  addAcceptanceTargets,
  addKs,
  checkKs,
  checkMaxNewTokens,
  checkPMin,
  checkPrompt,
  checkRepeats,
  checkRepetition,
  checkSampling,
  parsePromptSet,
  type SamplingField,
  type SamplingResult,
} from '../lib/setupValidation';

/** every checked control: the host's fields, and the prompt set and decoding choices */
export type FormField =
  | SetupField
  | 'promptSet'
  | 'policies'
  | 'drafters'
  | 'pMin'
  | SamplingField
  | 'repetitionPenalty'
  | 'noRepeatNgram'
  | 'acceptance'
  | 'trees';
export type FieldErrors = Partial<Record<FormField, string>>;

/** each checked control as the set-up panel labels it, for "Run is off until ..." */
export const FIELD_LABELS: Record<FormField, string> = {
  pair: 'Model pair',
  prompt: 'Prompt',
  promptSet: 'Prompt set',
  maxNewTokens: 'Max new tokens',
  ks: 'K values',
  repeats: 'Repeats',
  policies: 'Draft length policy',
  drafters: 'Drafter',
  pMin: 'P-min',
  temperature: 'Temperature',
  topK: 'Top-k',
  topP: 'Top-p',
  seed: 'Seed',
  repetitionPenalty: 'Repetition penalty',
  noRepeatNgram: 'No-repeat n-gram',
  acceptance: 'Controlled acceptance',
  trees: 'Token trees',
};

export type PromptMode = 'single' | 'set';
export type DecodingMode = 'greedy' | 'sampling';

/** The order the checkboxes list them in, and the order a sweep runs them. */
const POLICY_ORDER: readonly DraftPolicyName[] = ['fixed', 'heuristic', 'confidence'];
const DRAFTER_ORDER: readonly DrafterKind[] = ['model', 'prompt-lookup'];

export class SetupState {
  /** per role: the embedded model (default), a local folder or a Hub model; see pair.svelte.ts */
  readonly models = new PairState();
  prompt = $state(DEFAULT_PROMPT);
  maxNewTokensText = $state(String(DEFAULT_MAX_NEW_TOKENS));
  ks = $state.raw<readonly number[]>([...DEFAULT_KS]);
  /** what is typed in the "add K" input */
  kInput = $state('');
  /** why the last add was refused (a duplicate, out of range) */
  kMessage = $state<string | null>(null);
  repeatsText = $state(String(DEFAULT_REPEATS));
  /** one prompt, or a set typed (or loaded from a file) one per line */
  promptMode = $state<PromptMode>('single');
  promptSetText = $state('');
  /** the draft-length policies and drafters compared (each K runs with every one) */
  policies = $state.raw<readonly DraftPolicyName[]>([DEFAULT_POLICY]);
  drafters = $state.raw<readonly DrafterKind[]>([DEFAULT_DRAFTER]);
  /** the confidence policy's threshold */
  pMinText = $state(String(DEFAULT_P_MIN));
  decoding = $state<DecodingMode>('greedy');
  temperatureText = $state('0.8');
  topKText = $state('0');
  topPText = $state('1');
  seedText = $state('1');
  /** repetition controls, for every run: 1 and 0 are off */
  repetitionPenaltyText = $state('1');
  noRepeatNgramText = $state('0');
  /** controlled acceptance targets A (empty: real drafting), ascending */
  acceptance = $state.raw<readonly number[]>([]);
  /** what is typed in the "add target" input */
  acceptanceInput = $state('');
  /** why the last add was refused (a duplicate, out of range) */
  acceptanceMessage = $state<string | null>(null);
  /** token trees beside the chains (shapes, node budgets, how they are verified) */
  readonly trees = new TreeChoice();
  /** the embedded pair's context, from the engine's ready message (null until then) */
  embeddedContext = $state<number | null>(null);

  readonly errors: FieldErrors = $derived.by(() => {
    const errors: FieldErrors = {};
    if (this.promptMode === 'single') {
      const prompt = checkPrompt(this.prompt);
      if (prompt) errors.prompt = prompt;
    } else {
      const set = parsePromptSet(this.promptSetText);
      if (!set.ok) errors.promptSet = set.message;
    }
    if (this.policies.length === 0) errors.policies = 'Choose at least one draft-length policy.';
    if (this.drafters.length === 0) errors.drafters = 'Choose at least one drafter.';
    if (this.policies.includes('confidence') && this.drafters.includes('prompt-lookup'))
      errors.policies =
        'The confidence policy needs the draft model’s probabilities, which prompt lookup does not have: untick one of them.';
    const repetition = checkRepetition(this.repetitionPenaltyText, this.noRepeatNgramText);
    if (!repetition.ok) Object.assign(errors, repetition.errors);
    if (this.policies.includes('confidence')) {
      const pMin = checkPMin(this.pMinText);
      if (!pMin.ok) errors.pMin = pMin.message;
    }
    const sampling = this.checkedSampling;
    if (sampling && !sampling.ok) Object.assign(errors, sampling.errors);
    const maxNew = checkMaxNewTokens(this.maxNewTokensText, this.contextLimit);
    if (!maxNew.ok) errors.maxNewTokens = maxNew.message;
    const ks = checkKs(this.ks);
    if (ks) errors.ks = ks;
    const pair = this.models.error;
    if (pair) errors.pair = pair;
    const repeats = checkRepeats(this.repeatsText);
    if (!repeats.ok) errors.repeats = repeats.message;
    const refusal = this.acceptanceRefusal;
    if (refusal) errors.acceptance = refusal;
    const trees = this.treeRefusal;
    if (trees) errors.trees = trees;
    return errors;
  });

  get valid(): boolean {
    return Object.keys(this.errors).length === 0;
  }

  /** why Run is off, naming the fields to fix; null when every field is valid */
  get invalidReason(): string | null {
    const fields = (Object.keys(this.errors) as FormField[]).map((f) => FIELD_LABELS[f]);
    return fields.length === 0 ? null : `Run is off until these are fixed: ${fields.join(', ')}.`;
  }

  /** the prompts a sweep runs: the single prompt, or the set's non-blank lines */
  get prompts(): string[] {
    if (this.promptMode === 'single') return [this.prompt];
    const set = parsePromptSet(this.promptSetText);
    return set.ok ? set.prompts : [];
  }

  /** prompts in the set as typed: its non-blank lines (1 in single-prompt mode) */
  get promptSetSize(): number {
    if (this.promptMode === 'single') return 1;
    return this.promptSetText.split('\n').filter((line) => line.trim() !== '').length;
  }

  /** why the engine would refuse the acceptance targets with the other choices; null: it runs */
  get acceptanceRefusal(): string | null {
    if (this.acceptance.length === 0) return null;
    return acceptanceRefusal({
      sampling: this.decoding === 'sampling',
      drafters: this.drafters,
      policies: this.policies,
    });
  }

  /** why the engine would refuse the token trees with the other choices; null: they run */
  get treeRefusal(): string | null {
    if (this.trees.count === 0) return null;
    return treeRefusal({
      sampling: this.decoding === 'sampling',
      budgets: this.trees.budgets.length > 0,
      acceptance: this.acceptance.length > 0,
    });
  }

  /** null when decoding greedily */
  private get checkedSampling(): SamplingResult | null {
    if (this.decoding === 'greedy') return null;
    return checkSampling({
      temperature: this.temperatureText,
      topK: this.topKText,
      topP: this.topPText,
      seed: this.seedText,
    });
  }

  /** null: greedy; undefined: a sampling field is wrong */
  private get sampling(): SamplingParams | null | undefined {
    const checked = this.checkedSampling;
    if (checked === null) return null;
    return checked.ok ? checked.value : undefined;
  }

  /** null when off or while a field is wrong (the form is then invalid anyway) */
  get repetition(): RepetitionParams | null {
    const r = checkRepetition(this.repetitionPenaltyText, this.noRepeatNgramText);
    return r.ok ? r.value : null;
  }

  /** p-min as sent: the typed threshold when it is valid, else the default (unused then) */
  private get pMin(): number {
    const pMin = checkPMin(this.pMinText);
    return pMin.ok ? pMin.value : DEFAULT_P_MIN;
  }

  togglePolicy(policy: DraftPolicyName, on: boolean): void {
    this.policies = POLICY_ORDER.filter((p) => (p === policy ? on : this.policies.includes(p)));
  }

  toggleDrafter(drafter: DrafterKind, on: boolean): void {
    this.drafters = DRAFTER_ORDER.filter((d) => (d === drafter ? on : this.drafters.includes(d)));
  }

  /** Switch to the prompt-set mode, starting the set from the single prompt when it is empty. */
  setPromptMode(mode: PromptMode): void {
    if (mode === 'set' && this.promptSetText.trim() === '') this.promptSetText = this.prompt;
    this.promptMode = mode;
  }

  get pair(): PairChoice {
    return this.models.pair;
  }

  /**
   * The most tokens the chosen pair holds, as far as the app knows before loading it: the
   * embedded pair's (from the engine) and a catalog model's (its config's context); a folder or
   * another Hub repo is checked by the engine when it loads.
   */
  get contextLimit(): number | null {
    const known = (['target', 'draft'] as const).flatMap((role) => {
      const m = this.models.role(role);
      if (m.kind === 'embedded') return this.embeddedContext === null ? [] : [this.embeddedContext];
      const entry = m.kind === 'hub' ? catalogMatch(m.repo) : null;
      return entry ? [entry.context] : [];
    });
    return known.length === 0 ? null : Math.min(...known);
  }

  /** what a host-error field holds now, to tell when the user changed it */
  fieldKey(field: SetupField): string {
    switch (field) {
      case 'pair':
        return JSON.stringify(this.pair);
      case 'prompt':
        return JSON.stringify([this.promptMode, this.prompt, this.promptSetText]);
      case 'maxNewTokens':
        return this.maxNewTokensText;
      case 'ks':
        return this.ks.join(',');
      case 'repeats':
        return this.repeatsText;
    }
  }

  /** The sweep to send, or null while a field is wrong. */
  get sweepSettings(): SweepSettings | null {
    const maxNew = checkMaxNewTokens(this.maxNewTokensText, this.contextLimit);
    const repeats = checkRepeats(this.repeatsText);
    const sampling = this.sampling;
    if (!this.valid || !maxNew.ok || !repeats.ok || sampling === undefined) return null;
    return {
      pair: this.pair,
      prompts: this.prompts,
      maxNewTokens: maxNew.value,
      ks: [...this.ks],
      repeats: repeats.value,
      policies: [...this.policies],
      drafters: [...this.drafters],
      pMin: this.pMin,
      sampling,
      repetition: this.repetition,
      ...(this.acceptance.length > 0 ? { acceptance: [...this.acceptance] } : {}),
      ...this.trees.settings,
    };
  }

  /** what a step-by-step run uses: the first prompt, policy and drafter, the same decoding */
  get liveChoice(): { policy: DraftPolicyName; drafter: DrafterKind; sampling: boolean } {
    return {
      policy: this.policies[0] ?? 'fixed',
      drafter: this.drafters[0] ?? 'model',
      sampling: this.decoding === 'sampling',
    };
  }

  /**
   * Settings for a step-by-step run with one K: the first prompt, the first chosen policy and
   * drafter, the same decoding. Null while one of those fields is wrong.
   */
  liveSettings(k: number): LiveSettings | null {
    const maxNew = checkMaxNewTokens(this.maxNewTokensText, this.contextLimit);
    const prompt = this.prompts[0];
    const sampling = this.sampling;
    const e = this.errors;
    const wrong =
      e.pair ??
      e.prompt ??
      e.promptSet ??
      e.policies ??
      e.drafters ??
      e.pMin ??
      e.repetitionPenalty ??
      e.noRepeatNgram;
    if (prompt === undefined || wrong !== undefined || !maxNew.ok || sampling === undefined) {
      return null;
    }
    const { policy, drafter } = this.liveChoice;
    return {
      pair: this.pair,
      prompt,
      maxNewTokens: maxNew.value,
      k,
      policy,
      drafter,
      pMin: this.pMin,
      sampling,
      repetition: this.repetition,
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

  /** Add the acceptance target(s) typed; keeps the text and says why when refused. */
  addAcceptance(): boolean {
    const result = addAcceptanceTargets(this.acceptance, this.acceptanceInput);
    if (!result.ok) {
      this.acceptanceMessage = result.message;
      return false;
    }
    this.acceptance = result.targets;
    this.acceptanceInput = '';
    this.acceptanceMessage = null;
    return true;
  }

  removeAcceptance(target: number): void {
    this.acceptance = this.acceptance.filter((a) => a !== target);
    this.acceptanceMessage = null;
  }
}
