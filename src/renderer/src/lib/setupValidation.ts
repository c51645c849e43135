/**
 * The set-up form's checks, in plain words, before anything is sent. The host checks again
 * (context length, model folders) and its answers are shown beside these.
 */
import { MAX_K } from '../../../shared/protocol';

export const DEFAULT_PROMPT = 'Artificial intelligence is rapidly transforming our world by';
export const DEFAULT_MAX_NEW_TOKENS = 100;
export const DEFAULT_KS: readonly number[] = [1, 2, 3, 4, 5, 8];
export const DEFAULT_REPEATS = 1;
/** the protocol's limits (SweepSettings) */
export const MAX_KS = 16;
export const MAX_REPEATS = 20;

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
  return prompt.trim() === '' ? 'The prompt is empty. Type a prompt to continue.' : null;
}

export function checkMaxNewTokens(text: string): ParsedInt {
  return parseWhole(text, 'max new tokens', 1, 100_000);
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
  if (parts.length === 0) return { ok: false, message: 'Type a K value to add (1 to 64).' };
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
