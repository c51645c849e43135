/**
 * Where a host error belongs in the app: the set-up control it is shown under (from its code),
 * the controls whose change makes it stale, and the app's names for the settings it names.
 */
export type SetupField = 'pair' | 'prompt' | 'maxNewTokens' | 'ks' | 'repeats';

/** the control an error is shown under; unknown codes belong to no control (shown under Run) */
const FIELD_BY_CODE: Record<string, SetupField> = {
  MODEL_FOLDER_MISSING: 'pair',
  MODEL_FOLDER_INVALID: 'pair',
  ONNX_INVALID: 'pair',
  ONNX_INTERFACE: 'pair',
  TOKENIZER_INVALID: 'pair',
  PAIR_MISMATCH: 'pair',
  // the Hub's failures are the pair's, whether Download or Run fetched it
  HUB_NOT_FOUND: 'pair',
  HUB_FILE_MISSING: 'pair',
  HUB_OFFLINE: 'pair',
  HUB_UNREACHABLE: 'pair',
  HUB_INTERRUPTED: 'pair',
  DISK_FULL: 'pair',
  EXECUTION_PROVIDER: 'pair',
  PROMPT_EMPTY: 'prompt',
  PROMPT_TOO_LONG: 'prompt',
  MAX_NEW_TOKENS_INVALID: 'maxNewTokens',
  K_OUT_OF_RANGE: 'ks',
};

/**
 * Besides the control it is shown under, what else an error depends on: a prompt too long for
 * the context is stale once the pair (its context) changes too, and max new tokens past the
 * context once the prompt or the pair does.
 */
const ALSO_CAUSED_BY: Partial<Record<string, readonly SetupField[]>> = {
  PROMPT_TOO_LONG: ['pair'],
  MAX_NEW_TOKENS_INVALID: ['prompt', 'pair'],
};

/**
 * Where the app keeps each setting a host error names (the CLI names its flags instead). A
 * setting the app has no control for (the Hub mirror, the cache folder) is not named.
 */
const CONTROL_BY_SETTING: Record<string, string> = {
  prompt: 'Prompt',
  temperature: 'Decoding: Temperature',
  topK: 'Decoding: Top-k',
  topP: 'Decoding: Top-p',
  seed: 'Decoding: Seed',
  pMin: 'Draft length policy: P-min',
  ep: "each model's Provider",
  offline: 'Offline, under the model pair',
  chatTemplate: 'Chat template, under the model pair',
};

/** " (set in: Decoding: Temperature)" for the settings a host error names; '' for none */
export function controlHint(settings: readonly string[] | undefined): string {
  const names = (settings ?? []).map((s) => CONTROL_BY_SETTING[s]).filter(Boolean);
  return names.length === 0 ? '' : ` (set in: ${names.join(' or ')})`;
}

export function fieldForCode(code: string): SetupField | null {
  return FIELD_BY_CODE[code] ?? null;
}

/** every control whose change makes an error shown under `field` stale, `field` first */
export function causeFields(code: string, field: SetupField): SetupField[] {
  return [field, ...(ALSO_CAUSED_BY[code] ?? []).filter((f) => f !== field)];
}

/**
 * The engine's sentences that tell a CLI user which flag to pass, with what the app's user does
 * instead: the CLI keeps its wording (src/core/hub/hub.ts), the app names its own control.
 */
const FLAG_ADVICE: ReadonlyArray<{
  code: string;
  flag: RegExp;
  inApp: (m: RegExpMatchArray) => string;
}> = [
  {
    // "It has fp32, fp16: pass --dtype fp32 (or another of those)."
    code: 'HUB_FILE_MISSING',
    flag: /It has ([^:]+): pass --dtype (\S+) \(or another of those\)\./,
    inApp: (m) =>
      `It has ${m[1]}: choose ${m[2]}${m[1]!.includes(',') ? ' (or another of those)' : ''} in this model's Weights list (its dtype), under its repo.`,
  },
];

/** a host error's message in the app's words: a CLI flag's advice becomes the app's control */
export function inAppWords(code: string, message: string): string {
  let out = message;
  for (const rule of FLAG_ADVICE) {
    if (rule.code !== code) continue;
    const m = out.match(rule.flag);
    if (m) out = out.replace(rule.flag, rule.inApp(m));
  }
  return out;
}
