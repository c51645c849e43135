/**
 * The model pair requests run on: downloaded if needed (cancellable), loaded once and kept until
 * a request names another pair. A request the models cannot hold is refused before any session
 * opens.
 */
import { openPair } from '../../core/hub/openPair';
import { pairFit, releasePair, type ModelPair, type PairFit } from '../../core/model/pair';
import type { ProbeOptions } from '../../core/model/providerProbe';
import type { HostMessage, LoadedModelInfo, PairChoice } from '../../shared/protocol';
import type { ModelSources } from './modelSources';

export interface LoadedPair {
  pair: ModelPair;
  info: { target: LoadedModelInfo; draft: LoadedModelInfo };
}

export class PairCache {
  private loaded: (LoadedPair & { key: string }) | null = null;
  private readonly unloadListeners: Array<() => void> = [];

  constructor(
    private readonly sources: ModelSources,
    /** how a GPU provider is tried before a session opens on it */
    private readonly providerProbe: ProbeOptions,
    private readonly post: (message: HostMessage) => void,
  ) {}

  /** `listener` runs when the loaded pair is about to go (whatever ran on its models ends) */
  onUnload(listener: () => void): void {
    this.unloadListeners.push(listener);
  }

  /** the pair a request runs on, loaded (or the loaded one); `check` runs before any session opens */
  async pairFor(
    requestId: string,
    choice: PairChoice,
    check: (fit: PairFit) => void,
    signal: AbortSignal,
  ): Promise<LoadedPair> {
    const [target, draft] = this.sources.specs(choice);
    // the prompt tokenizer is part of the loaded pair: another chat template is another pair
    const chatTemplate = choice.chatTemplate ?? 'auto';
    const key = JSON.stringify([target, draft, chatTemplate]);
    if (this.loaded?.key !== key) {
      for (const listener of this.unloadListeners) listener();
      if (this.loaded) await releasePair(this.loaded.pair);
      this.loaded = null;
      const opened = await openPair(
        target,
        draft,
        this.sources.hubOptions(requestId, choice, signal),
        { probe: this.providerProbe, check, chatTemplate },
      );
      if (opened.downloadedBytes > 0) {
        this.post({ type: 'download-done', requestId, downloadedBytes: opened.downloadedBytes });
      }
      this.loaded = {
        key,
        pair: opened.pair,
        info: { target: opened.target, draft: opened.draft! },
      };
    } else check(pairFit(this.loaded.pair));
    this.post({ type: 'models-loaded', requestId, ...this.loaded.info });
    return this.loaded;
  }
}
