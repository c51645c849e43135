/**
 * `npm run bench:seed [-- --json]`: the seed pair (gpt2 drafting for gpt2-medium) at its real
 * size, as a user meets it, on this machine: shape-faithful stand-ins (tools/build_standin.py,
 * built once into a cache folder) are served by a local Hub in the merged layout, fp32 and q8;
 * `sweep --pair seed --hub-host ...` downloads them with its progress bar, loads them and runs
 * the exercise (K = 1, 2, 3, 4, 5, 8; 100 new tokens). Printed side by side for fp32 and q8:
 * file sizes, load times, per-pass costs, c, the verification curve t_target(K+1) / t_target(1),
 * the sweep's peak RSS, and the speedup Leviathan's formula predicts for alpha 0.5 to 0.8 with
 * constant and with measured verification cost. The weights are random, so acceptance and
 * measured speedups say nothing about GPT-2's text; costs and memory are what carry over.
 * With `--acceptance 0.5,...`, acceptance is controlled instead (tools/seedAcceptance.ts): one
 * sweep over alpha x K (1..8 unless --k says) of one dtype, printed as the heat map.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Table from 'cli-table3';
import { Command } from 'commander';
import { defaultCacheDir } from '../src/cli/paths';
import { measureCosts } from '../src/core/experiment/costRatio';
import { OnnxCausalLM } from '../src/core/model/causalLm';
import { readModelFolder } from '../src/core/model/modelFolder';
import { SEED_PAIR, catalogEntry, estimatedBytes } from '../src/shared/catalog';
import type { Dtype } from '../src/shared/decoding';
import { formatBytes } from '../src/shared/format';
import {
  bestPredictedK,
  expectedSpeedup,
  expectedSpeedupMeasuredCost,
} from '../src/results/theory';
import { startHubServer } from '../test/support/hubServer';
import type { AcceptanceGrid } from '../src/results/acceptanceGrid';
import { acceptanceTables } from './seedAcceptance';

const ROOT = resolve(import.meta.dirname, '..');
const KS = [1, 2, 3, 4, 5, 8];
const ALPHAS = [0.5, 0.6, 0.7, 0.8];
const DTYPES: Dtype[] = ['fp32', 'q8'];
const FILE: Record<string, string> = {
  fp32: 'onnx/decoder_model_merged.onnx',
  q8: 'onnx/decoder_model_merged_quantized.onnx',
};

const program = new Command()
  .name('bench:seed')
  .option('--json', 'print one JSON document instead of the tables')
  .option(
    '--cache <dir>',
    'where the stand-ins are built once',
    join(defaultCacheDir(), 'standins'),
  )
  .option('--max-new-tokens <n>', 'new tokens per run', '100')
  .option('--repeats <n>', 'repeats of the sweep (1: the exercise table)', '1')
  .option('--acceptance <list>', 'controlled acceptance targets: sweep alpha x K instead')
  .option('--k <list>', 'with --acceptance: the draft lengths', '1,2,3,4,5,6,7,8')
  .option('--dtype <dtype>', 'with --acceptance: the weights', 'fp32')
  .option('--report <file>', "with --acceptance: also write the sweep's report here")
  .parse();
const opts = program.opts<{
  json?: boolean;
  cache: string;
  maxNewTokens: string;
  repeats: string;
  acceptance?: string;
  k: string;
  dtype: Dtype;
  report?: string;
}>();
const log = (s: string): void => void process.stderr.write(`${s}\n`);

/** Build a stand-in once: merged fp32 and q8 at the real dimensions (minutes, gigabytes). */
function ensureStandin(name: string): string {
  const dir = join(opts.cache, name);
  if (Object.values(FILE).every((f) => existsSync(join(dir, f)))) return dir;
  log(`building the ${name} stand-in into ${dir} (once; 1 to 3 minutes)...`);
  execFileSync(
    '/usr/bin/python3',
    [
      join(ROOT, 'tools', 'build_standin.py'),
      '--model',
      name,
      '--formats',
      'merged,q8',
      '--out',
      opts.cache,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return dir;
}

/** Run the CLI as a user does; returns its JSON and its peak resident memory (VmHWM). */
async function sweep(
  dtype: Dtype,
  hubUrl: string,
  cacheDir: string,
  extra: { ks: string; args: string[] } = { ks: KS.join(','), args: [] },
): Promise<{ doc: SweepDoc; peakRssBytes: number; wallS: number }> {
  const args = [
    '--import',
    'tsx',
    join(ROOT, 'src', 'cli', 'main.ts'),
    'sweep',
    '--pair',
    'seed',
    '--hub-host',
    hubUrl,
    '--cache-dir',
    cacheDir,
    '--dtype',
    dtype,
    '--k',
    extra.ks,
    '--max-new-tokens',
    opts.maxNewTokens,
    '--repeats',
    opts.repeats,
    '--ep',
    'cpu',
    '--json',
    ...extra.args,
  ];
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  let peak = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) * 1024);
    } catch {
      // the process has just exited
    }
  }, 100);
  const code = await new Promise<number>((ok) => child.on('exit', (c) => ok(c ?? 1)));
  clearInterval(poll);
  if (code !== 0) throw new Error(`sweep --dtype ${dtype} exited ${code}`);
  return {
    doc: JSON.parse(out) as SweepDoc,
    peakRssBytes: peak,
    wallS: (performance.now() - started) / 1000,
  };
}

interface SweepDoc {
  theory: { alpha: number; c: number; verifyCost?: Record<string, number> } | null;
  acceptanceGrid?: AcceptanceGrid | null;
  summary: Array<{ mode: string; k: number | null; speedup: { median: number } | null }>;
}

interface DtypeResult {
  dtype: Dtype;
  bytes: { target: number; draft: number };
  estimatedBytes: { target: number; draft: number };
  loadS: { target: number; draft: number };
  passMs: { target: number; draft: number };
  c: number;
  verifyCost: Record<string, number>;
  peakRssBytes: number;
  sweepWallS: number;
  measuredSpeedup: Record<string, number | null>;
  /** the sweep's K=1 acceptance: near 0 for random weights, hence the measured speedups */
  measuredAlpha: number | null;
  predicted: Array<{
    alpha: number;
    leviathan: { k: number; speedup: number };
    measuredCost: { k: number; speedup: number };
  }>;
}

async function measure(
  dtype: Dtype,
  dirs: { target: string; draft: string },
): Promise<Omit<DtypeResult, 'peakRssBytes' | 'sweepWallS' | 'measuredSpeedup' | 'measuredAlpha'>> {
  const open = async (dir: string): Promise<{ lm: OnnxCausalLM; s: number }> => {
    const t0 = performance.now();
    const lm = await OnnxCausalLM.open(readModelFolder(dir, FILE[dtype]));
    return { lm, s: (performance.now() - t0) / 1000 };
  };
  const target = await open(dirs.target);
  const draft = await open(dirs.draft);
  const costs = await measureCosts(target.lm, draft.lm, KS);
  await target.lm.release();
  await draft.lm.release();
  const size = (dir: string): number => statSync(join(dir, FILE[dtype]!)).size;
  const predicted = ALPHAS.map((alpha) => {
    const k = bestPredictedK(alpha, costs.c);
    const measured = KS.map((kk) => ({
      k: kk,
      speedup: expectedSpeedupMeasuredCost(alpha, costs.c, kk, costs.verifyCost[String(kk)]!),
    })).reduce((a, b) => (b.speedup > a.speedup ? b : a));
    return {
      alpha,
      leviathan: { k, speedup: expectedSpeedup(alpha, costs.c, k) },
      measuredCost: measured,
    };
  });
  return {
    dtype,
    bytes: { target: size(dirs.target), draft: size(dirs.draft) },
    estimatedBytes: {
      target: estimatedBytes(catalogEntry(SEED_PAIR.target)!, dtype),
      draft: estimatedBytes(catalogEntry(SEED_PAIR.draft)!, dtype),
    },
    loadS: { target: target.s, draft: draft.s },
    passMs: { target: costs.targetMs, draft: costs.draftMs },
    c: costs.c,
    verifyCost: costs.verifyCost,
    predicted,
  };
}

const standins = { target: ensureStandin(SEED_PAIR.target), draft: ensureStandin(SEED_PAIR.draft) };
const hub = await startHubServer({
  [catalogEntry(SEED_PAIR.target)!.repos[0]!]: standins.target,
  [catalogEntry(SEED_PAIR.draft)!.repos[0]!]: standins.draft,
});
const downloads = mkdtempSync(join(tmpdir(), 'specdec-bench-seed-'));
if (opts.acceptance) {
  try {
    log(`\n== ${opts.dtype}: sweep --pair seed --acceptance ${opts.acceptance} --k ${opts.k}`);
    const args = ['--acceptance', opts.acceptance, '--warmup', '1'];
    if (opts.report) args.push('--report', resolve(opts.report));
    const run = await sweep(opts.dtype, hub.url, downloads, { ks: opts.k, args });
    const grid = run.doc.acceptanceGrid;
    if (!grid) throw new Error('the sweep returned no acceptanceGrid');
    const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'} x${cpus().length}, node ${process.version}`;
    const costs = grid.costs
      ? `c = ${grid.costs.c.toFixed(3)}, verify cost ${Object.entries(grid.costs.verifyCost ?? {})
          .map(([k, v]) => `${k}:${v.toFixed(2)}`)
          .join(' ')}`
      : 'no costs measured';
    process.stdout.write(
      opts.json
        ? `${JSON.stringify({ date: new Date().toISOString().slice(0, 10), machine, grid }, null, 2)}\n`
        : `SpecDec Studio seed pair, controlled acceptance: ${new Date().toISOString().slice(0, 10)}, ${machine}\n${SEED_PAIR.draft} -> ${SEED_PAIR.target}, ${opts.dtype}, ${opts.maxNewTokens} new tokens, ${opts.repeats} repeat(s), sweep ${run.wallS.toFixed(0)} s, peak RSS ${formatBytes(run.peakRssBytes)}; ${costs}\n\n${acceptanceTables(grid)}\n`,
    );
  } finally {
    await hub.close();
    rmSync(downloads, { recursive: true, force: true });
  }
  process.exit(0);
}
const results: DtypeResult[] = [];
try {
  for (const dtype of DTYPES) {
    log(
      `\n== ${dtype}: sweep --pair seed --dtype ${dtype} (downloads from the local Hub, then runs)`,
    );
    const run = await sweep(dtype, hub.url, downloads);
    const measured = await measure(dtype, standins);
    const measuredSpeedup = Object.fromEntries(
      KS.map((k) => [
        String(k),
        run.doc.summary.find((r) => r.mode === 'speculative' && r.k === k)?.speedup?.median ?? null,
      ]),
    );
    results.push({
      ...measured,
      peakRssBytes: run.peakRssBytes,
      sweepWallS: run.wallS,
      measuredSpeedup,
      measuredAlpha: run.doc.theory?.alpha ?? null,
    });
  }
} finally {
  await hub.close();
  rmSync(downloads, { recursive: true, force: true });
}

const header = {
  date: new Date().toISOString().slice(0, 10),
  machine: `${cpus()[0]?.model.trim() ?? 'unknown CPU'} x${cpus().length}, node ${process.version}`,
  pair: `${SEED_PAIR.draft} -> ${SEED_PAIR.target} (random-weight stand-ins, merged layout)`,
  maxNewTokens: Number(opts.maxNewTokens),
  repeats: Number(opts.repeats),
};
if (opts.json) {
  process.stdout.write(`${JSON.stringify({ ...header, results }, null, 2)}\n`);
} else {
  const f = (v: number, d = 2): string => v.toFixed(d);
  const [a, b] = results as [DtypeResult, DtypeResult];
  const row = (label: string, pick: (r: DtypeResult) => string): string[] => [
    label,
    pick(a),
    pick(b),
  ];
  const table = new Table({ head: ['', a.dtype, b.dtype], style: { head: [], border: [] } });
  table.push(
    row(
      'target file (estimate)',
      (r) => `${formatBytes(r.bytes.target)} (${formatBytes(r.estimatedBytes.target)})`,
    ),
    row(
      'draft file (estimate)',
      (r) => `${formatBytes(r.bytes.draft)} (${formatBytes(r.estimatedBytes.draft)})`,
    ),
    row('load target / draft', (r) => `${f(r.loadS.target, 1)} s / ${f(r.loadS.draft, 1)} s`),
    row('pass target / draft', (r) => `${f(r.passMs.target, 1)} ms / ${f(r.passMs.draft, 1)} ms`),
    row('cost ratio c', (r) => f(r.c, 3)),
    row('verify cost K=1..8', (r) =>
      KS.map((k) => `${k}:${f(r.verifyCost[String(k)]!)}`).join(' '),
    ),
    row('sweep peak RSS', (r) => formatBytes(r.peakRssBytes)),
    row('sweep wall time', (r) => `${f(r.sweepWallS, 0)} s`),
    row('K=1 acceptance (random weights)', (r) =>
      r.measuredAlpha === null ? '-' : f(r.measuredAlpha, 3),
    ),
    row('measured speedup (random text)', (r) =>
      KS.map((k) => `${k}:${r.measuredSpeedup[String(k)]?.toFixed(2) ?? '-'}`).join(' '),
    ),
  );
  for (const [i, alpha] of ALPHAS.entries()) {
    table.push(
      row(`alpha ${alpha}: Leviathan / measured cost`, (r) => {
        const p = r.predicted[i]!;
        return `K=${p.leviathan.k} ${f(p.leviathan.speedup)}x / K=${p.measuredCost.k} ${f(p.measuredCost.speedup)}x`;
      }),
    );
  }
  process.stdout.write(
    `SpecDec Studio seed-pair benchmark: ${header.date}, ${header.machine}\n${header.pair}; ${header.maxNewTokens} new tokens, ${header.repeats} repeat(s)\n${table.toString()}\n`,
  );
}
