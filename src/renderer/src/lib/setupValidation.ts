/**
 * The set-up form's checks, in plain words, before anything is sent. The host checks again
 * (context length, model folders) and its answers are shown beside these.
 */
import type {
  DrafterKind,
  DraftPolicyName,
  RepetitionParams,
  SamplingParams,
} from '../../../shared/decoding';
import { promptsTooLarge } from '../../../shared/protocol';
import {
  MAX_ACCEPTANCE_TARGETS,
  MAX_K,
  MAX_KS,
  MAX_NEW_TOKENS_TYPED,
  MAX_NO_REPEAT_NGRAM,
  MAX_PROMPTS,
  MAX_REPEATS,
  MAX_REPETITION_PENALTY,
  MAX_SEED,
  MAX_TEMPERATURE,
  MAX_TOP_K,
} from '../../../shared/limits';

/** the form starts from the shared defaults (src/shared/defaults.ts), as the CLI's flags do */
export {
  SEED_PROMPT as DEFAULT_PROMPT,
  DEFAULT_KS,
  DEFAULT_MAX_NEW_TOKENS,
  DEFAULT_P_MIN,
  DEFAULT_REPEATS,
} from '../../../shared/defaults';

export type ParsedInt = { ok: true; value: number } | { ok: false; message: string };

/** A whole number from `min` to `max` typed in a text field. */
export function parseWhole(text: string, what: string, min: number, max: number): ParsedInt {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, message: `Enter ${what}.` };
  if (!/^[+]?\d+$/.test(trimmed)) {
    return { ok: false, message: `${capitalize(what)} must be a whole number (got "${trimmed}").` };
  }
  const value = Number(trimmed);
  if (value < min || value > max) {
    return {
      ok: false,
      message: `${capitalize(what)} must be from ${min} to ${max} (got ${value}).`,
    };
  }
  return { ok: true, value };
}

export function checkPrompt(prompt: string): string | null {
  if (prompt.trim() === '') return 'The prompt is empty. Type a prompt to continue.';
  return promptsTooLarge([prompt]);
}

/**
 * Max new tokens as typed; `context`: the tokens the chosen pair holds, when known (the prompt
 * takes at least one of them; the engine checks the exact fit with the prompt's tokens).
 */
export function checkMaxNewTokens(text: string, context: number | null = null): ParsedInt {
  const parsed = parseWhole(text, 'max new tokens', 1, MAX_NEW_TOKENS_TYPED);
  if (parsed.ok && context !== null && parsed.value > context - 1) {
    return {
      ok: false,
      message: `At most ${context - 1} new tokens with this pair: its models hold ${context} tokens, the prompt's included.`,
    };
  }
  return parsed;
}

export function checkRepeats(text: string): ParsedInt {
  return parseWhole(text, 'repeats', 1, MAX_REPEATS);
}

export function checkKs(ks: readonly number[]): string | null {
  if (ks.length === 0) return 'Add at least one K.';
  if (ks.length > MAX_KS) return `At most ${MAX_KS} K values per sweep (there are ${ks.length}).`;
  return null;
}

export type KAddResult = { ok: true; ks: number[] } | { ok: false; message: string };

/**
 * Add the K values typed in the chip input ("6" or "6, 7 10") to `ks`. Every value must be a
 * whole number in 1..MAX_K and not already present; nothing is added when one is wrong.
 */
export function addKs(ks: readonly number[], text: string): KAddResult {
  const parts = text
    .split(/[\s,;]+/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) return { ok: false, message: `Type a K value to add (1 to ${MAX_K}).` };
  const next = [...ks];
  for (const part of parts) {
    const parsed = parseWhole(part, 'K', 1, MAX_K);
    if (!parsed.ok) return parsed;
    if (next.includes(parsed.value)) {
      return { ok: false, message: `K=${parsed.value} is already in the list.` };
    }
    next.push(parsed.value);
  }
  const tooMany = checkKs(next);
  if (tooMany) return { ok: false, message: tooMany };
  return { ok: true, ks: next.sort((a, b) => a - b) };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// ----- prompt sets, draft-length policies, drafters, sampling -----

export type PromptSetResult = { ok: true; prompts: string[] } | { ok: false; message: string };

/**
 * A prompt set typed or loaded one prompt per line. Blank lines are skipped; each other line is
 * a prompt as written (only a Windows line end is dropped).
 */
export function parsePromptSet(text: string): PromptSetResult {
  const prompts = text.split('\n').map((line) => line.replace(/\r$/, ''));
  const kept = prompts.filter((line) => line.trim() !== '');
  if (kept.length === 0) {
    return {
      ok: false,
      message: 'The prompt set is empty. Give at least one prompt, one per line.',
    };
  }
  if (kept.length > MAX_PROMPTS) {
    return {
      ok: false,
      message: `A prompt set holds at most ${MAX_PROMPTS} prompts (there are ${kept.length}).`,
    };
  }
  const tooLarge = promptsTooLarge(kept);
  if (tooLarge) return { ok: false, message: tooLarge };
  return { ok: true, prompts: kept };
}

export type ParsedNumber = { ok: true; value: number } | { ok: false; message: string };

/** A decimal number typed in a text field ("0.8", ".5", "1e-1"). */
function parseDecimal(text: string, what: string): ParsedNumber {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, message: `Enter ${what}.` };
  const value = Number(trimmed);
  if (!Number.isFinite(value)) {
    return { ok: false, message: `${capitalize(what)} must be a number (got "${trimmed}").` };
  }
  return { ok: true, value };
}

/** Repetition controls as typed: null when both are off, else the settings or the errors. */
export type RepetitionResult =
  | { ok: true; value: RepetitionParams | null }
  | { ok: false; errors: Partial<Record<'repetitionPenalty' | 'noRepeatNgram', string>> };

export function checkRepetition(penaltyText: string, ngramText: string): RepetitionResult {
  const errors: Partial<Record<'repetitionPenalty' | 'noRepeatNgram', string>> = {};
  const penalty = parseDecimal(penaltyText, 'repetition penalty');
  if (!penalty.ok) errors.repetitionPenalty = penalty.message;
  else if (penalty.value < 1 || penalty.value > MAX_REPETITION_PENALTY)
    errors.repetitionPenalty = `Repetition penalty must be from 1 (off) to ${MAX_REPETITION_PENALTY} (got ${penalty.value}).`;
  const ngram = parseWhole(ngramText, 'no-repeat n-gram size', 0, MAX_NO_REPEAT_NGRAM);
  if (!ngram.ok) errors.noRepeatNgram = ngram.message;
  if (!penalty.ok || !ngram.ok || Object.keys(errors).length > 0) return { ok: false, errors };
  const value = { penalty: penalty.value, noRepeatNgram: ngram.value };
  return { ok: true, value: value.penalty === 1 && value.noRepeatNgram === 0 ? null : value };
}

/** The confidence policy's threshold: stop drafting below this draft probability. */
export function checkPMin(text: string): ParsedNumber {
  const parsed = parseDecimal(text, 'p-min');
  if (!parsed.ok) return parsed;
  if (parsed.value <= 0 || parsed.value >= 1) {
    return {
      ok: false,
      message: `P-min must be above 0 and below 1 (got ${parsed.value}).`,
    };
  }
  return parsed;
}

export function checkTemperature(text: string): ParsedNumber {
  const parsed = parseDecimal(text, 'temperature');
  if (!parsed.ok) return parsed;
  if (parsed.value <= 0 || parsed.value > MAX_TEMPERATURE) {
    return {
      ok: false,
      message: `Temperature must be above 0 and at most ${MAX_TEMPERATURE} (got ${parsed.value}). For temperature 0, choose Greedy.`,
    };
  }
  return parsed;
}

export function checkTopK(text: string): ParsedInt {
  return parseWhole(text, 'top-k', 0, MAX_TOP_K);
}

export function checkTopP(text: string): ParsedNumber {
  const parsed = parseDecimal(text, 'top-p');
  if (!parsed.ok) return parsed;
  if (parsed.value <= 0 || parsed.value > 1) {
    return {
      ok: false,
      message: `Top-p must be above 0 and at most 1 (got ${parsed.value}).`,
    };
  }
  return parsed;
}

/** 0 to MAX_SEED, as the engine and the CLI take it (the generator keeps 32 bits) */
export function checkSeed(text: string): ParsedInt {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, message: 'Enter a seed.' };
  if (/^-\d+$/.test(trimmed))
    return { ok: false, message: `The seed must be from 0 to ${MAX_SEED} (got ${trimmed}).` };
  return parseWhole(trimmed, 'the seed', 0, MAX_SEED);
}

export interface SamplingTexts {
  temperature: string;
  topK: string;
  topP: string;
  seed: string;
}

export type SamplingField = keyof SamplingTexts;

export type SamplingResult =
  | { ok: true; value: SamplingParams }
  | { ok: false; errors: Partial<Record<SamplingField, string>> };

/** The sampling settings as typed, checked field by field. */
export function checkSampling(texts: SamplingTexts): SamplingResult {
  const temperature = checkTemperature(texts.temperature);
  const topK = checkTopK(texts.topK);
  const topP = checkTopP(texts.topP);
  const seed = checkSeed(texts.seed);
  if (temperature.ok && topK.ok && topP.ok && seed.ok) {
    return {
      ok: true,
      value: {
        temperature: temperature.value,
        topK: topK.value,
        topP: topP.value,
        seed: seed.value,
      },
    };
  }
  const errors: Partial<Record<SamplingField, string>> = {};
  if (!temperature.ok) errors.temperature = temperature.message;
  if (!topK.ok) errors.topK = topK.message;
  if (!topP.ok) errors.topP = topP.message;
  if (!seed.ok) errors.seed = seed.message;
  return { ok: false, errors };
}

// ----- controlled acceptance -----

export type AcceptanceAddResult = { ok: true; targets: number[] } | { ok: false; message: string };

/**
 * Add the acceptance targets typed ("0.8" or "0.6, 0.8 0.9") to `targets`: each a number strictly
 * between 0 and 1, not already there, at most MAX_ACCEPTANCE_TARGETS in all; nothing is added
 * when one is wrong.
 */
export function addAcceptanceTargets(
  targets: readonly number[],
  text: string,
): AcceptanceAddResult {
  const parts = text
    .split(/[\s,;]+/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0)
    return { ok: false, message: 'Type an acceptance target to add, between 0 and 1 (e.g. 0.8).' };
  const next = [...targets];
  for (const part of parts) {
    const parsed = parseDecimal(part, 'an acceptance target');
    if (!parsed.ok) return parsed;
    if (!(parsed.value > 0 && parsed.value < 1))
      return {
        ok: false,
        message: `An acceptance target must be between 0 and 1, both excluded (got ${parsed.value}): at 0 nothing is accepted and at 1 everything is.`,
      };
    if (next.includes(parsed.value))
      return { ok: false, message: `Acceptance ${parsed.value} is already in the list.` };
    next.push(parsed.value);
  }
  if (next.length > MAX_ACCEPTANCE_TARGETS)
    return {
      ok: false,
      message: `At most ${MAX_ACCEPTANCE_TARGETS} acceptance targets per sweep (that would be ${next.length}).`,
    };
  return { ok: true, targets: next.sort((a, b) => a - b) };
}

/** what the rest of the set-up chooses that controlled acceptance depends on */
export interface AcceptanceContext {
  sampling: boolean;
  drafters: readonly DrafterKind[];
  policies: readonly DraftPolicyName[];
}

/**
 * Why the engine would refuse controlled acceptance with these choices (its own reasons, in the
 * app's words, naming the controls to change); null when it runs.
 */
export function acceptanceRefusal(context: AcceptanceContext): string | null {
  const reasons: string[] = [];
  if (context.sampling)
    reasons.push(
      'It needs greedy decoding: the oracle drafts the token the target will choose, known from the greedy baseline, and a sampled choice is a draw. Choose Greedy under Decoding.',
    );
  if (context.drafters.includes('prompt-lookup'))
    reasons.push(
      'It keeps the draft model’s passes and replaces what they propose; prompt lookup makes no draft-model passes. Untick Prompt lookup under Drafter (sweep it in a separate sweep).',
    );
  if (context.policies.includes('confidence'))
    reasons.push(
      'The confidence policy stops on the draft model’s probabilities, which the oracle’s tokens do not have. Untick Confidence under Draft length policy.',
    );
  if (reasons.length === 0) return null;
  return `Controlled acceptance cannot run with these choices. ${reasons.join(' ')} Or remove the acceptance targets.`;
}
