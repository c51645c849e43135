/** A failed request in the protocol's words: the error's code, its message and the settings at fault. */
import { FOLDER_ERRORS, SpecDecError, describeError } from '../../core/errors';
import type { HostMessage } from '../../shared/protocol';

/**
 * `remoteClients` (serve): errors about a model folder say only that it is not one, so that
 * nobody learns which paths exist on this machine or what its files contain.
 */
export function errorReply(
  requestId: string | null,
  err: unknown,
  remoteClients: boolean,
): HostMessage {
  if (remoteClients && err instanceof SpecDecError && FOLDER_ERRORS.has(err.code)) {
    // one answer for "missing" and "broken", and nothing read from the folder
    return {
      type: 'error',
      requestId,
      code: 'MODEL_FOLDER_INVALID',
      message: `Not a model folder this server can use: ${err.subject ?? 'one of the folders given'}. Give a folder on the serving machine that holds config.json, tokenizer.json and onnx/model.onnx.`,
    };
  }
  const code = err instanceof SpecDecError ? err.code : 'INTERNAL';
  const settings = err instanceof SpecDecError ? [...err.settings] : [];
  return {
    type: 'error',
    requestId,
    code,
    message: describeError(err),
    ...(settings.length > 0 ? { settings } : {}),
  };
}
