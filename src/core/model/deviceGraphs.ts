/**
 * A device-resident model's helper graphs (onnxGraph.ts), on the model's own provider: the crop
 * graph that slices its cache there (kvCache.ts), the gather graph that keeps chosen batch rows
 * and positions of it there (a token tree's paths and its accepted path), and the head graph
 * that reads back, per row of a pass's logits, the argmax, the tie margin and the two
 * probabilities greedy decoding reports. Full rows come back only when a caller asks (sampling,
 * repetition controls, the step detail, a token tree).
 */
import * as ort from 'onnxruntime-node';
import { cacheSlots, type Architecture } from './architectures/architecture';
import { floatType } from './decoderInterface';
import { createSession, type ExecutionProvider } from './executionProvider';
import { Logits, type DeviceVerdicts, type GreedyRead } from './logits';
import type { ModelFolder } from './modelFolder';
import {
  cropGraph,
  encode,
  headGraph,
  HEAD_OUTPUTS,
  node,
  value,
  FLOAT32,
  INT64,
  type GraphFloat,
} from './onnxGraph';
import { byteSize, type PassTimer } from './passTiming';

export interface DeviceGraphs {
  crop: ort.InferenceSession;
  gather: ort.InferenceSession;
  head: ort.InferenceSession;
  /** the ids the head graph reads each row over (its Slice); null: the whole row */
  logitWidth: number | null;
}

/** The crop and head graphs for a device-resident model, on the model's own provider. */
export async function openDeviceGraphs(
  session: ort.InferenceSession,
  folder: ModelFolder,
  architecture: Architecture,
  ep: ExecutionProvider,
  /** read the logits over their first N ids only (a pair's shared ids); null: all of them */
  logitWidth: number | null = null,
): Promise<DeviceGraphs> {
  const { nKvHeads, headDim } = folder.config;
  const slots = cacheSlots(architecture, folder.config);
  const cacheType = floatType(session.inputMetadata, slots[0]!.past, folder, architecture);
  const logitsType = floatType(session.outputMetadata, 'logits', folder, architecture);
  const vocabDim = session.outputMetadata.find((m) => m.name === 'logits');
  const vocab = vocabDim?.isTensor ? vocabDim.shape[2] : undefined;
  const options = { graphOptimizationLevel: 'all' as const };
  const crop = await createSession(cropGraph(slots.length, nKvHeads, headDim, cacheType), ep, {
    ...options,
    preferredOutputLocation: 'gpu-buffer',
  });
  let gather: ort.InferenceSession | null = null;
  try {
    gather = await createSession(gatherGraph(slots.length, nKvHeads, headDim, cacheType), ep, {
      ...options,
      preferredOutputLocation: 'gpu-buffer',
    });
    const head = await createSession(
      headGraph(typeof vocab === 'number' ? vocab : 'vocab', logitsType, logitWidth),
      ep,
      options,
    );
    return { crop, gather, head, logitWidth };
  } catch (err) {
    await crop.release();
    await gather?.release();
    throw err;
  }
}

/** TensorProto.DataType of float16 */
const FLOAT16 = 10;

/**
 * inputs `rows` and `positions` (int64 [r], [p]) and `in0..in{slots-1}` [batch, kvHeads, len,
 * headDim]; outputs `out{i}` = in{i}[rows][:, :, positions]: two Gathers, on axis 0 (batch rows:
 * a token tree's paths tiled, or the accepted path's row kept) and on axis 2 (positions: a crop,
 * or the accepted path's nodes among a flattened tree's).
 */
export function gatherGraph(slots: number, kvHeads: number, headDim: number, type: GraphFloat) {
  const elem = type === 'float16' ? FLOAT16 : FLOAT32;
  const ids = Array.from({ length: slots }, (_, i) => i);
  return encode({
    name: 'kv-gather',
    node: ids.flatMap((i) => [
      node('Gather', [`in${i}`, 'rows'], [`picked${i}`], [{ name: 'axis', i: 0 }]),
      node('Gather', [`picked${i}`, 'positions'], [`out${i}`], [{ name: 'axis', i: 2 }]),
    ]),
    initializer: [],
    input: [
      value('rows', INT64, ['r']),
      value('positions', INT64, ['p']),
      ...ids.map((i) => value(`in${i}`, elem, ['batch', kvHeads, 'len', headDim])),
    ],
    output: ids.map((i) => value(`out${i}`, elem, ['r', kvHeads, 'p', headDim])),
  });
}

/**
 * The head graph over a pass's device logits: verdicts only (`greedy`), or the rows; `rows`
 * counts them all (a batch's rows after one another, as on the host).
 */
export async function readOnDevice(
  { head, logitWidth }: DeviceGraphs,
  timer: PassTimer,
  logits: ort.Tensor,
  rows: number,
  greedy: GreedyRead | undefined,
): Promise<{ logits: Logits; bytes: number }> {
  // rows without a pick gather token 0, whose probability that then is (prob() stays right)
  const perBatchRow = logits.dims[1]!;
  if (greedy && perBatchRow !== rows)
    throw new Error('readOnDevice: greedy verdicts of one batch row only (read a batch as rows)');
  const pick = new BigInt64Array(perBatchRow);
  greedy?.pick?.forEach((t, i) => (pick[i] = BigInt(Math.max(t, 0))));
  const feeds = { logits, pick: new ort.Tensor('int64', pick, [1, perBatchRow, 1]) };
  if (!greedy) {
    const out = await timer.run(head, feeds, ['rows']);
    const rowsT = out.rows!;
    return {
      logits: new Logits(rows, rowsT.dims[2]!, rowsT.data as Float32Array),
      bytes: byteSize(rowsT),
    };
  }
  const out = await timer.run(head, feeds, HEAD_OUTPUTS);
  const verdicts: DeviceVerdicts = {
    ids: out.ids!.data as BigInt64Array,
    top2: out.top2!.data as Float32Array,
    lse: out.lse!.data as Float32Array,
    picked: out.picked!.data as Float32Array,
    pick,
  };
  const bytes = HEAD_OUTPUTS.reduce((sum, name) => sum + byteSize(out[name]!), 0);
  return { logits: new Logits(rows, logitWidth ?? logits.dims[2]!, null, verdicts), bytes };
}
