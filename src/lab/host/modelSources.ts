/**
 * Where a request's models come from: the embedded pair unless the client names a source, and
 * the Hub options (cache, mirror, progress to the client) that loading and downloading share.
 */
import type { HubOptions } from '../../core/hub/hub';
import type { ModelSpec } from '../../core/hub/openPair';
import type { HostMessage, ModelChoice, PairChoice } from '../../shared/protocol';
import { modelSpecOf } from '../runPlan';

export class ModelSources {
  constructor(
    private readonly embeddedPair: { target: string; draft: string },
    /** the download cache (transformers.js' default lies inside its package, read-only in an asar) */
    readonly cacheDir: string,
    /** a Hub mirror, or undefined: huggingface.co */
    private readonly hubHost: string | undefined,
    private readonly post: (message: HostMessage) => void,
  ) {}

  /** the target's and the draft's spec, in that order */
  specs(choice: PairChoice): [ModelSpec, ModelSpec] {
    // the 4-bit products' compute mode travels as the CLI's run plan passes --q4-compute
    const placement = (m: ModelChoice) => (m.q4Compute ? { q4Compute: m.q4Compute } : {});
    return [
      modelSpecOf(choice.target, this.embeddedPair.target, placement(choice.target)),
      modelSpecOf(choice.draft, this.embeddedPair.draft, placement(choice.draft)),
    ];
  }

  /** how a request fetches its models: cancellable, its progress sent to the client */
  hubOptions(requestId: string, choice: PairChoice, signal: AbortSignal): HubOptions {
    return {
      cacheDir: this.cacheDir,
      offline: choice.offline,
      signal,
      ...(this.hubHost ? { hubHost: this.hubHost } : {}),
      onProgress: (progress) => this.post({ type: 'download-progress', requestId, progress }),
    };
  }
}
