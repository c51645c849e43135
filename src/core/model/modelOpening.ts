/**
 * What a model is opened with: its provider and threads, the export's session (4-bit products as
 * asked), the graph it then runs (the export or the fused rebuild: rebuiltGraph.ts), and the
 * device-side graphs where its cache lives on the device. OnnxCausalLM.open composes these.
 */
import type * as ort from 'onnxruntime-node';
import type {
  GraphChoice,
  KvLocationChoice,
  ModelGraph,
  ProviderChoice,
  Q4Compute,
  Q4ComputeRan,
} from '../../shared/decoding';
import { SpecDecError, describeError } from '../errors';
import { architectureOf } from './architectures/registry';
import { cpuThreadsFor, resolveThreads } from './cpuThreads';
import { openDeviceGraphs, type DeviceGraphs } from './deviceGraphs';
import type { ExecutionProvider } from './executionProvider';
import { kvLocationFor } from './kvCache';
import type { ModelFolder } from './modelFolder';
import { modelSessionOptions, openModelSession } from './modelSession';
import { chooseGraph, type AgreementCheck } from './rebuiltGraph';

export interface CausalLmOptions {
  /** default cpu; providerProbe.ts chooses one for `auto` */
  executionProvider?: ExecutionProvider;
  /** how the provider was chosen, kept for reports */
  providerChoice?: ProviderChoice;
  /**
   * the CPU provider's threads for one operator; 0: one per physical core (physicalCores).
   * Default: cpuThreadsFor (1 for a small model, 0 for a large one).
   */
  intraOpThreads?: number;
  /** where the KV cache lives between passes (default auto: on the device where it can) */
  kvLocation?: KvLocationChoice;
  /**
   * auto (the default): on the CPU provider, run the graph rebuilt with onnxruntime's fused
   * operators (rebuiltGraph.ts) when the architecture has a rebuild, the export is one it
   * rebuilds, and the rebuilt graph agrees with it; exported: always run the file as it is
   */
  graph?: GraphChoice;
  /**
   * read each pass's logits over their first N ids only (a pair whose logit widths differ reads
   * both models over the ids they share: pair.ts); default all of them
   */
  logitWidth?: number;
  /** how the CPU provider computes 4-bit MatMulNBits products (default int8: matmulNBits.ts) */
  q4Compute?: Q4Compute;
}

/** A model's opened parts, as its constructor takes them. */
export interface OpenedModel {
  session: ort.InferenceSession;
  executionProvider: ExecutionProvider;
  device: DeviceGraphs | null;
  graph: ModelGraph;
  graphNote: string | null;
  threads: number;
  q4Compute: Q4ComputeRan | null;
}

/**
 * The model's session on its provider and the graph it runs (`agreement` checks a rebuild
 * against the export), with the device-side graphs where the cache lives on the device.
 */
export async function openModel(
  folder: ModelFolder,
  options: CausalLmOptions,
  agreement: AgreementCheck,
): Promise<OpenedModel> {
  const architecture = architectureOf(folder.config.modelType);
  const ep = options.executionProvider ?? 'cpu';
  const kvLocation = kvLocationFor(options.kvLocation ?? 'auto', ep);
  const threads =
    ep === 'cpu' ? resolveThreads(options.intraOpThreads ?? cpuThreadsFor(folder.onnxPath)) : 1;
  const sessionOptions = modelSessionOptions(threads, kvLocation);
  const opened = await openModelSession(folder, ep, sessionOptions, options.q4Compute);
  const { session, graph, note } = await chooseGraph(
    folder,
    architecture,
    opened.session,
    ep,
    options.graph ?? 'auto',
    sessionOptions,
    agreement,
  );
  let device: DeviceGraphs | null = null;
  if (kvLocation === 'device') {
    try {
      device = await openDeviceGraphs(
        session,
        folder,
        architecture,
        ep,
        options.logitWidth ?? null,
      );
    } catch (err) {
      await session.release();
      throw new SpecDecError(
        'EXECUTION_PROVIDER',
        `The ${ep} provider could not keep the KV cache on the device (${describeError(err).split('\n')[0]}). Choose the host KV-cache location instead.`,
        ['kvLocation'],
      );
    }
  }
  return {
    session,
    executionProvider: ep,
    device,
    graph,
    graphNote: note,
    threads,
    q4Compute: opened.q4Compute,
  };
}

/**
 * The largest logit difference between two models' passes over the check (a 3-token pass from an
 * empty cache, then a 2-token pass on top: the prompt's and the verification's shapes), and the
 * largest logit (at least 1) it is judged against (OnnxCausalLM.agreement).
 */
export async function logitAgreement(
  vocab: number,
  a: (ids: number[]) => Promise<{ data: Float32Array }>,
  b: (ids: number[]) => Promise<{ data: Float32Array }>,
): Promise<{ diff: number; scale: number }> {
  let diff = 0;
  let scale = 1;
  for (const tokens of [
    [0, 1, 2],
    [3, 4],
  ]) {
    const ids = tokens.map((t) => t % vocab);
    const [p, q] = [(await a(ids)).data, (await b(ids)).data];
    for (let i = 0; i < p.length; i++) {
      diff = Math.max(diff, Math.abs(p[i]! - q[i]!));
      scale = Math.max(scale, Math.abs(p[i]!));
    }
  }
  return { diff, scale };
}
