/**
 * bench:peers' two workers, each run in its own process (tools/bench-peers.ts spawns them): our
 * engine and llama.cpp (node-llama-cpp 3.21.1, CPU) on the same weights, each timing the same
 * greedy loops, its load, its one-token and (K + 1)-token passes after a 40-token cache (c and the
 * verify-cost curve, as src/core/experiment/costRatio.ts measures ours), and its peak memory.
 */
import { join } from 'node:path';
import type { ControlledEvaluateInputItem, Token } from 'node-llama-cpp';

export const PROMPT = 'Artificial intelligence is rapidly transforming our world by';
export const LOOKUP_K = 4;
/** ours only: the target-only loop on the graph as exported, against llama.cpp's target only */
export const EXPORTED_ROW = 'target only, our graph as exported';
/** the rows a run can ask for (--configs) */
export const CONFIGS = ['target', 'exported', 'draft', 'lookup', 'kernels'] as const;
export type Config = (typeof CONFIGS)[number];
/** the cache a cost pass runs after, as costRatio.ts's */
const CACHE_TOKENS = 40;
const COST_SAMPLES = 5;

/** one pass's costs as both engines measure them: medians in ms, and their ratios */
export interface PassCosts {
  targetMs: number;
  draftMs: number;
  c: number;
  /** t_target(K + 1) / t_target(1), keyed by K */
  verifyCost: Record<string, number>;
}

/** one worker's measurements: seconds per configuration, the tokens each produced, and costs */
export interface WorkerResult {
  times: Record<string, number>;
  tokens: Record<string, number[]>;
  /** seconds to load the target and the draft, ready to run */
  loadS: number;
  /** ours: what the target's 4-bit MatMulNBits products ran in (null: none, or llama.cpp) */
  q4Compute?: string | null;
  /** the process's peak resident memory (weights read through mmap included), bytes */
  peakRssBytes: number;
  costs: PassCosts;
}

export interface WorkerSetup {
  target: string;
  draft: string;
  /** ours: the ONNX file in each folder (null: the folder's default); llama.cpp: the GGUF folder */
  onnxFile: (dir: string) => string | null;
  gguf: string;
  threads: number;
  maxNewTokens: number;
  /** tokens of the warm-up runs before the timed ones (the first runs pay for lazy set-up) */
  warmupTokens: number;
  ks: readonly number[];
  /** the K of the verify-cost curve: a target pass over K + 1 tokens */
  verifyKs: readonly number[];
  configs: ReadonlySet<Config>;
  /** ours: how the CPU provider computes 4-bit products (--q4-compute; null: the default) */
  q4Compute: 'int8' | 'exported' | null;
}

const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

export async function oursWorker(s: WorkerSetup): Promise<WorkerResult> {
  const { loadPair } = await import('../src/core/model/pair');
  const { OnnxCausalLM } = await import('../src/core/model/causalLm');
  const { readModelFolder } = await import('../src/core/model/modelFolder');
  const { BaselineRun } = await import('../src/core/decoding/baseline');
  const { SpeculativeRun } = await import('../src/core/decoding/speculative');
  const { measureCosts } = await import('../src/core/experiment/costRatio');
  const t0 = performance.now();
  // the thread count always named: the engine's default depends on the model's size
  const q4 = s.q4Compute ? { q4Compute: s.q4Compute } : {};
  const pair = await loadPair(s.target, s.draft, {
    target: { onnxFile: s.onnxFile(s.target), threads: s.threads, ...q4 },
    draft: { onnxFile: s.onnxFile(s.draft), threads: s.threads, ...q4 },
  });
  const loadS = (performance.now() - t0) / 1000;
  const base = { prompt: PROMPT, maxNewTokens: s.maxNewTokens };
  const warmup = { ...base, maxNewTokens: s.warmupTokens };
  await new BaselineRun(pair, warmup).runToEnd();
  if (s.configs.has('draft')) await new SpeculativeRun(pair, s.ks[0]!, warmup).runToEnd();
  const result: Omit<WorkerResult, 'peakRssBytes' | 'costs'> = {
    times: {},
    tokens: {},
    loadS,
    q4Compute: pair.target.lm.q4Compute,
  };
  const record = (key: string, r: { metrics: { timeS: number }; outputTokenIds: number[] }) => {
    result.times[key] = r.metrics.timeS;
    result.tokens[key] = r.outputTokenIds;
  };
  record('target only', await new BaselineRun(pair, base).runToEnd());
  if (s.configs.has('exported') && pair.target.lm.graph === 'fused') {
    // the same loop on the graph as exported, to show what the fused rebuild is worth
    const exported = await OnnxCausalLM.open(
      readModelFolder(s.target, s.onnxFile(s.target) ?? undefined),
      { intraOpThreads: s.threads, graph: 'exported', ...q4 },
    );
    const plain = { ...pair, target: { ...pair.target, lm: exported } };
    await new BaselineRun(plain, warmup).runToEnd();
    record(EXPORTED_ROW, await new BaselineRun(plain, base).runToEnd());
    await exported.release();
  }
  if (s.configs.has('draft'))
    for (const k of s.ks)
      record(`draft K=${k}`, await new SpeculativeRun(pair, k, base).runToEnd());
  if (s.configs.has('lookup'))
    record(
      'prompt lookup',
      await new SpeculativeRun(pair, LOOKUP_K, { ...base, drafter: 'prompt-lookup' }).runToEnd(),
    );
  const costs = await measureCosts(pair.target.lm, pair.draft!.lm, s.verifyKs);
  return { ...result, peakRssBytes: peakRss(), costs };
}

export async function llamaWorker(s: WorkerSetup): Promise<WorkerResult> {
  const nlc = await import('node-llama-cpp');
  type TokenPredictor = InstanceType<typeof nlc.TokenPredictor>;
  type Model = Awaited<ReturnType<typeof llama.loadModel>>;
  const t0 = performance.now();
  const llama = await nlc.getLlama({
    gpu: false,
    build: 'never',
    logLevel: nlc.LlamaLogLevel.error,
  });
  const target = await llama.loadModel({ modelPath: join(s.gguf, 'target.gguf') });
  const draft = await llama.loadModel({ modelPath: join(s.gguf, 'draft.gguf') });
  const contextOf = (m: Model) =>
    m.createContext({ contextSize: 512, threads: s.threads, sequences: 1 });
  // loaded and ready to run: a context each, as ours has a session each
  const ready = await Promise.all([contextOf(target), contextOf(draft)]);
  const loadS = (performance.now() - t0) / 1000;
  await Promise.all(ready.map((c) => c.dispose()));
  const prompt = target.tokenize(PROMPT);
  const result: Omit<WorkerResult, 'peakRssBytes' | 'costs'> = { times: {}, tokens: {}, loadS };
  /** greedy generation of n tokens on the target, with a token predictor if given */
  const generate = async (
    n: number,
    predictor?: (draftContext: Awaited<ReturnType<typeof contextOf>>) => TokenPredictor,
  ): Promise<{ s: number; tokens: number[] }> => {
    const context = await contextOf(target);
    const draftContext = predictor ? await contextOf(draft) : null;
    const seq = context.getSequence(
      predictor && draftContext ? { tokenPredictor: predictor(draftContext) } : {},
    );
    const out: number[] = [];
    const start = performance.now();
    for await (const t of seq.evaluate(prompt, { temperature: 0 })) {
      out.push(t);
      if (out.length >= n) break;
    }
    const sec = (performance.now() - start) / 1000;
    await context.dispose();
    await draftContext?.dispose();
    return { s: sec, tokens: out };
  };
  await generate(s.warmupTokens);
  const record = (key: string, r: { s: number; tokens: number[] }) => {
    result.times[key] = r.s;
    result.tokens[key] = r.tokens;
  };
  const n = s.maxNewTokens;
  record('target only', await generate(n));
  if (s.configs.has('draft'))
    for (const k of s.ks)
      record(
        `draft K=${k}`,
        await generate(
          n,
          (dc) =>
            new nlc.DraftSequenceTokenPredictor(dc.getSequence(), {
              minTokens: k,
              maxTokens: k,
              minConfidence: 0,
            }),
        ),
      );
  if (s.configs.has('lookup'))
    record(
      'prompt lookup',
      await generate(
        n,
        () => new nlc.InputLookupTokenPredictor({ predictionLength: { min: 1, max: LOOKUP_K } }),
      ),
    );
  if (s.configs.has('kernels')) {
    // our greedy loop on their kernels: one call per token, the argmax taken by llama.cpp
    const context = await contextOf(target);
    const seq = context.getSequence();
    const out: number[] = [];
    const start = performance.now();
    let input: Parameters<typeof seq.controlledEvaluate>[0] = [
      ...prompt.slice(0, -1),
      [prompt.at(-1)!, { generateNext: { token: true, options: { temperature: 0 } } }],
    ];
    while (out.length < n) {
      const res = await seq.controlledEvaluate(input);
      const next = res.at(-1)?.next?.token;
      if (next === undefined || next === null) break;
      out.push(next);
      input = [[next, { generateNext: { token: true, options: { temperature: 0 } } }]];
    }
    record('our loop on llama.cpp kernels', {
      s: (performance.now() - start) / 1000,
      tokens: out,
    });
    await context.dispose();
  }

  /** median ms of a pass over `tokens` new tokens, every one's logits asked for, after the cache */
  const passMs = async (model: Model, tokens: number): Promise<number> => {
    const context = await contextOf(model);
    const seq = context.getSequence();
    const cache = Array.from({ length: CACHE_TOKENS }, (_, j) => ((j * 37) % 256) as Token);
    await seq.controlledEvaluate(cache);
    // every token's next-token logits, as a verification pass computes ours
    const fed: ControlledEvaluateInputItem[] = Array.from({ length: tokens }, (_, j) => [
      (13 + j) as Token,
      { generateNext: { token: true, options: { temperature: 0 } } },
    ]);
    const times: number[] = [];
    for (let i = 0; i < COST_SAMPLES + 1; i++) {
      const start = performance.now();
      await seq.controlledEvaluate(fed);
      if (i > 0) times.push(performance.now() - start);
      await seq.eraseContextTokenRanges([{ start: CACHE_TOKENS, end: seq.nextTokenIndex }]);
    }
    await context.dispose();
    return times.sort((a, b) => a - b)[times.length >> 1]!;
  };
  const targetMs = await passMs(target, 1);
  const draftMs = await passMs(draft, 1);
  const verifyCost: Record<string, number> = {};
  for (const k of s.verifyKs) verifyCost[String(k)] = (await passMs(target, k + 1)) / targetMs;
  const peakRssBytes = peakRss();
  await target.dispose();
  await draft.dispose();
  await llama.dispose();
  return {
    ...result,
    peakRssBytes,
    costs: { targetMs, draftMs, c: draftMs / targetMs, verifyCost },
  };
}
