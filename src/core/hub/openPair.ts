/** From what a user names (folders, repo ids, catalog names) to a loaded, checked model pair. */
import type {
  Dtype,
  ExecutionProviderChoice,
  GraphChoice,
  KvLocationChoice,
  Q4Compute,
} from '../../shared/decoding';
import type { LoadedModelInfo } from '../../shared/protocol';
import { loadPair, type LoadPairOptions, type LoadedModel, type ModelPair } from '../model/pair';
import { resolveModels, type HubOptions, type ResolvedModel } from './hub';

export interface ModelSpec {
  /** a local folder, a Hub repo id or a catalog name */
  source: string;
  dtype: Dtype;
  ep: ExecutionProviderChoice;
  /** where the KV cache lives between passes (default auto) */
  kvLocation?: KvLocationChoice;
  /** the graph the CPU provider runs (default auto) */
  graph?: GraphChoice;
  /** the CPU provider's threads for one operator (0: one per physical core; default by size) */
  threads?: number;
  /** how the CPU provider computes 4-bit MatMulNBits products (default int8) */
  q4Compute?: Q4Compute;
}

export interface OpenedPair {
  pair: ModelPair;
  target: LoadedModelInfo;
  draft: LoadedModelInfo | null;
  /** bytes fetched from the Hub (0 when everything was local or cached) */
  downloadedBytes: number;
}

export async function openPair(
  target: ModelSpec,
  draft: ModelSpec | null,
  hub: HubOptions,
  load: LoadPairOptions = {},
): Promise<OpenedPair> {
  const specs = draft ? [target, draft] : [target];
  const resolved = await resolveModels(specs, hub);
  const [t, d] = resolved as [ResolvedModel, ResolvedModel | undefined];
  const pair = await loadPair(t.dir, d?.dir ?? null, {
    target: {
      executionProvider: target.ep,
      kvLocation: target.kvLocation,
      graph: target.graph,
      threads: target.threads,
      q4Compute: target.q4Compute,
      onnxFile: t.onnxFile,
    },
    draft: {
      executionProvider: draft?.ep ?? 'cpu',
      kvLocation: draft?.kvLocation,
      graph: draft?.graph,
      threads: draft?.threads,
      q4Compute: draft?.q4Compute,
      onnxFile: d?.onnxFile ?? null,
    },
    ...load,
  });
  const info = (m: LoadedModel, r: ResolvedModel): LoadedModelInfo => ({
    name: r.repo ?? m.folder.name,
    dir: m.folder.dir,
    repo: r.repo,
    provider: m.lm.executionProvider,
    providerChoice: m.lm.providerChoice,
    kvLocation: m.lm.kvLocation,
    graph: m.lm.graph,
    graphNote: m.lm.graphNote,
    threads: m.lm.threads,
    q4Compute: m.lm.q4Compute,
  });
  return {
    pair,
    target: info(pair.target, t),
    draft: pair.draft && d ? info(pair.draft, d) : null,
    downloadedBytes: resolved.reduce((s, r) => s + r.downloadedBytes, 0),
  };
}
