/**
 * The step-by-step run's requests: started with the typed K and the set-up's strategy, advanced
 * one step per "Next step"; its events stream like a sweep's.
 */
import { MAX_K } from '../../../shared/limits';
import type { HostRequest } from '../../../shared/protocol';
import { newRequestId } from '../lib/ids';
import { liveDraftOptions, liveTree } from '../lib/liveDraft';
import { parseWhole } from '../lib/setupValidation';
import type { DownloadState } from './download.svelte';
import type { LiveState } from './live.svelte';
import type { NoticeState } from './notices.svelte';
import type { SetupState } from './setup.svelte';

/** the studio's parts a step-by-step run starts from */
export interface LiveParts {
  readonly setup: SetupState;
  readonly live: LiveState;
  readonly download: DownloadState;
  readonly notices: NoticeState;
  /** a run or a download is in flight on the engine */
  readonly engineBusy: boolean;
}

export class LiveControl {
  private readonly parts: LiveParts;
  private readonly send: (request: HostRequest) => void;

  constructor(parts: LiveParts, send: (request: HostRequest) => void) {
    this.parts = parts;
    this.send = send;
  }

  start(): void {
    const { setup, live, download, notices } = this.parts;
    if (this.parts.engineBusy) return;
    const { shapes, budgets } = setup.trees;
    const verify = setup.trees.settings.treeVerify?.[0] ?? 'auto';
    const tree = liveTree(live.draft, shapes, budgets, verify);
    const k = tree ? { ok: true as const, value: tree.k } : parseWhole(live.kText, 'K', 1, MAX_K);
    live.kError = k.ok ? null : k.message;
    if (!k.ok) return;
    const chosen = setup.liveSettings(k.value);
    if (!chosen) {
      live.error =
        'Fix the marked set-up fields first (prompt, max new tokens, policy, drafter, sampling).';
      return;
    }
    const settings = tree ? { ...chosen, tree: tree.tree } : chosen;
    notices.clearHostExit();
    const requestId = newRequestId('live');
    const decoding = settings.sampling ? 'sampled' : 'greedy';
    const label = liveDraftOptions(shapes, budgets).find((o) => o.value === live.draft)?.label;
    live.start(
      requestId,
      tree ? `${label}, ${decoding}` : `${settings.drafter} / ${settings.policy}, ${decoding}`,
      tree !== null,
    );
    download.track(requestId, 'live');
    // The stream keeps what it shows until the run's first events arrive (storeLiveEvents
    // follows it then): a refused attempt clears nothing.
    this.send({ type: 'live-start', requestId, settings });
  }

  next(): void {
    const { live } = this.parts;
    const { requestId } = live;
    if (!live.canNext || requestId === null) return;
    live.next();
    this.send({ type: 'live-next', requestId });
  }
}
