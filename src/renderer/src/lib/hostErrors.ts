/**
 * Which set-up control a host error is about, from its code, so the control can be marked next
 * to the message. Unknown codes belong to no control; the message is shown either way.
 */
export type SetupField = 'pair' | 'prompt' | 'maxNewTokens' | 'ks' | 'repeats';

const FIELD_BY_CODE: Record<string, SetupField> = {
  MODEL_FOLDER_MISSING: 'pair',
  MODEL_FOLDER_INVALID: 'pair',
  ONNX_INVALID: 'pair',
  ONNX_INTERFACE: 'pair',
  TOKENIZER_INVALID: 'pair',
  PAIR_MISMATCH: 'pair',
  HUB_NOT_FOUND: 'pair',
  HUB_FILE_MISSING: 'pair',
  HUB_OFFLINE: 'pair',
  EXECUTION_PROVIDER: 'pair',
  PROMPT_EMPTY: 'prompt',
  PROMPT_TOO_LONG: 'prompt',
  MAX_NEW_TOKENS_INVALID: 'maxNewTokens',
  K_OUT_OF_RANGE: 'ks',
};

/** Where the app keeps each setting a host error names (the CLI names its flags instead). */
const CONTROL_BY_SETTING: Record<string, string> = {
  prompt: 'Prompt',
  temperature: 'Decoding: Temperature',
  topK: 'Decoding: Top-k',
  topP: 'Decoding: Top-p',
  seed: 'Decoding: Seed',
  pMin: 'Draft length policy: P-min',
  ep: "each model's Provider",
  cacheDir: 'the download cache folder',
  hubHost: 'the Hub mirror (SPECDEC_HUB_HOST)',
  offline: 'Offline',
};

/** " (set in: Decoding: Temperature)" for the settings a host error names; '' for none */
export function controlHint(settings: readonly string[] | undefined): string {
  const names = (settings ?? []).map((s) => CONTROL_BY_SETTING[s]).filter(Boolean);
  return names.length === 0 ? '' : ` (set in: ${names.join(' or ')})`;
}

export function fieldForCode(code: string): SetupField | null {
  return FIELD_BY_CODE[code] ?? null;
}
