/** What went wrong, in plain words: host errors (with the control they concern) and engine exits. */
import { fieldForCode, type SetupField } from '../lib/hostErrors';

export interface HostErrorNotice {
  message: string;
  field: SetupField | null;
  /** what that control held when the error came (see SetupState.fieldKey) */
  setupKey: string | null;
}

export class NoticeState {
  error = $state.raw<HostErrorNotice | null>(null);
  /** the engine's last exit message; the banner stays until dismissed or a new run starts */
  hostExit = $state<string | null>(null);

  /** fallback: the control an error of no known code is about (a download's: the pair) */
  showError(
    code: string,
    message: string,
    keyOf: (field: SetupField) => string,
    fallback: SetupField | null = null,
  ): void {
    const field = fieldForCode(code) ?? fallback;
    this.error = { message, field, setupKey: field === null ? null : keyOf(field) };
  }

  clearError(): void {
    this.error = null;
  }

  showHostExit(message: string): void {
    this.hostExit = message;
  }

  clearHostExit(): void {
    this.hostExit = null;
  }
}
