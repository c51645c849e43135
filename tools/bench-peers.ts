/**
 * `npm run bench:peers [-- --json] [--target DIR --draft DIR] [--ks 1,2] [--thread-counts 1]`: our
 * engine against llama.cpp (node-llama-cpp 3.21.1, CPU) on the same weights (by default the
 * embedded pair; any of our folders or a Hub-layout GPT-2 ONNX folder, such as the real-size
 * stand-ins, exported by tools/export_gguf.py), greedy, the seed prompt, 100 new tokens. Each engine runs in its own process (a worker of this script, loading
 * excluded from the times), the two alternating repeat by repeat; medians of the repeats, as
 * tokens per second and ratios ours / llama.cpp, at 1 thread and at the machine's core count:
 *
 * - target only: the greedy loop (ours on the CPU provider's fused rebuild of the graph, and
 *   once more on the graph as exported, so that what the rebuild is worth shows beside it);
 * - speculative with the draft, K = 1..5: ours drafts K every step; llama.cpp's
 *   DraftSequenceTokenPredictor with minTokens = maxTokens = K and no confidence cut-off;
 * - prompt lookup: ours (n-gram match over the prompt and the text so far, K = 4) against
 *   llama.cpp's InputLookupTokenPredictor (it looks in the prompt only);
 * - our greedy loop on llama.cpp's kernels: one controlledEvaluate call per token, so the
 *   kernels' speed and the loop's overhead can be told apart.
 *
 * Both engines' outputs are checked to be the same greedy text as the target alone.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Table from 'cli-table3';
import { Command } from 'commander';
import { median } from '../src/shared/stats';

const ROOT = resolve(import.meta.dirname, '..');
const PROMPT = 'Artificial intelligence is rapidly transforming our world by';
const LOOKUP_K = 4;
/** ours only: the target-only loop on the graph as exported, against llama.cpp's target only */
const EXPORTED_ROW = 'target only, our graph as exported';

/** one worker's measurements: seconds per configuration, and the tokens each produced */
interface WorkerResult {
  times: Record<string, number>;
  tokens: Record<string, number[]>;
}

const program = new Command()
  .name('bench:peers')
  .option('--json', 'print one JSON document instead of the tables')
  .option('--repeats <n>', 'repeats per engine and thread count', '5')
  .option('--max-new-tokens <n>', 'new tokens per run', '100')
  .option(
    '--target <dir>',
    'target model folder (ours, or a Hub-layout GPT-2 ONNX folder)',
    join(ROOT, 'resources', 'models', 'brown-pair', 'target'),
  )
  .option(
    '--draft <dir>',
    'draft model folder',
    join(ROOT, 'resources', 'models', 'brown-pair', 'draft'),
  )
  .option('--ks <list>', 'draft lengths', '1,2,3,4,5')
  .option(
    '--q8',
    "8-bit weights: ours on the folders' q8 ONNX file (dynamic quantization), llama.cpp on a Q8_0 export",
  )
  .option('--thread-counts <list>', 'thread counts to measure (default: 1 and the core count)')
  .option('--worker <engine>', '(internal) run one repeat of one engine: ours or llama')
  .option('--threads <n>', '(internal) threads for the worker', '1')
  .option('--gguf <dir>', '(internal) where the GGUF exports are');
const opts = program.parse().opts<{
  json?: boolean;
  repeats: string;
  maxNewTokens: string;
  worker?: 'ours' | 'llama';
  threads: string;
  gguf?: string;
  target: string;
  draft: string;
  ks: string;
  threadCounts?: string;
  q8?: boolean;
}>();
const N = Number(opts.maxNewTokens);
const TARGET = resolve(opts.target);
const DRAFT = resolve(opts.draft);
const KS = opts.ks.split(',').map(Number);

/** the q8 ONNX file of a Hub-layout folder (the `_quantized` variant), for --q8 */
function q8File(dir: string): string {
  const found = ['onnx/decoder_model_merged_quantized.onnx', 'onnx/model_quantized.onnx'].find(
    (f) => existsSync(join(dir, f)),
  );
  if (!found) throw new Error(`--q8: ${dir} has no onnx/*_quantized.onnx`);
  return found;
}
const onnxFile = (dir: string): string | undefined => (opts.q8 ? q8File(dir) : undefined);

async function oursWorker(threads: number): Promise<WorkerResult> {
  const { loadPair } = await import('../src/core/model/pair');
  const { OnnxCausalLM } = await import('../src/core/model/causalLm');
  const { readModelFolder } = await import('../src/core/model/modelFolder');
  const { BaselineRun } = await import('../src/core/decoding/baseline');
  const { SpeculativeRun } = await import('../src/core/decoding/speculative');
  // the thread count always named: the engine's default depends on the model's size
  const pair = await loadPair(TARGET, DRAFT, {
    target: { onnxFile: onnxFile(TARGET) ?? null, threads },
    draft: { onnxFile: onnxFile(DRAFT) ?? null, threads },
  });
  const base = { prompt: PROMPT, maxNewTokens: N };
  await new BaselineRun(pair, base).runToEnd(); // warm-up
  await new SpeculativeRun(pair, 2, base).runToEnd();
  const result: WorkerResult = { times: {}, tokens: {} };
  const record = (key: string, r: { metrics: { timeS: number }; outputTokenIds: number[] }) => {
    result.times[key] = r.metrics.timeS;
    result.tokens[key] = r.outputTokenIds;
  };
  record('target only', await new BaselineRun(pair, base).runToEnd());
  if (pair.target.lm.graph === 'fused') {
    // the same loop on the graph as exported, to show what the fused rebuild is worth
    const exported = await OnnxCausalLM.open(readModelFolder(TARGET, onnxFile(TARGET)), {
      intraOpThreads: threads,
      graph: 'exported',
    });
    const plain = { ...pair, target: { ...pair.target, lm: exported } };
    await new BaselineRun(plain, base).runToEnd(); // warm-up
    record(EXPORTED_ROW, await new BaselineRun(plain, base).runToEnd());
    await exported.release();
  }
  for (const k of KS) record(`draft K=${k}`, await new SpeculativeRun(pair, k, base).runToEnd());
  record(
    'prompt lookup',
    await new SpeculativeRun(pair, LOOKUP_K, { ...base, drafter: 'prompt-lookup' }).runToEnd(),
  );
  return result;
}

async function llamaWorker(threads: number, gguf: string): Promise<WorkerResult> {
  const nlc = await import('node-llama-cpp');
  type TokenPredictor = InstanceType<typeof nlc.TokenPredictor>;
  const llama = await nlc.getLlama({
    gpu: false,
    build: 'never',
    logLevel: nlc.LlamaLogLevel.error,
  });
  const target = await llama.loadModel({ modelPath: join(gguf, 'target.gguf') });
  const draft = await llama.loadModel({ modelPath: join(gguf, 'draft.gguf') });
  const prompt = target.tokenize(PROMPT);
  const result: WorkerResult = { times: {}, tokens: {} };
  /** greedy generation of N tokens on the target, with a token predictor if given */
  const generate = async (
    predictor?: (draftContext: Awaited<ReturnType<typeof draft.createContext>>) => TokenPredictor,
  ): Promise<{ s: number; tokens: number[] }> => {
    const context = await target.createContext({ contextSize: 512, threads, sequences: 1 });
    const draftContext = predictor
      ? await draft.createContext({ contextSize: 512, threads, sequences: 1 })
      : null;
    const seq = context.getSequence(
      predictor && draftContext ? { tokenPredictor: predictor(draftContext) } : {},
    );
    const out: number[] = [];
    const t0 = performance.now();
    for await (const t of seq.evaluate(prompt, { temperature: 0 })) {
      out.push(t);
      if (out.length >= N) break;
    }
    const s = (performance.now() - t0) / 1000;
    await context.dispose();
    await draftContext?.dispose();
    return { s, tokens: out };
  };
  await generate(); // warm-up
  const record = (key: string, r: { s: number; tokens: number[] }) => {
    result.times[key] = r.s;
    result.tokens[key] = r.tokens;
  };
  record('target only', await generate());
  for (const k of KS)
    record(
      `draft K=${k}`,
      await generate(
        (dc) =>
          new nlc.DraftSequenceTokenPredictor(dc.getSequence(), {
            minTokens: k,
            maxTokens: k,
            minConfidence: 0,
          }),
      ),
    );
  record(
    'prompt lookup',
    await generate(
      () => new nlc.InputLookupTokenPredictor({ predictionLength: { min: 1, max: LOOKUP_K } }),
    ),
  );
  // our greedy loop on their kernels: one call per token, the argmax taken by llama.cpp
  {
    const context = await target.createContext({ contextSize: 512, threads, sequences: 1 });
    const seq = context.getSequence();
    const out: number[] = [];
    const t0 = performance.now();
    let input: Parameters<typeof seq.controlledEvaluate>[0] = [
      ...prompt.slice(0, -1),
      [prompt.at(-1)!, { generateNext: { token: true, options: { temperature: 0 } } }],
    ];
    while (out.length < N) {
      const res = await seq.controlledEvaluate(input);
      const next = res.at(-1)?.next?.token;
      if (next === undefined || next === null) break;
      out.push(next);
      input = [[next, { generateNext: { token: true, options: { temperature: 0 } } }]];
    }
    record('our loop on llama.cpp kernels', { s: (performance.now() - t0) / 1000, tokens: out });
    await context.dispose();
  }
  await target.dispose();
  await draft.dispose();
  await llama.dispose();
  return result;
}

async function runWorker(
  engine: 'ours' | 'llama',
  threads: number,
  gguf: string,
): Promise<WorkerResult> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'tools', 'bench-peers.ts'),
      '--worker',
      engine,
      '--threads',
      String(threads),
      '--gguf',
      gguf,
      '--max-new-tokens',
      String(N),
      '--target',
      TARGET,
      '--draft',
      DRAFT,
      '--ks',
      opts.ks,
      ...(opts.q8 ? ['--q8'] : []),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number>((ok) => child.on('exit', (c) => ok(c ?? 1)));
  if (code !== 0) throw new Error(`the ${engine} worker exited ${code}`);
  return JSON.parse(out) as WorkerResult;
}

if (opts.worker) {
  const threads = Number(opts.threads);
  const result =
    opts.worker === 'ours' ? await oursWorker(threads) : await llamaWorker(threads, opts.gguf!);
  process.stdout.write(JSON.stringify(result));
} else {
  const gguf = mkdtempSync(join(tmpdir(), 'specdec-peers-'));
  // the exports are big at real size (gpt2-medium f32: 1.4 GB): gone when the script ends
  process.on('exit', () => rmSync(gguf, { recursive: true, force: true }));
  for (const [name, dir] of [
    ['target', TARGET],
    ['draft', DRAFT],
  ] as const)
    execFileSync(
      '/usr/bin/python3',
      [
        join(ROOT, 'tools', 'export_gguf.py'),
        dir,
        join(gguf, `${name}.gguf`),
        ...(opts.q8 ? ['--q8'] : []),
      ],
      { stdio: 'ignore' },
    );
  const threadCounts = opts.threadCounts
    ? opts.threadCounts.split(',').map(Number)
    : [...new Set([1, cpus().length])];
  const repeats = Number(opts.repeats);
  const report: Array<{
    threads: number;
    rows: Array<{
      config: string;
      oursTps: number | null;
      llamaTps: number | null;
      ratio: number | null;
      /** the median over repeats of each repeat's ratio (its two processes ran back to back) */
      ratioPerRepeat: number | null;
      sameText: boolean;
    }>;
  }> = [];
  for (const threads of threadCounts) {
    const ours: WorkerResult[] = [];
    const llama: WorkerResult[] = [];
    for (let r = 0; r < repeats; r++) {
      process.stderr.write(`threads ${threads}, repeat ${r + 1}/${repeats}\n`);
      ours.push(await runWorker('ours', threads, gguf));
      llama.push(await runWorker('llama', threads, gguf));
    }
    const reference = ours[0]!.tokens['target only']!;
    const configs = [...new Set([...Object.keys(ours[0]!.times), ...Object.keys(llama[0]!.times)])];
    report.push({
      threads,
      rows: configs.map((config) => {
        const tps = (rs: WorkerResult[]): number | null =>
          rs[0]!.times[config] === undefined ? null : N / median(rs.map((x) => x.times[config]!));
        // the exported-graph row is ours only: it is set against llama.cpp's target only
        const theirs = config === EXPORTED_ROW ? 'target only' : config;
        const o = tps(ours);
        const l =
          llama[0]!.times[theirs] === undefined
            ? null
            : N / median(llama.map((x) => x.times[theirs]!));
        // machine drift moves both engines of one repeat alike: a repeat's own ratio cancels it
        const perRepeat =
          o !== null && l !== null
            ? median(ours.map((x, r) => llama[r]!.times[theirs]! / x.times[config]!))
            : null;
        const texts = [...ours, ...llama].flatMap((x) =>
          x.tokens[config] ? [x.tokens[config]!] : [],
        );
        return {
          config,
          oursTps: o,
          llamaTps: l,
          ratio: o !== null && l !== null ? o / l : null,
          ratioPerRepeat: perRepeat,
          sameText: texts.every(
            (t) => t.length === reference.length && t.every((v, i) => v === reference[i]),
          ),
        };
      }),
    });
  }
  const header = {
    date: new Date().toISOString().slice(0, 10),
    machine: `${cpus()[0]?.model.trim() ?? 'unknown CPU'} x${cpus().length}, node ${process.version}`,
    pair: `${TARGET} + ${DRAFT} (${opts.q8 ? 'Q8_0 GGUF for llama.cpp, q8 ONNX for ours' : 'f32 GGUF for llama.cpp, fp32 ONNX for ours'}), greedy, seed prompt`,
    maxNewTokens: N,
    repeats,
  };
  if (opts.json) process.stdout.write(`${JSON.stringify({ ...header, report }, null, 2)}\n`);
  else {
    const f = (v: number | null, d = 0): string => (v === null ? '-' : v.toFixed(d));
    // real-size models make tens of tokens a second: a decimal then
    const tps = (v: number | null): string => f(v, v !== null && v < 100 ? 1 : 0);
    let text = `SpecDec Studio vs llama.cpp: ${header.date}, ${header.machine}\n${header.pair}; ${N} new tokens, medians of ${repeats}, each engine in its own process\n`;
    for (const { threads, rows } of report) {
      const table = new Table({
        head: [
          `${threads} thread${threads === 1 ? '' : 's'}`,
          'ours tok/s',
          'llama.cpp tok/s',
          'ours / llama.cpp',
          'per repeat',
          'same greedy text',
        ],
        style: { head: [], border: [] },
      });
      for (const r of rows)
        table.push([
          r.config,
          tps(r.oursTps),
          tps(r.llamaTps),
          f(r.ratio, 2),
          f(r.ratioPerRepeat, 2),
          r.sameText ? 'yes' : 'NO',
        ]);
      text += `${table.toString()}\n`;
    }
    process.stdout.write(text);
  }
}
