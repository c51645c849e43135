/**
 * Hub downloads and what the engine loaded. A download is started by the Download button, or by
 * a sweep or step-by-step run whose models are not cached yet: both report progress under their
 * own request id, and both are shown here the same way. After a request's pair is loaded, the
 * models, their execution providers and any fallback reason are kept for the set-up and results.
 */
import type { DownloadProgress, LoadedModelInfo } from '../../../shared/protocol';

export type DownloadStatus = 'idle' | 'downloading' | 'done' | 'cancelled' | 'failed';
/** what asked for the models */
export type DownloadOrigin = 'download' | 'sweep' | 'live';

export interface LoadedPair {
  target: LoadedModelInfo;
  draft: LoadedModelInfo;
}

export class DownloadState {
  /** the request whose downloads are shown */
  requestId = $state<string | null>(null);
  origin = $state<DownloadOrigin>('download');
  status = $state<DownloadStatus>('idle');
  progress = $state.raw<DownloadProgress | null>(null);
  /** bytes fetched over the network (download-done); 0 when everything was cached */
  downloadedBytes = $state<number | null>(null);
  /** how it ended when it did not finish (cancelled, failed) */
  message = $state<string | null>(null);
  cancelRequested = $state(false);
  /** the pair the engine loaded for the latest request of this window */
  loaded = $state.raw<LoadedPair | null>(null);
  /** where the host caches downloads (from its ready message) */
  cacheDir = $state<string | null>(null);

  owns(requestId: string | null): boolean {
    return requestId !== null && requestId === this.requestId;
  }

  /** A Download request: shown at once, while the host asks the Hub what to fetch. */
  start(requestId: string): void {
    this.requestId = requestId;
    this.origin = 'download';
    this.status = 'downloading';
    this.progress = null;
    this.downloadedBytes = null;
    this.message = null;
    this.cancelRequested = false;
  }

  /**
   * A sweep or step-by-step run: its downloads (if any) are shown when progress arrives; what an
   * earlier request downloaded is no longer shown.
   */
  track(requestId: string, origin: Exclude<DownloadOrigin, 'download'>): void {
    this.requestId = requestId;
    this.origin = origin;
    this.status = 'idle';
    this.progress = null;
    this.downloadedBytes = null;
    this.message = null;
    this.cancelRequested = false;
  }

  /** a Download request is in flight (a run's download is covered by the run itself) */
  get busy(): boolean {
    return this.origin === 'download' && this.status === 'downloading';
  }

  onProgress(requestId: string, progress: DownloadProgress): void {
    if (!this.owns(requestId)) return;
    if (this.status !== 'downloading') {
      this.status = 'downloading';
      this.downloadedBytes = null;
      this.message = null;
    }
    this.progress = progress;
  }

  onDone(requestId: string, downloadedBytes: number): void {
    if (!this.owns(requestId)) return;
    this.status = 'done';
    this.downloadedBytes = downloadedBytes;
    this.message = null;
  }

  onLoaded(requestId: string, loaded: LoadedPair): void {
    if (this.owns(requestId)) this.loaded = loaded;
  }

  /** The request failed: a download in progress stops (cancelled or failed) with the reason. */
  onError(requestId: string | null, code: string, message: string): void {
    if (!this.owns(requestId) || this.status !== 'downloading') return;
    this.status = code === 'CANCELLED' ? 'cancelled' : 'failed';
    this.message = message;
  }

  /** The engine died: nothing is downloading any more, and nothing is loaded. */
  onHostExit(message: string): void {
    this.loaded = null;
    if (this.status !== 'downloading') return;
    this.status = 'failed';
    this.message = `The engine stopped during the download (${message}).`;
  }
}
