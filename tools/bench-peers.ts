/**
 * `npm run bench:peers [-- --json] [--pair NAME | --target DIR --draft DIR] [--q4 | --q8] [--ks 1,2]
 * [--thread-counts 1] [--configs target,draft]`: our engine against llama.cpp (node-llama-cpp
 * 3.21.1, CPU) on the same weights (by default the embedded pair; `--pair` a catalog pair's
 * real-size stand-ins from `npm run build:standin`; any of our folders or a Hub-layout folder,
 * exported by tools/export_gguf.py), greedy, the seed prompt, 100 new tokens. Each engine runs in
 * its own process (tools/peersWorkers.ts, loading excluded from the loop times), the two
 * alternating repeat by repeat; medians of the repeats, as tokens per second and ratios
 * ours / llama.cpp, at 1 thread and at the machine's core count:
 *
 * - target only: the greedy loop (ours on the CPU provider's fused rebuild of the graph, and
 *   once more on the graph as exported where there is a rebuild, so that what it is worth shows);
 * - speculative with the draft, K = 1..5: ours drafts K every step; llama.cpp's
 *   DraftSequenceTokenPredictor with minTokens = maxTokens = K and no confidence cut-off;
 * - prompt lookup: ours (n-gram match over the prompt and the text so far, K = 4) against
 *   llama.cpp's InputLookupTokenPredictor (it looks in the prompt only);
 * - our greedy loop on llama.cpp's kernels: one controlledEvaluate call per token, so the
 *   kernels' speed and the loop's overhead can be told apart;
 *
 * and for each engine its load time, peak memory, one-token pass of target and draft, c and the
 * verify-cost curve. With `--q4`, ours runs once per `--q4-compute` mode (default both: int8
 * activations and the file's float32 products), each its own worker process in the same repeat,
 * so the two modes stand side by side against llama.cpp's Q4_0. Every speculative run is checked to give its engine's target-only text, and
 * llama.cpp's target-only text is compared with ours.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { catalogPair, PAIR_NAMES } from '../src/shared/catalogPairs';
import { median } from '../src/shared/stats';
import { printReport, type EngineCosts, type PeersReport } from './peersReport';
import {
  CONFIGS,
  EXPORTED_ROW,
  llamaWorker,
  oursWorker,
  type Config,
  type WorkerResult,
  type WorkerSetup,
} from './peersWorkers';

const ROOT = resolve(import.meta.dirname, '..');
const STANDINS = join(homedir(), '.cache', 'specdec-studio', 'family-standins');

const program = new Command()
  .name('bench:peers')
  .option('--json', 'print one JSON document instead of the tables')
  .option('--repeats <n>', 'repeats per engine and thread count', '5')
  .option('--max-new-tokens <n>', 'new tokens per run', '100')
  .option(
    '--warmup-tokens <n>',
    'new tokens of the warm-up runs in each worker (default: --max-new-tokens)',
  )
  .option('--pair <name>', `a catalog pair's real-size stand-ins (${PAIR_NAMES.join(', ')})`)
  .option(
    '--standins <dir>',
    'where --pair finds the stand-ins (npm run build:standin --out)',
    STANDINS,
  )
  .option('--target <dir>', 'target model folder (ours, or a Hub-layout ONNX folder)')
  .option('--draft <dir>', 'draft model folder')
  .option('--ks <list>', 'draft lengths', '1,2,3,4,5')
  .option('--verify-ks <list>', 'the K of the verify-cost curve (default: --ks)')
  .option(
    '--q8',
    "8-bit weights: ours on the folders' q8 ONNX file (dynamic quantization), llama.cpp on a Q8_0 export",
  )
  .option(
    '--q4',
    '4-bit weights: ours on onnx/model_q4.onnx (MatMulNBits), llama.cpp on its Q4_0 export of the same 4-bit blocks',
  )
  .option(
    '--q4-compute <list>',
    "with --q4: how our CPU provider computes the 4-bit products, each mode its own column: int8 (activations rounded to 8 bits, accuracy_level 4), exported (the file's float32 products)",
    'int8,exported',
  )
  .option('--thread-counts <list>', 'thread counts to measure (default: 1 and the core count)')
  .option('--configs <list>', `rows to run (${CONFIGS.join(',')})`, CONFIGS.join(','))
  .option('--worker <engine>', '(internal) run one repeat of one engine: ours or llama')
  .option('--threads <n>', '(internal) threads for the worker', '1')
  .option('--gguf <dir>', '(internal) where the GGUF exports are');
const opts = program.parse().opts<{
  json?: boolean;
  repeats: string;
  maxNewTokens: string;
  warmupTokens?: string;
  pair?: string;
  standins: string;
  worker?: 'ours' | 'llama';
  threads: string;
  gguf?: string;
  target?: string;
  draft?: string;
  ks: string;
  verifyKs?: string;
  threadCounts?: string;
  configs: string;
  q8?: boolean;
  q4?: boolean;
  q4Compute: string;
}>();

function fail(message: string): never {
  process.stderr.write(`bench:peers: ${message}\n`);
  process.exit(2);
}

/** --pair's folders, --target/--draft, or the embedded pair */
function folders(): { target: string; draft: string } {
  if (opts.pair) {
    if (opts.target || opts.draft)
      fail('--pair names both models: leave out --target and --draft.');
    const pair = catalogPair(opts.pair);
    if (!pair) fail(`--pair ${opts.pair}: not a catalog pair (${PAIR_NAMES.join(', ')}).`);
    const dirs = {
      target: join(opts.standins, pair.target),
      draft: join(opts.standins, pair.draft),
    };
    for (const name of [pair.target, pair.draft])
      if (!existsSync(join(opts.standins, name, 'config.json')))
        fail(
          `--pair ${opts.pair}: no stand-in of ${name} in ${opts.standins}. Build it: npm run build:standin -- --model ${name} --formats model,q4 --out ${opts.standins}`,
        );
    return dirs;
  }
  const pairDir = join(ROOT, 'resources', 'models', 'brown-pair');
  return {
    target: resolve(opts.target ?? join(pairDir, 'target')),
    draft: resolve(opts.draft ?? join(pairDir, 'draft')),
  };
}

if (opts.q4 && opts.q8) fail('--q4 and --q8: pick one.');
const { target: TARGET, draft: DRAFT } = folders();
const weights = opts.q4 ? 'q4' : opts.q8 ? 'q8' : 'f32';
const configs = new Set(opts.configs.split(',').map((c) => c.trim()));
type Q4Mode = 'int8' | 'exported';
/** our worker's runs: one per --q4-compute mode with --q4 (null: no 4-bit products to choose) */
const oursModes: Array<Q4Mode | null> = opts.q4
  ? [...new Set(opts.q4Compute.split(',').map((m) => m.trim()))].map((m) =>
      m === 'int8' || m === 'exported'
        ? m
        : fail(`--q4-compute ${m}: one of int8, exported (a comma-separated list).`),
    )
  : [null];
if (opts.worker === 'ours' && opts.q4 && oursModes.length !== 1)
  fail('(internal) a worker runs one --q4-compute mode');
for (const c of configs)
  if (!(CONFIGS as readonly string[]).includes(c))
    fail(`--configs ${c}: one of ${CONFIGS.join(', ')}.`);

/** the ONNX file our engine runs for the chosen weights (null: the folder's fp32 default) */
function onnxFile(dir: string): string | null {
  if (weights === 'f32') return null;
  const names =
    weights === 'q4'
      ? ['onnx/model_q4.onnx', 'onnx/decoder_model_merged_q4.onnx']
      : ['onnx/decoder_model_merged_quantized.onnx', 'onnx/model_quantized.onnx'];
  const found = names.find((f) => existsSync(join(dir, f)));
  if (!found) fail(`--${weights}: ${dir} has none of ${names.join(', ')}`);
  return found;
}

const setup = (threads: number, gguf: string): WorkerSetup => ({
  target: TARGET,
  draft: DRAFT,
  onnxFile,
  gguf,
  threads,
  maxNewTokens: Number(opts.maxNewTokens),
  warmupTokens: Number(opts.warmupTokens ?? opts.maxNewTokens),
  ks: opts.ks.split(',').map(Number),
  verifyKs: (opts.verifyKs ?? opts.ks).split(',').map(Number),
  configs: configs as ReadonlySet<Config>,
  q4Compute: oursModes[0]!,
});

async function runWorker(
  engine: 'ours' | 'llama',
  threads: number,
  gguf: string,
  q4Mode: Q4Mode | null = null,
): Promise<WorkerResult> {
  const args = ['--worker', engine, '--threads', String(threads), '--gguf', gguf];
  if (q4Mode) args.push('--q4-compute', q4Mode);
  args.push('--max-new-tokens', opts.maxNewTokens, '--target', TARGET, '--draft', DRAFT);
  args.push('--warmup-tokens', opts.warmupTokens ?? opts.maxNewTokens);
  args.push(
    '--ks',
    opts.ks,
    '--verify-ks',
    opts.verifyKs ?? opts.ks,
    '--configs',
    opts.configs,
    ...(weights === 'f32' ? [] : [`--${weights}`]),
  );
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'tools', 'bench-peers.ts'), ...args],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number>((ok) => child.on('exit', (c) => ok(c ?? 1)));
  if (code !== 0) throw new Error(`the ${engine} worker exited ${code}`);
  return JSON.parse(out) as WorkerResult;
}

const sameTokens = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);
/** how many leading tokens two texts share */
const agreeing = (a: readonly number[], b: readonly number[]): number => {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
};

if (opts.worker) {
  const s = setup(Number(opts.threads), opts.gguf ?? '');
  const result = opts.worker === 'ours' ? await oursWorker(s) : await llamaWorker(s);
  process.stdout.write(JSON.stringify(result));
} else {
  const gguf = mkdtempSync(join(tmpdir(), 'specdec-peers-'));
  // the exports are big at real size (smollm2-1.7b f32: 6.8 GB): gone when the script ends
  process.on('exit', () => rmSync(gguf, { recursive: true, force: true }));
  const exportS: Record<string, number> = {};
  for (const [name, dir] of [
    ['target', TARGET],
    ['draft', DRAFT],
  ] as const) {
    const t0 = performance.now();
    process.stderr.write(`exporting the ${name} to GGUF (${weights})\n`);
    execFileSync(
      '/usr/bin/python3',
      [
        join(ROOT, 'tools', 'export_gguf.py'),
        dir,
        join(gguf, `${name}.gguf`),
        ...(weights === 'f32' ? [] : [`--${weights}`]),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    exportS[name] = (performance.now() - t0) / 1000;
  }
  const threadCounts = opts.threadCounts
    ? opts.threadCounts.split(',').map(Number)
    : [...new Set([1, cpus().length])];
  const repeats = Number(opts.repeats);
  const N = Number(opts.maxNewTokens);
  const report: PeersReport['report'] = [];
  // what each of our modes' target ran its 4-bit products in, as the worker's model reports it
  const ran: Array<string | null> = oursModes.map(() => null);
  for (const threads of threadCounts) {
    // ours[m]: our worker's repeats in mode m (one mode unless --q4 compares them)
    const ours: WorkerResult[][] = oursModes.map(() => []);
    const llama: WorkerResult[] = [];
    for (let r = 0; r < repeats; r++) {
      process.stderr.write(`threads ${threads}, repeat ${r + 1}/${repeats}\n`);
      for (const [m, mode] of oursModes.entries())
        ours[m]!.push(await runWorker('ours', threads, gguf, mode));
      llama.push(await runWorker('llama', threads, gguf));
    }
    const rowsOf = [
      ...new Set([
        ...ours.flatMap((o) => Object.keys(o[0]!.times)),
        ...Object.keys(llama[0]!.times),
      ]),
    ];
    ours.forEach((o, m) => (ran[m] = o[0]!.q4Compute ?? null));
    const own = (x: WorkerResult): number[] => x.tokens['target only']!;
    const tps = (rs: WorkerResult[], key: string): number | null =>
      rs[0]!.times[key] === undefined ? null : N / median(rs.map((x) => x.times[key]!));
    report.push({
      threads,
      enginesAgreeTokens: ours.map((o) => agreeing(own(o[0]!), own(llama[0]!))),
      newTokens: own(llama[0]!).length,
      costs: { ours: ours.map((o) => medianCosts(o)), llama: medianCosts(llama) },
      rows: rowsOf.map((config) => {
        // the exported-graph row is ours only: it is set against llama.cpp's target only
        const theirs = config === EXPORTED_ROW ? 'target only' : config;
        const l = tps(llama, theirs);
        return {
          config,
          llamaTps: l,
          ours: ours.map((rs) => {
            const o = tps(rs, config);
            return {
              tps: o,
              ratio: o !== null && l !== null ? o / l : null,
              // machine drift moves both engines of one repeat alike: a repeat's own ratio cancels it
              ratioPerRepeat:
                o !== null && l !== null
                  ? median(rs.map((x, r) => llama[r]!.times[theirs]! / x.times[config]!))
                  : null,
            };
          }),
          // lossless: each engine's runs (each of our modes) give their own target-only text
          lossless: [...ours.flat(), ...llama].every(
            (x) => x.tokens[config] === undefined || sameTokens(x.tokens[config]!, own(x)),
          ),
        };
      }),
    });
  }
  const files = {
    f32: 'f32 GGUF for llama.cpp, fp32 ONNX for ours',
    q8: 'Q8_0 GGUF for llama.cpp, q8 ONNX for ours',
    q4: "Q4_0 GGUF of our q4 file's 4-bit blocks for llama.cpp, q4 ONNX (MatMulNBits) for ours",
  }[weights];
  printReport(
    {
      date: new Date().toISOString().slice(0, 10),
      machine: `${cpus()[0]?.model.trim() ?? 'unknown CPU'} x${cpus().length}, node ${process.version}`,
      pair: `${TARGET} + ${DRAFT} (${files}), greedy, seed prompt`,
      weights,
      // each of our columns: the mode asked and what the target's 4-bit products ran in
      ours: oursModes.map((mode, m) => ({ q4Compute: mode, ran: ran[m]! })),
      maxNewTokens: N,
      repeats,
      exportS,
      report,
    },
    Boolean(opts.json),
  );
}

function medianCosts(rs: WorkerResult[]): EngineCosts {
  const ks = Object.keys(rs[0]!.costs.verifyCost);
  return {
    loadS: median(rs.map((x) => x.loadS)),
    peakRssBytes: Math.max(...rs.map((x) => x.peakRssBytes)),
    targetMs: median(rs.map((x) => x.costs.targetMs)),
    draftMs: median(rs.map((x) => x.costs.draftMs)),
    c: median(rs.map((x) => x.costs.c)),
    verifyCost: Object.fromEntries(
      ks.map((k) => [k, median(rs.map((x) => x.costs.verifyCost[k]!))]),
    ),
  };
}
