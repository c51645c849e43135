/**
 * The Download button's requests: fetch the chosen Hub models into the cache without running
 * anything, and stop the download on show (a sweep's through the sweep's own cancel).
 */
import type { HostRequest } from '../../../shared/protocol';
import { newRequestId } from '../lib/ids';
import type { DownloadState } from './download.svelte';
import type { NoticeState } from './notices.svelte';
import type { SetupState } from './setup.svelte';
import type { SweepState } from './sweep.svelte';
import type { SweepControl } from './sweepControl.svelte';

/** the studio's parts a download starts from */
export interface DownloadParts {
  readonly setup: SetupState;
  readonly download: DownloadState;
  readonly notices: NoticeState;
  readonly sweep: SweepState;
  readonly sweepControl: SweepControl;
  readonly connected: boolean;
  /** a run or a download is in flight on the engine */
  readonly engineBusy: boolean;
}

export class DownloadControl {
  private readonly parts: DownloadParts;
  private readonly send: (request: HostRequest) => void;

  constructor(parts: DownloadParts, send: (request: HostRequest) => void) {
    this.parts = parts;
    this.send = send;
  }

  /** Fetch the chosen Hub models into the cache (or find them there) without running anything. */
  start(): void {
    const { setup, download, notices } = this.parts;
    if (this.parts.engineBusy || !this.parts.connected || setup.models.error) return;
    notices.clearError();
    const requestId = newRequestId('download');
    download.start(requestId);
    this.send({ type: 'download', requestId, pair: setup.pair });
  }

  /** Stop the download on show: a sweep's through the sweep's own cancel. */
  cancel(): void {
    const { download } = this.parts;
    const { requestId } = download;
    if (download.status !== 'downloading' || requestId === null) return;
    if (this.parts.sweep.owns(requestId)) {
      this.parts.sweepControl.cancel();
      download.cancelRequested = true;
      return;
    }
    if (download.cancelRequested) return;
    download.cancelRequested = true;
    this.send({ type: 'cancel', requestId });
  }
}
