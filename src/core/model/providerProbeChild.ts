/**
 * The provider probe's child process (see providerProbe.ts): opens each model on each provider
 * it is asked about and times a few passes at a sweep's shapes. It runs apart from the engine so
 * that whatever onnxruntime, Dawn or a driver prints goes to the probe's log, and a native crash
 * ends only this process. It imports nothing but onnxruntime-node, the engine's thread settings
 * (cpuThreads.ts), a pass's inputs (passFeeds.ts) and the 4-bit products' compute mode
 * (matmulNBits.ts, so a 4-bit file is timed on the CPU as it will run); the cache's names and
 * shape come with the request, from the model's architecture.
 */
import * as ort from 'onnxruntime-node';
import { cpuThreadOptions } from './cpuThreads';
import { sessionSource } from './matmulNBits';
import { PassFeeds } from './passFeeds';
import type { ProbeChildMessage, ProbeRequest } from './providerProbe';

const send = (m: ProbeChildMessage): void => void process.send?.(m);

/** Tokens in the warm-up prefill: about a prompt's length. */
const PREFILL = 16;

async function trial(
  model: ProbeRequest['models'][number],
  provider: string,
  request: ProbeRequest,
  bestMs: number | null,
): Promise<{ medianPassMs: number; passes: number; createMs: number }> {
  // Where the engine will keep the cache on this provider, it stays there between passes here
  // too; the logits come back every pass (the engine reads 24 bytes a row of them instead), so
  // each timed pass ends when the device has finished it.
  const onDevice = model.deviceCache.some((p) => p === provider);
  const { slots, kvHeads, headDim } = model.cache;
  const t0 = performance.now();
  // the CPU opens a 4-bit file's products as the engine will (int8 activations or as exported)
  const source = sessionSource(model.path, provider === 'cpu', model.q4Compute);
  let session: ort.InferenceSession;
  try {
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      ...cpuThreadOptions(provider === 'cpu' ? model.cpuThreads : 1),
      ...(onDevice
        ? {
            preferredOutputLocation: Object.fromEntries([
              ...slots.map((s) => [s.present, 'gpu-buffer'] as const),
              ['logits', 'cpu'] as const,
            ]),
          }
        : {}),
      // a rewritten graph read from bytes finds its weights beside the file
      ...(source.externalDataDir
        ? {
            extra: {
              session: { model_external_initializers_file_folder_path: source.externalDataDir },
            },
          }
        : {}),
    };
    // the file by its path, or the rewritten graph's bytes (the two are create's overloads)
    session =
      typeof source.source === 'string'
        ? await ort.InferenceSession.create(source.source, options)
        : await ort.InferenceSession.create(source.source, options);
  } finally {
    source.dispose();
  }
  const createMs = performance.now() - t0;
  let past: ort.Tensor[] = [];
  try {
    const pastType = (name: string): 'float16' | 'float32' => {
      const meta = session.inputMetadata.find((m) => m.name === name);
      return meta?.isTensor && meta.type === 'float16' ? 'float16' : 'float32';
    };
    past = slots.map(({ past: name }) =>
      pastType(name) === 'float16'
        ? new ort.Tensor('float16', new Uint16Array(0), [1, kvHeads, 0, headDim])
        : new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]),
    );
    const passFeeds = new PassFeeds(model.inputs, session.inputNames, model.nPositions);
    let length = 0;
    const pass = async (n: number): Promise<number> => {
      const tokens = Array.from({ length: n }, (_, i) => (length + i) % model.vocabSize);
      const feeds = passFeeds.build(tokens, length);
      slots.forEach((slot, i) => (feeds[slot.past] = past[i]!));
      const start = performance.now();
      const out = await session.run(feeds);
      const ms = performance.now() - start;
      release(past);
      past = slots.map((slot) => out[slot.present]!);
      length += n;
      return ms;
    };
    // Warm-up (kernels compiled, shaders built), then one-token passes over a growing cache,
    // as the draft and the baseline run them.
    await pass(Math.min(PREFILL, model.nPositions - request.passes - 1));
    await pass(1);
    const times: number[] = [];
    const started = performance.now();
    while (times.length < request.passes) {
      times.push(await pass(1));
      const spent = performance.now() - started;
      // Enough to rank: over budget, or far slower than a provider already measured.
      if (spent > request.budgetMs) break;
      if (bestMs !== null && times.length >= 1 && Math.min(...times) > 5 * bestMs) break;
    }
    times.sort((a, b) => a - b);
    return {
      medianPassMs: times[Math.floor((times.length - 1) / 2)]!,
      passes: times.length,
      createMs,
    };
  } finally {
    release(past);
    await session.release();
  }
}

/** Device buffers go back as soon as a pass has replaced them (host tensors need nothing). */
function release(tensors: readonly ort.Tensor[]): void {
  for (const t of tensors) if (t.location === 'gpu-buffer') t.dispose();
}

process.once('message', (request: ProbeRequest) => {
  void (async () => {
    for (const [modelIndex, model] of request.models.entries()) {
      let bestMs: number | null = null;
      for (const provider of request.providers) {
        send({ type: 'start', modelIndex, provider });
        try {
          const t = await trial(model, provider, request, bestMs);
          bestMs = bestMs === null ? t.medianPassMs : Math.min(bestMs, t.medianPassMs);
          send({ type: 'trial', modelIndex, provider, ...t, error: null });
        } catch (err) {
          const error = err instanceof Error ? err.message : String(err);
          send({
            type: 'trial',
            modelIndex,
            provider,
            medianPassMs: null,
            passes: 0,
            createMs: null,
            error,
          });
        }
      }
    }
    send({ type: 'done' });
    process.disconnect?.();
  })();
});
