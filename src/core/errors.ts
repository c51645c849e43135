/** Errors a user can act on: each carries a stable code and a message that says what to do. */
export type ErrorCode =
  | 'MODEL_FOLDER_MISSING'
  | 'MODEL_FOLDER_INVALID'
  | 'ONNX_INVALID'
  | 'ONNX_INTERFACE'
  | 'EXECUTION_PROVIDER'
  | 'TOKENIZER_INVALID'
  | 'PAIR_MISMATCH'
  | 'PROMPT_EMPTY'
  | 'PROMPT_TOO_LONG'
  | 'K_OUT_OF_RANGE'
  | 'MAX_NEW_TOKENS_INVALID'
  | 'BAD_ARGUMENT'
  | 'HUB_UNREACHABLE'
  | 'HUB_NOT_FOUND'
  | 'HUB_FILE_MISSING'
  | 'HUB_INTERRUPTED'
  | 'HUB_OFFLINE'
  | 'DISK_FULL'
  | 'CANCELLED';

/**
 * The settings an error is about. Core messages are plain words; each surface says where the
 * setting lives: the CLI names its flags (src/cli/main.ts), the app its controls.
 */
export type SettingName =
  | 'prompt'
  | 'temperature'
  | 'topK'
  | 'topP'
  | 'seed'
  | 'pMin'
  | 'ep'
  | 'kvLocation'
  | 'q4Compute'
  | 'cacheDir'
  | 'hubHost'
  | 'offline'
  | 'chatTemplate';

export class SpecDecError extends Error {
  /** the model folder the error is about, as the request named it (set by loadPair) */
  subject: string | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** what the user can change to fix it */
    readonly settings: readonly SettingName[] = [],
  ) {
    super(message);
    this.name = 'SpecDecError';
  }
}

/** Errors that describe a folder's contents: a remote client gets only "not a model folder". */
export const FOLDER_ERRORS: ReadonlySet<ErrorCode> = new Set([
  'MODEL_FOLDER_MISSING',
  'MODEL_FOLDER_INVALID',
  'ONNX_INVALID',
  'ONNX_INTERFACE',
  'TOKENIZER_INVALID',
]);

export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
