/**
 * Opening a model's ONNX session on its execution provider, with the options the engine runs it
 * under; a provider that cannot start is told apart from a broken file by trying the CPU.
 */
import type * as ort from 'onnxruntime-node';
import type { KvLocation } from '../../shared/decoding';
import { SpecDecError, describeError } from '../errors';
import { cpuThreadOptions } from './cpuThreads';
import { createSession, type ExecutionProvider } from './executionProvider';
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
 * The model file's session on `ep`; throws EXECUTION_PROVIDER when the provider cannot start but
 * the CPU opens the file, ONNX_INVALID when the file itself does not load.
 */
export async function openModelSession(
  folder: ModelFolder,
  ep: ExecutionProvider,
  options: ort.InferenceSession.SessionOptions,
): Promise<ort.InferenceSession> {
  try {
    return await createSession(folder.onnxPath, ep, options);
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
