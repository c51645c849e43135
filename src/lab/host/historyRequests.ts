/**
 * The history requests: list, open, replay, rename and delete saved sweeps. A sweep still being
 * written is neither renamed nor deleted under it; a file that cannot be read is refused in words.
 * A saved run's events go back in parts of bounded size.
 */
import { SpecDecError } from '../../core/errors';
import type { EngineEvent } from '../../shared/events';
import type { HostMessage } from '../../shared/protocol';
import { HistoryFileError } from './historyFiles';
import { notSavedReason, type HistoryStore } from './historyStore';

/** a history file's refusal as the client's error; anything else goes on as it was */
function refused<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof HistoryFileError) throw new SpecDecError('BAD_ARGUMENT', err.message);
    throw err;
  }
}

/** a saved run's reply is sent in parts of about this many bytes of JSON at most */
export const RUN_PART_BYTES = 128 * 1024;

/** a run's events cut into consecutive parts of at most RUN_PART_BYTES (one event may pass it) */
export function replyParts(events: readonly EngineEvent[]): EngineEvent[][] {
  const parts: EngineEvent[][] = [[]];
  let bytes = 0;
  for (const event of events) {
    const size = JSON.stringify(event).length + 1;
    if (bytes + size > RUN_PART_BYTES && parts.at(-1)!.length > 0) {
      parts.push([]);
      bytes = 0;
    }
    parts.at(-1)!.push(event);
    bytes += size;
  }
  return parts;
}

export class HistoryRequests {
  constructor(
    private readonly store: HistoryStore,
    /** the entries a running sweep is still writing */
    private readonly saving: ReadonlySet<string>,
    private readonly post: (message: HostMessage) => void,
  ) {}

  list(requestId: string): void {
    const entries = refused(() => this.store.list(this.saving));
    this.post({ type: 'history-list', requestId, entries });
  }

  open(requestId: string, id: string): void {
    const entry = refused(() => this.store.read(id))?.entry;
    if (!entry)
      throw new SpecDecError('BAD_ARGUMENT', `No saved run ${id} (it may have been deleted).`);
    this.post({ type: 'history-entry', requestId, entry });
  }

  /** one saved run's event log, to replay it or export its steps */
  runEvents(requestId: string, id: string, runId: string): void {
    const events = this.store.runEvents(id, runId);
    if (!events)
      throw new SpecDecError(
        'BAD_ARGUMENT',
        'This saved run has no step log to replay (it was saved before logs were kept, or the disk was full): its row in the table is what was kept.',
      );
    const parts = replyParts(events);
    parts.forEach((part, index) =>
      this.post({
        type: 'history-run',
        requestId,
        id,
        runId,
        events: part,
        part: index,
        parts: parts.length,
      }),
    );
  }

  rename(requestId: string, id: string, name: string): void {
    this.refuseWhileSaving(id);
    let found: boolean;
    try {
      found = this.store.rename(id, name);
    } catch (err) {
      if (err instanceof HistoryFileError)
        throw new SpecDecError('BAD_ARGUMENT', `Could not rename the saved sweep: ${err.message}`);
      throw new SpecDecError(
        'BAD_ARGUMENT',
        `Could not rename the saved sweep: ${notSavedReason(err, this.store.dir).replace(/^not saved: /, '')}.`,
      );
    }
    if (!found)
      throw new SpecDecError('BAD_ARGUMENT', `No saved sweep ${id} (it may have been deleted).`);
    this.list(requestId); // every window's list changes
  }

  remove(requestId: string, id: string): void {
    this.refuseWhileSaving(id);
    this.store.remove(id);
    this.list(requestId); // every window's list changes
  }

  private refuseWhileSaving(id: string): void {
    if (this.saving.has(id))
      throw new SpecDecError(
        'BAD_ARGUMENT',
        'This sweep is still running: rename or delete it once it has finished.',
      );
  }
}
