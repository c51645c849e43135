/**
 * The same greedy runs on several (provider, KV-cache location) variants of one pair, interleaved
 * repeat by repeat so machine noise hits them alike: times, host<->device bytes per pass and
 * whether each variant gave the CPU's tokens. `bench:gpu` measures the baseline and a K sweep
 * with it; `bench:engine --ep <gpu>` prints one K's bytes beside the CPU path.
 */
import { BaselineRun } from '../core/decoding/baseline';
import { SpeculativeRun } from '../core/decoding/speculative';
import type { RunResult } from '../core/decoding/decodeRun';
import { loadPair, releasePair, type ModelPair } from '../core/model/pair';
import type { ExecutionProvider, KvLocation } from '../shared/decoding';
import type { RunMetrics } from '../shared/events';
import { median } from '../shared/stats';
import { describeError } from '../core/errors';

export interface CacheVariant {
  ep: ExecutionProvider;
  kvLocation: KvLocation;
}

export const variantName = (v: CacheVariant): string =>
  v.ep === 'cpu'
    ? 'cpu'
    : `${v.ep}, cache ${v.kvLocation === 'device' ? 'on the device' : 'in host memory'}`;

export interface VariantResult {
  variant: CacheVariant;
  /** why the variant could not run here (then nothing else is set) */
  unavailable: string | null;
  /** per configuration ('baseline', 'K=2'): median seconds, bytes, tokens equal to the CPU's */
  runs: Record<
    string,
    { timeS: number; transfer: NonNullable<RunMetrics['transfer']> | null; sameTokens: boolean }
  >;
}

export interface CacheBenchOptions {
  target: string;
  draft: string;
  prompt: string;
  maxNewTokens: number;
  /** null: the baseline */
  configs: Array<number | null>;
  repeats: number;
  /** the cpu variant is always measured first: it is the reference for tokens */
  variants: CacheVariant[];
  log?: (line: string) => void;
}

export const configName = (k: number | null): string => (k === null ? 'baseline' : `K=${k}`);

export interface CacheBenchResult {
  variants: VariantResult[];
  /**
   * this process's resident memory after each repeat, in bytes: with a software GPU (SwiftShader)
   * device memory is process memory, so a leak of device tensors would show as growth
   */
  rssAfterRepeat: number[];
}

export async function benchCacheVariants(o: CacheBenchOptions): Promise<CacheBenchResult> {
  const variants: CacheVariant[] = [{ ep: 'cpu', kvLocation: 'host' }, ...o.variants];
  const pairs: Array<ModelPair | null> = [];
  const results: VariantResult[] = [];
  for (const v of variants) {
    try {
      const model = { executionProvider: v.ep, kvLocation: v.kvLocation };
      pairs.push(await loadPair(o.target, o.draft, { target: model, draft: model }));
      results.push({ variant: v, unavailable: null, runs: {} });
    } catch (err) {
      pairs.push(null);
      results.push({ variant: v, unavailable: describeError(err), runs: {} });
    }
  }
  const times = new Map<string, number[]>();
  const reference = new Map<string, string>();
  const opts = { prompt: o.prompt, maxNewTokens: o.maxNewTokens };
  const rssAfterRepeat: number[] = [];
  try {
    // a warm-up per variant: a GPU provider compiles its kernels on the first passes
    for (const pair of pairs) if (pair) await runOne(pair, o.configs.at(-1) ?? null, opts);
    for (let r = 0; r < o.repeats; r++) {
      o.log?.(`repeat ${r + 1}/${o.repeats}`);
      for (const k of o.configs) {
        for (const [i, pair] of pairs.entries()) {
          if (!pair) continue;
          const result = await runOne(pair, k, opts);
          const name = configName(k);
          const key = `${i}/${name}`;
          times.set(key, [...(times.get(key) ?? []), result.metrics.timeS]);
          const tokens = result.outputTokenIds.join(' ');
          if (i === 0) reference.set(name, tokens);
          const prev = results[i]!.runs[name];
          results[i]!.runs[name] = {
            timeS: median(times.get(key)!),
            transfer: result.metrics.transfer ?? null,
            sameTokens: (prev?.sameTokens ?? true) && tokens === reference.get(name),
          };
        }
      }
      rssAfterRepeat.push(process.memoryUsage().rss);
    }
  } finally {
    for (const pair of pairs) if (pair) await releasePair(pair);
  }
  return { variants: results, rssAfterRepeat };
}

function runOne(
  pair: ModelPair,
  k: number | null,
  opts: { prompt: string; maxNewTokens: number },
): Promise<RunResult> {
  return (k === null ? new BaselineRun(pair, opts) : new SpeculativeRun(pair, k, opts)).runToEnd();
}
