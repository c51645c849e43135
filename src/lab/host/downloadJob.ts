/** The `download` request: both models of a pair fetched into the cache (or found there), not loaded. */
import { resolveModels } from '../../core/hub/hub';
import type { HostMessage, HostRequest, PairChoice } from '../../shared/protocol';
import type { ModelSources } from './modelSources';
import type { ModelJob } from './modelWorkSlot';

export class DownloadJob {
  constructor(
    private readonly sources: ModelSources,
    private readonly post: (message: HostMessage) => void,
  ) {}

  prepare(req: Extract<HostRequest, { type: 'download' }>): ModelJob {
    return (signal) => this.run(req.requestId, req.pair, signal);
  }

  private async run(requestId: string, choice: PairChoice, signal: AbortSignal): Promise<void> {
    const resolved = await resolveModels(
      this.sources.specs(choice),
      this.sources.hubOptions(requestId, choice, signal),
    );
    const bytes = resolved.reduce((s, r) => s + r.downloadedBytes, 0);
    this.post({ type: 'download-done', requestId, downloadedBytes: bytes });
  }
}
