/**
 * Which graph a model runs: the export as it is, or its architecture's rebuild with onnxruntime's
 * fused operators (fusedGpt2.ts for GPT-2), used only on the CPU provider, for a file small enough
 * to gain from it, and only when its logits agree with the export's on a load-time check.
 */
import { readFileSync, statSync } from 'node:fs';
import type * as ort from 'onnxruntime-node';
import type { GraphChoice, ModelGraph } from '../../shared/decoding';
import { describeError } from '../errors';
import type { Architecture } from './architectures/architecture';
import { LARGE_MODEL_BYTES as FUSE_MAX_BYTES } from './cpuThreads';
import { createSession, type ExecutionProvider } from './executionProvider';
import { NotFusable } from './fusedGpt2';
import type { ModelFolder } from './modelFolder';

/**
 * How far a rebuilt graph's logits may be from the export's on the load-time check, relative to
 * the largest logit: float32 sums in another order differ by about 1e-6; a wrongly wired graph
 * differs by the logits' own size.
 */
const FUSED_TOLERANCE = 1e-3;

/**
 * The largest logit difference between two CPU sessions of one model folder over a few passes,
 * and the largest logit (at least 1) it is judged against (OnnxCausalLM.agreement runs them).
 */
export type AgreementCheck = (
  exported: ort.InferenceSession,
  rebuilt: ort.InferenceSession,
) => Promise<{ diff: number; scale: number }>;

export interface ChosenGraph {
  session: ort.InferenceSession;
  graph: ModelGraph;
  /** why the export runs as it is, where a rebuilt graph was tried; null otherwise */
  note: string | null;
}

/**
 * The graph to run, given the export's open session: on the CPU provider with `auto`, the
 * rebuild when it is built, accepted and agrees (the export's session is then released); the
 * export otherwise.
 */
export async function chooseGraph(
  folder: ModelFolder,
  architecture: Architecture,
  exported: ort.InferenceSession,
  ep: ExecutionProvider,
  choice: GraphChoice,
  options: ort.InferenceSession.SessionOptions,
  agreement: AgreementCheck,
): Promise<ChosenGraph> {
  if (ep !== 'cpu' || choice !== 'auto' || !architecture.rebuild)
    return { session: exported, graph: 'exported', note: null };
  const rebuilt = await openRebuilt(folder, architecture.rebuild, exported, options, agreement);
  if (!rebuilt.session) return { session: exported, graph: 'exported', note: rebuilt.reason };
  await exported.release();
  return { session: rebuilt.session, graph: 'fused', note: null };
}

/**
 * The export rebuilt with fused operators, opened and checked against the export itself
 * (`agreement`); with the reason instead when it is not used.
 */
async function openRebuilt(
  folder: ModelFolder,
  rebuild: NonNullable<Architecture['rebuild']>,
  exported: ort.InferenceSession,
  options: ort.InferenceSession.SessionOptions,
  agreement: AgreementCheck,
): Promise<{ session: ort.InferenceSession; reason: null } | { session: null; reason: string }> {
  const size = statSync(folder.onnxPath).size;
  if (size > FUSE_MAX_BYTES)
    return {
      session: null,
      reason: `over ${FUSE_MAX_BYTES / 2 ** 20} MB, where the matrix products dominate a pass`,
    };
  let bytes: Uint8Array;
  try {
    bytes = rebuild(readFileSync(folder.onnxPath), folder.config);
  } catch (err) {
    if (err instanceof NotFusable) return { session: null, reason: err.message };
    throw err;
  }
  let session: ort.InferenceSession;
  try {
    session = await createSession(bytes, 'cpu', options);
  } catch (err) {
    const why = describeError(err).split('\n')[0];
    return { session: null, reason: `onnxruntime did not accept the rebuilt graph (${why})` };
  }
  let measured: { diff: number; scale: number };
  try {
    measured = await agreement(exported, session);
  } catch (err) {
    await session.release();
    const why = describeError(err).split('\n')[0];
    return { session: null, reason: `the rebuilt graph failed its probe (${why})` };
  }
  const { diff, scale } = measured;
  if (!(diff <= FUSED_TOLERANCE * scale)) {
    await session.release();
    return {
      session: null,
      reason: `the rebuilt graph's logits differ from the export's by ${diff.toPrecision(2)} (largest logit ${scale.toPrecision(3)})`,
    };
  }
  return { session, reason: null };
}
