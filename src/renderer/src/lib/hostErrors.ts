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

export function fieldForCode(code: string): SetupField | null {
  return FIELD_BY_CODE[code] ?? null;
}
