/**
 * The engine host: runs sweeps and live step-through away from the UI and speaks the protocol of
 * src/shared/protocol.ts. The same module runs in Electron's utilityProcess and in the `serve`
 * mode's child process; only the port differs. Here the jobs are built and wired to the
 * dispatcher; each job module holds its own state.
 */
import { join } from 'node:path';
import type { ProbeLauncher } from '../../core/model/providerProbe';
import type { HostMessage } from '../../shared/protocol';
import { HostDispatcher } from './dispatcher';
import { DownloadJob } from './downloadJob';
import { HistoryRequests } from './historyRequests';
import { HistoryStore } from './historyStore';
import { LiveSession } from './liveSession';
import { ModelSources } from './modelSources';
import { ModelWorkSlot } from './modelWorkSlot';
import { PairCache } from './pairCache';
import { PositionDetailJob } from './positionDetailJob';
import { providerProbeSetup } from './providerProbeSetup';
import { readyMessage } from './readyMessage';
import { SweepJob } from './sweepJob';

export interface HostPort {
  post(message: HostMessage): void;
  onMessage(listener: (data: unknown) => void): void;
}

export interface HostOptions {
  /** user data folder: history, the model download cache and the provider probe live here */
  dataDir: string;
  /** the provider probe's child script, where the host runs from a bundle (Electron) */
  probeLauncher?: ProbeLauncher;
  embeddedPair: { target: string; draft: string };
  /** a Hub mirror (default huggingface.co) */
  hubHost?: string;
  /**
   * the clients are remote (serve): errors about a model folder say only that it is not one, so
   * that nobody learns which paths exist on this machine or what its files contain
   */
  remoteClients?: boolean;
}

export function startEngineHost(port: HostPort, options: HostOptions): void {
  const post = (m: HostMessage): void => port.post(m);
  // transformers.js' default cache lies inside its package, read-only inside an asar.
  const cacheDir = join(options.dataDir, 'models');
  const sources = new ModelSources(
    options.embeddedPair,
    cacheDir,
    options.hubHost ?? process.env.SPECDEC_HUB_HOST,
    post,
  );
  const history = new HistoryStore(join(options.dataDir, 'history'));
  const pairs = new PairCache(
    sources,
    providerProbeSetup(options.dataDir, options.probeLauncher),
    post,
  );
  const live = new LiveSession(pairs, post);
  const sweep = new SweepJob(pairs, history, post, () => live.end());
  const dispatcher = new HostDispatcher(
    {
      modelWork: new ModelWorkSlot(),
      sweep,
      live,
      positionDetail: new PositionDetailJob(pairs, post),
      download: new DownloadJob(sources, post),
      history: new HistoryRequests(history, sweep.saving, post),
    },
    post,
    options.remoteClients ?? false,
  );
  port.onMessage((data) => dispatcher.receive(data));
  post(readyMessage(options.embeddedPair, cacheDir));
}
