/**
 * `npm run bench:engine`: how much of generation time is model time, what speedup speculative
 * decoding gets over the KV-cache baseline, how that compares with Leviathan's prediction, and
 * how our baseline compares with transformers.js generate() on the same model. Everything is
 * measured side by side in one run and reported as ratios (absolute times on shared machines
 * are noise).
 */
import { AutoModelForCausalLM, AutoTokenizer } from '@huggingface/transformers';
import Table from 'cli-table3';
import { cpus } from 'node:os';
import { BaselineRun } from '../core/decoding/baseline';
import { SpeculativeRun } from '../core/decoding/speculative';
import { measureCosts } from '../core/experiment/costRatio';
import { median } from '../shared/stats';
import { SEED_PROMPT } from '../shared/defaults';
import { bestPredictedK, expectedSpeedup } from '../results/theory';
import { loadPair, releasePair } from '../core/model/pair';
import { kvLocationFor } from '../core/model/causalLm';
import {
  type ExecutionProvider,
  type GraphChoice,
  type KvLocationChoice,
  type Q4Compute,
} from '../shared/decoding';
import { formatBytes } from '../shared/format';
import { benchCacheVariants, variantName, type CacheVariant } from './cacheBench';
import { q4Notes } from './q4Notes';
import { treeBenchCommand } from './treeBench';

export interface BenchOptions {
  target: string;
  draft: string;
  maxNewTokens: number;
  k: number[];
  repeats: number;
  ep: ExecutionProvider;
  kvLocation: KvLocationChoice;
  graph: GraphChoice;
  /** how the CPU provider computes a 4-bit file's MatMulNBits products (`--q4-compute`) */
  q4Compute: Q4Compute;
  /** token trees (`--tree`, `--tree-budget`): the tree benchmark instead (treeBench.ts) */
  tree?: number[][];
  treeBudget?: number[];
}

/** the K whose host<->device bytes are shown beside the CPU path, and its run's length */
const TRANSFER_K = 4;
const TRANSFER_TOKENS = 40;

const f = (v: number, d = 3): string => v.toFixed(d);

export async function benchCommand(opts: BenchOptions): Promise<void> {
  if (opts.tree?.length || opts.treeBudget?.length)
    return treeBenchCommand({
      ...opts,
      trees: opts.tree ?? [],
      treeBudgets: opts.treeBudget ?? [],
    });
  const model = {
    executionProvider: opts.ep,
    kvLocation: opts.kvLocation,
    graph: opts.graph,
    q4Compute: opts.q4Compute,
  };
  const pair = await loadPair(opts.target, opts.draft, { target: model, draft: model });
  const runOpts = { prompt: SEED_PROMPT, maxNewTokens: opts.maxNewTokens };
  const log = (s: string): void => void process.stderr.write(s + '\n');

  // Warm up both sessions, then measure c.
  await new BaselineRun(pair, runOpts).runToEnd();
  await new SpeculativeRun(pair, 4, runOpts).runToEnd();
  const cost = await measureCosts(pair.target.lm, pair.draft!.lm);
  log(`cost ratio c = ${f(cost.c)} (draft ${f(cost.draftMs)} ms / target ${f(cost.targetMs)} ms)`);

  // Interleave the configurations inside each repeat so machine noise hits them alike.
  const times = new Map<string, number[]>();
  const shares = new Map<string, number[]>();
  const accept = new Map<number, number>();
  const firstAccept = new Map<number, number>();
  /** share of speculative generation time spent cropping both KV caches */
  const cropShares: number[] = [];
  let baselineTokens = 0;
  const add = (m: Map<string, number[]>, key: string, v: number): void => {
    m.set(key, [...(m.get(key) ?? []), v]);
  };
  for (let r = 0; r < opts.repeats; r++) {
    log(`repeat ${r + 1}/${opts.repeats}`);
    const base = await new BaselineRun(pair, runOpts).runToEnd();
    baselineTokens = base.metrics.newTokens;
    add(times, 'baseline', base.metrics.timeS);
    add(shares, 'baseline', base.metrics.targetRunS / base.metrics.timeS);
    for (const k of opts.k) {
      const lms = [pair.target.lm, pair.draft!.lm];
      const cropBefore = lms.reduce((s, lm) => s + lm.cropMs, 0);
      const spec = await new SpeculativeRun(pair, k, runOpts).runToEnd();
      const cropMs = lms.reduce((s, lm) => s + lm.cropMs, 0) - cropBefore;
      cropShares.push(cropMs / 1000 / spec.metrics.timeS);
      if (spec.outputTokenIds.join() !== base.outputTokenIds.join()) {
        throw new Error(`K=${k}: speculative output differs from the baseline`);
      }
      add(times, `K=${k}`, spec.metrics.timeS);
      add(
        shares,
        `K=${k}`,
        (spec.metrics.targetRunS + spec.metrics.draftRunS) / spec.metrics.timeS,
      );
      accept.set(k, spec.metrics.acceptanceRate ?? 0);
      // greedy: the first draft of a step is accepted exactly as often as K=1's only one
      firstAccept.set(k, spec.acceptanceByPosition[0] ?? 0);
    }
  }
  // alpha is K=1's acceptance; without a K=1 run, the first-position acceptance of the smallest K
  const alpha = accept.get(1) ?? firstAccept.get(Math.min(...opts.k)) ?? NaN;
  const baseT = median(times.get('baseline')!);

  // transformers.js generate() on the same target model, same prompt, same provider (CPU).
  const tjs =
    opts.ep === 'cpu'
      ? await transformersJsTokensPerSecond(opts.target, opts.maxNewTokens, opts.repeats)
      : null;
  const kv = pair.target.lm.kvLocation;
  const q4 = q4Notes(pair.target.lm.q4Compute, pair.draft!.lm.q4Compute);
  await releasePair(pair);
  const transfer = await transferBesideCpu(opts, log);

  const table = new Table({
    head: [
      'run',
      'time (s)',
      'session.run share',
      'speedup',
      'predicted',
      'measured/predicted',
      'acceptance',
    ],
    style: { head: [], border: [] },
  });
  table.push(['baseline', f(baseT, 4), f(median(shares.get('baseline')!)), '1.00x', '-', '-', '-']);
  let bestK = opts.k[0]!;
  for (const k of opts.k) {
    const t = median(times.get(`K=${k}`)!);
    const speedup = baseT / t;
    if (speedup > baseT / median(times.get(`K=${bestK}`)!)) bestK = k;
    const predicted = expectedSpeedup(alpha, cost.c, k);
    table.push([
      `K=${k}`,
      f(t, 4),
      f(median(shares.get(`K=${k}`)!)),
      `${f(speedup, 2)}x`,
      `${f(predicted, 2)}x`,
      f(speedup / predicted, 2),
      f(accept.get(k)!, 3),
    ]);
  }
  const bestSpeedup = baseT / median(times.get(`K=${bestK}`)!);
  const ours = baselineTokens / baseT;
  const allShares = [...shares.values()].flat();
  const out = (s = ''): void => void process.stdout.write(s + '\n');
  out(
    `SpecDec Studio engine benchmark: ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, node ${process.version}`,
  );
  out(
    `pair: ${pair.target.folder.name} + ${pair.draft!.folder.name}, seed prompt, ${opts.maxNewTokens} new tokens, greedy, ${opts.ep}${opts.ep === 'cpu' ? '' : `, KV cache ${kv === 'device' ? 'on the device' : 'in host memory'}`}${q4}, medians of ${opts.repeats}`,
  );
  out(
    `alpha (${opts.k.includes(1) ? 'K=1 acceptance' : `first-draft acceptance at K=${Math.min(...opts.k)}`}) = ${f(alpha)}, c = ${f(cost.c)}`,
  );
  out(table.toString());
  out(
    `session.run share of generation time: min ${f(Math.min(...allShares))}, median ${f(median(allShares))}  (bar >= 0.90)`,
  );
  out(
    `KV-cache crops (${kv === 'device' ? 'sliced on the device' : 'cache in JS memory, kept prefix copied per head'}): median ${f(100 * median(cropShares), 2)}%, max ${f(100 * Math.max(...cropShares), 2)}% of speculative generation time`,
  );
  out(
    `best K = ${bestK}: ${f(bestSpeedup, 2)}x over the KV-cache baseline  (bar >= 1.3x); predicted best K = ${bestPredictedK(alpha, cost.c)}`,
  );
  out(
    `measured / predicted speedup at best K: ${f(bestSpeedup / expectedSpeedup(alpha, cost.c, bestK), 2)}  (bar >= 0.85)`,
  );
  out(
    tjs === null
      ? `baseline tokens/s: ours ${f(ours, 1)} (transformers.js is compared on the cpu only)`
      : `baseline tokens/s: ours ${f(ours, 1)}, transformers.js generate() ${f(tjs, 1)}, ratio ${f(ours / tjs, 2)}  (bar >= 1.00)`,
  );
  out(transfer);
}

/**
 * Host<->device bytes per pass of one K=4 run on the CPU and, on a GPU provider, with the cache
 * in host memory and (where it can be) on the device: the table `--ep webgpu` is run for.
 */
async function transferBesideCpu(opts: BenchOptions, log: (s: string) => void): Promise<string> {
  const variants: CacheVariant[] =
    opts.ep === 'cpu'
      ? []
      : [
          { ep: opts.ep, kvLocation: 'host' },
          ...(kvLocationFor('auto', opts.ep) === 'device'
            ? [{ ep: opts.ep, kvLocation: 'device' as const }]
            : []),
        ];
  log(
    `host<->device bytes: one K=${TRANSFER_K} run of ${TRANSFER_TOKENS} tokens per KV-cache location`,
  );
  const { variants: results } = await benchCacheVariants({
    target: opts.target,
    draft: opts.draft,
    prompt: SEED_PROMPT,
    maxNewTokens: TRANSFER_TOKENS,
    configs: [TRANSFER_K],
    repeats: 1,
    variants,
  });
  const table = new Table({
    head: [
      `K=${TRANSFER_K}, ${TRANSFER_TOKENS} tokens, per pass (medians)`,
      'target cache',
      'target read',
      'draft cache',
      'draft read',
      'tokens = cpu',
    ],
    style: { head: [], border: [] },
  });
  for (const r of results) {
    const run = r.runs[`K=${TRANSFER_K}`];
    const t = run?.transfer;
    table.push(
      r.unavailable || !t
        ? [variantName(r.variant), { colSpan: 5, content: `not measured: ${r.unavailable}` }]
        : [
            variantName(r.variant),
            formatBytes(t.cacheBytesPerPass),
            formatBytes(t.readBytesPerPass),
            formatBytes(t.draft?.cacheBytesPerPass),
            formatBytes(t.draft?.readBytesPerPass),
            run.sameTokens ? 'yes' : 'NO',
          ],
    );
  }
  const byLocation = (where: 'host' | 'device') =>
    results.find((r) => r.variant.ep === opts.ep && r.variant.kvLocation === where)?.runs[
      `K=${TRANSFER_K}`
    ]?.transfer?.cacheBytesPerPass;
  const was = byLocation('host');
  const now = byLocation('device');
  const summary =
    was !== undefined && now !== undefined
      ? `\ncache bytes per pass: ${formatBytes(now)} (was ${formatBytes(was)} with the cache in host memory)`
      : '';
  return `host<->device bytes per pass:\n${table.toString()}${summary}`;
}

async function transformersJsTokensPerSecond(
  dir: string,
  maxNewTokens: number,
  repeats: number,
): Promise<number> {
  const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  const model = await AutoModelForCausalLM.from_pretrained(dir, {
    local_files_only: true,
    device: 'cpu',
    dtype: 'fp32',
  });
  const inputs = tokenizer(SEED_PROMPT);
  const rates: number[] = [];
  for (let r = 0; r < repeats + 1; r++) {
    const t0 = performance.now();
    const out = (await model.generate({
      ...inputs,
      max_new_tokens: maxNewTokens,
      do_sample: false,
    })) as { dims: number[] };
    const dt = (performance.now() - t0) / 1000;
    const newTokens = out.dims[1]! - (inputs.input_ids as { dims: number[] }).dims[1]!;
    if (r > 0) rates.push(newTokens / dt); // the first call is a warm-up
  }
  await model.dispose();
  return median(rates);
}
