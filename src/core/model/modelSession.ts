/**
 * Opening a model's ONNX session on its execution provider, with the options the engine runs it
 * under; a provider that cannot start is told apart from a broken file by trying the CPU.
 */
import type * as ort from 'onnxruntime-node';
import type { KvLocation, Q4Compute, Q4ComputeRan } from '../../shared/decoding';
import { DEFAULT_Q4_COMPUTE } from '../../shared/defaults';
import { SpecDecError, describeError } from '../errors';
import { cpuThreadOptions } from './cpuThreads';
import { createSession, type ExecutionProvider } from './executionProvider';
import { sessionSource, type SessionSource } from './matmulNBits';
import type { ModelFolder } from './modelFolder';

/** The options every session of a model is opened with (the rebuilt graph's too). */
export function modelSessionOptions(
  threads: number,
  kvLocation: KvLocation,
): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all' as const,
    // a failing pass is reported in words (passTiming.ts); onnxruntime's own log line about it
    // would reach the user's terminal raw, so only its fatal lines are let through
    logSeverityLevel: 4 as const,
    ...cpuThreadOptions(threads),
    ...(kvLocation === 'device' ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
  };
}

/**
 * The model file's session on `ep`, its 4-bit products computed as `q4Compute` asks on the CPU
 * (matmulNBits.ts), with what they ran in (null: the file has none); throws EXECUTION_PROVIDER
 * when the provider cannot start but the CPU opens the file, ONNX_INVALID when the file itself
 * does not load.
 */
export async function openModelSession(
  folder: ModelFolder,
  ep: ExecutionProvider,
  options: ort.InferenceSession.SessionOptions,
  q4Compute: Q4Compute = DEFAULT_Q4_COMPUTE,
): Promise<{ session: ort.InferenceSession; q4Compute: Q4ComputeRan | null }> {
  let prepared: SessionSource;
  try {
    prepared = sessionSource(folder.onnxPath, ep === 'cpu', q4Compute);
  } catch (err) {
    // a temporary file that cannot be written says so itself; anything else is the file's
    if (err instanceof SpecDecError) throw err;
    throw new SpecDecError(
      'ONNX_INVALID',
      `Could not load ${folder.onnxPath}: ${describeError(err)}. The file may be truncated or corrupt; re-export or re-download the model.`,
    );
  }
  try {
    try {
      const session = await createSession(
        prepared.source,
        ep,
        prepared.externalDataDir ? withExternalDataDir(options, prepared.externalDataDir) : options,
      );
      return { session, q4Compute: prepared.ran };
    } finally {
      prepared.dispose();
    }
  } catch (err) {
    const reason = describeError(err).split('\n')[0];
    // A provider that cannot start is not a broken file: tell the two apart on the CPU.
    if (ep !== 'cpu') {
      const onCpu = await createSession(folder.onnxPath, 'cpu', {}).catch(() => null);
      if (onCpu) {
        await onCpu.release();
        throw new SpecDecError(
          'EXECUTION_PROVIDER',
          `The ${ep} execution provider is not available here (${reason}). Choose auto or cpu instead; the README's GPU set-up lists what ${ep} needs.`,
          ['ep'],
        );
      }
    }
    throw new SpecDecError(
      'ONNX_INVALID',
      `Could not load ${folder.onnxPath}: ${reason}. The file may be truncated or corrupt; re-export or re-download the model.`,
    );
  }
}

/**
 * A rewritten graph (bytes, or a temporary file) reads its external data (`model_q4.onnx_data`...)
 * from the model's folder: onnxruntime otherwise looks beside the source, or for bytes in the
 * working directory, and refuses paths that leave it.
 */
function withExternalDataDir(
  options: ort.InferenceSession.SessionOptions,
  dir: string,
): ort.InferenceSession.SessionOptions {
  const extra = (options.extra ?? {}) as Record<string, Record<string, unknown>>;
  return {
    ...options,
    extra: {
      ...extra,
      session: { ...extra.session, model_external_initializers_file_folder_path: dir },
    },
  };
}
