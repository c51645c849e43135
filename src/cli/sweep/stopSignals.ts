/**
 * SIGINT (Ctrl+C), SIGTERM (kill, a scheduler's stop) and SIGHUP (a closed terminal or ssh
 * session) all cancel a sweep the same way: the download or the runs stop within one decoding
 * step, what finished is written and printed, and the exit status then says which signal
 * stopped it (128 + its number, as a shell reports a process killed by it).
 */
import { constants } from 'node:os';
import { followNpmWrapper } from '../wrapperWatch';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

export interface SignalCancel {
  /** aborted by the first stop signal */
  signal: AbortSignal;
  /** the first stop signal that arrived, null while none has */
  received(): StopSignal | null;
  /** the exit status for the signal received (128 + its number), null while none has */
  exitStatus(): number | null;
  /** the default handlers back: a second signal after this ends the process at once */
  dispose(): void;
}

/**
 * Cancel on the first stop signal. Only the first is caught: a second one (of any of the
 * three) finds the default handler and ends the process, for a user whose first was not enough;
 * the runs CSV keeps every finished row even then, since it is written as each run ends.
 */
export function cancelOnSignals(): SignalCancel {
  const controller = new AbortController();
  let received: StopSignal | null = null;
  const handlers = STOP_SIGNALS.map((name) => {
    const onSignal = (): void => {
      received ??= name;
      controller.abort();
      // a second signal ends the process as it would have without us
      for (const [n, h] of handlers) process.off(n, h);
    };
    return [name, onSignal] as const;
  });
  for (const [name, handler] of handlers) process.once(name, handler);
  // `npm run sweep` stopped: npm's shell died without passing the signal on (a hangup, for us)
  const unfollow = followNpmWrapper(() => handlers.find(([n]) => n === 'SIGHUP')![1]());
  return {
    signal: controller.signal,
    received: () => received,
    exitStatus: () => (received === null ? null : 128 + constants.signals[received]),
    dispose: () => {
      unfollow();
      for (const [name, handler] of handlers) process.off(name, handler);
    },
  };
}
