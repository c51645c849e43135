/** What went wrong, in plain words: host errors (with the control they concern) and engine exits. */
import { causeFields, fieldForCode, type SetupField } from '../lib/hostErrors';

export interface HostErrorNotice {
  message: string;
  /** the control it is shown under (null: under Run) */
  field: SetupField | null;
  /** every control it depends on, `field` first: a change to any of them makes it stale */
  causes: readonly SetupField[];
  /** what those controls held when the error came (see setupKeyOf) */
  setupKey: string | null;
}

/** what the controls an error depends on hold now, to tell when one of them changed */
export function setupKeyOf(
  causes: readonly SetupField[],
  keyOf: (field: SetupField) => string,
): string {
  return JSON.stringify(causes.map(keyOf));
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
    const causes = field === null ? [] : causeFields(code, field);
    this.error = {
      message,
      field,
      causes,
      setupKey: field === null ? null : setupKeyOf(causes, keyOf),
    };
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
