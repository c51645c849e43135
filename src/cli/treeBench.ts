/**
 * `npm run bench:engine -- --tree 3,2,1`: what a token tree costs and whether it pays on this
 * machine. First the target pass against the number of tree nodes, under the tree mask in one
 * pass and as a batch row per path; then the sweep's own runs (baseline, chains, trees, each way,
 * interleaved) and its "Token trees against chains" analysis, with the verdict.
 */
import Table from 'cli-table3';
import { cpus } from 'node:os';
import { TokenTree } from '../core/decoding/tree/tokenTree';
import { MaskTreeVerifier } from '../core/decoding/tree/maskVerifier';
import { RowsTreeVerifier } from '../core/decoding/tree/rowsVerifier';
import type { OnnxCausalLM } from '../core/model/causalLm';
import { loadPair, releasePair } from '../core/model/pair';
import { runExperiment } from '../lab/experiment';
import { treesSection } from '../results/analysis/trees';
import type { AnalysisTable } from '../results/analysis/types';
import { configurationLabel } from '../results/analysis/words';
import { groupRows, summarizeRows } from '../results/summary';
import { SEED_PROMPT } from '../shared/defaults';
import {
  type ExecutionProvider,
  type GraphChoice,
  type KvLocationChoice,
  type Q4Compute,
} from '../shared/decoding';
import type { TreeVerifyMode } from '../shared/events';
import { median } from '../shared/stats';
import { q4Notes } from './q4Notes';
import { nodesPerDepth, treeNodeCount, treeShapeText, type TreeShape } from '../shared/treeShape';

export interface TreeBenchOptions {
  target: string;
  draft: string;
  maxNewTokens: number;
  k: number[];
  repeats: number;
  trees: number[][];
  treeBudgets: number[];
  ep: ExecutionProvider;
  kvLocation: KvLocationChoice;
  graph: GraphChoice;
  /** how the CPU provider computes a 4-bit file's MatMulNBits products (`--q4-compute`) */
  q4Compute: Q4Compute;
}

/** the cache a timed pass runs after, as costRatio.ts measures c, and how far it varies */
const CACHE_TOKENS = 40;
const CACHE_SPREAD = 8;
/** samples per shape and way (fewer once BUDGET_MS is spent on the shape), after WARMUP */
const SAMPLES = 50;
const WARMUP = 3;
const MIN_SAMPLES = 5;
const BUDGET_MS = 3000;
/**
 * shapes the pass cost is timed at besides the asked ones, from one node to 62: wider and deeper
 * trees, so the cost reads against the node count
 */
export const LADDER: TreeShape[] = [
  [1],
  [2],
  [4],
  [2, 2],
  [8],
  [3, 2, 1],
  [2, 2, 2, 2],
  [2, 2, 2, 2, 2],
];

const f = (v: number, d = 3): string => v.toFixed(d);

/** a full tree of the shape, any tokens (a pass's cost does not depend on which) */
export function shapeTree(shape: TreeShape): TokenTree {
  const tree = new TokenTree();
  let level = [-1];
  for (const branching of shape) {
    const next: number[] = [];
    for (const parent of level)
      for (let b = 0; b < branching; b++)
        next.push(tree.add(parent, (tree.size * 37 + 11) % 256, null));
    level = next;
  }
  return tree;
}

interface PassCost {
  /** median milliseconds inside session.run */
  runMs: number;
  /** median milliseconds of the whole verification: feeds, the pass, the walk, the gather */
  wholeMs: number;
  /** runMs over the one-token pass timed in the same samples */
  perOne: number;
}

/**
 * Median cost of verifying a tree of `shape` after a cache of CACHE_TOKENS (+ 0..CACHE_SPREAD), each way that runs on
 * this target, and of a one-token pass after the same cache (what the costs are read against),
 * interleaved sample by sample so drift hits them alike.
 */
async function treePassCosts(
  target: OnnxCausalLM,
  shape: TreeShape,
  ways: readonly TreeVerifyMode[],
): Promise<{ oneMs: number; costs: Partial<Record<TreeVerifyMode, PassCost>> }> {
  const tree = shapeTree(shape);
  const tokens = Array.from({ length: CACHE_TOKENS + CACHE_SPREAD + 1 }, (_, j) => (j * 37) % 256);
  target.reset();
  await target.forward(tokens.slice(0, CACHE_TOKENS + CACHE_SPREAD), {});
  const verifiers = { mask: new MaskTreeVerifier(false), rows: new RowsTreeVerifier(false) };
  const samples = new Map(ways.map((w) => [w, { run: [] as number[], whole: [] as number[] }]));
  const one: number[] = [];
  const started = performance.now();
  for (let i = 0; i < SAMPLES + WARMUP; i++) {
    // a run's cache grows every step: so does this one's, sample by sample (onnxruntime serves a
    // shape it has just run faster than a new one)
    const cached = CACHE_TOKENS + (i % (CACHE_SPREAD + 1));
    const context = tokens.slice(0, cached + 1);
    if (target.length > cached) target.crop(cached);
    else if (target.length < cached) await target.forward(tokens.slice(target.length, cached), {});
    const before = target.runMs;
    await target.forward([context[cached]!], {});
    if (i >= WARMUP) one.push(target.runMs - before);
    target.crop(cached);
    for (const way of ways) {
      const before = target.runMs;
      const t0 = performance.now();
      const verdict = await verifiers[way].verify(target, context, tree);
      verdict.gather(cached);
      const whole = performance.now() - t0;
      if (i >= WARMUP) {
        samples.get(way)!.run.push(target.runMs - before);
        samples.get(way)!.whole.push(whole);
      }
    }
    const n = i + 1 - WARMUP;
    if (n >= MIN_SAMPLES && performance.now() - started > BUDGET_MS) break;
  }
  target.reset();
  const oneMs = median(one);
  const costs: Partial<Record<TreeVerifyMode, PassCost>> = {};
  for (const [way, s] of samples) {
    const runMs = median(s.run);
    costs[way] = { runMs, wholeMs: median(s.whole), perOne: runMs / oneMs };
  }
  return { oneMs, costs };
}

function printTable(out: (s?: string) => void, t: AnalysisTable): void {
  const table = new Table({ head: t.head, style: { head: [], border: [] } });
  for (const row of t.rows) table.push(row);
  out(t.caption);
  out(table.toString());
}

export async function treeBenchCommand(opts: TreeBenchOptions): Promise<void> {
  const model = {
    executionProvider: opts.ep,
    kvLocation: opts.kvLocation,
    graph: opts.graph,
    q4Compute: opts.q4Compute,
  };
  const pair = await loadPair(opts.target, opts.draft, { target: model, draft: model });
  const log = (s: string): void => void process.stderr.write(s + '\n');
  const out = (s = ''): void => void process.stdout.write(s + '\n');
  const target = pair.target.lm;
  const ways: TreeVerifyMode[] = [
    ...(target.takesTreeMask ? (['mask'] as const) : []),
    ...(target.takesBatchRows ? (['rows'] as const) : []),
  ];
  if (ways.length === 0)
    throw new Error(
      `The target's graph takes neither a tree mask nor batch rows: no tree can be verified on it.`,
    );
  if (ways.includes('mask')) await target.prepareTreeMask();

  // 1. the target pass against the tree's nodes
  const byName = new Map([...LADDER, ...opts.trees].map((s) => [treeShapeText(s), s]));
  const shapes = [...byName.values()]
    .filter((s) => treeNodeCount(s) + CACHE_TOKENS + CACHE_SPREAD + 1 <= pair.nPositions)
    .sort((a, b) => treeNodeCount(a) - treeNodeCount(b) || a.length - b.length);
  log(`target pass cost: ${shapes.length} shapes x ${ways.join(' and ')}`);
  const ones: number[] = [];
  const costTable = new Table({
    head: [
      'shape',
      'nodes',
      'paths',
      ...ways.flatMap((w) =>
        w === 'mask'
          ? ['mask: run ms', 'x one token', 'mask: whole ms']
          : ['rows: run ms', 'x one token', 'rows: whole ms'],
      ),
      ...(ways.length === 2 ? ['rows / mask (whole)'] : []),
    ],
    style: { head: [], border: [] },
  });
  for (const shape of shapes) {
    const { oneMs, costs } = await treePassCosts(target, shape, ways);
    ones.push(oneMs);
    const paths = nodesPerDepth(shape).at(-1)!;
    costTable.push([
      treeShapeText(shape),
      String(treeNodeCount(shape)),
      String(paths),
      ...ways.flatMap((w) => [
        f(costs[w]!.runMs),
        `${f(costs[w]!.perOne, 2)}x`,
        f(costs[w]!.wholeMs),
      ]),
      ...(ways.length === 2 ? [f(costs.rows!.wholeMs / costs.mask!.wholeMs, 2)] : []),
    ]);
  }

  // 2. the sweep's runs, interleaved, and its analysis of trees against chains
  log(
    `runs: baseline, K=${opts.k.join(',')}, ${[...opts.trees.map((s) => `tree ${treeShapeText(s)}`), ...opts.treeBudgets.map((b) => `tree budget ${b}`)].join(', ')} (${ways.join(', ')}), ${opts.repeats} repeats`,
  );
  let done = 0;
  const experiment = await runExperiment(
    pair,
    {
      prompts: [SEED_PROMPT],
      maxNewTokens: opts.maxNewTokens,
      ks: opts.k,
      repeats: opts.repeats,
      warmup: 1,
      noKvCache: false,
      trees: opts.trees,
      treeBudgets: opts.treeBudgets,
      treeVerify: ways,
    },
    {
      onRunEnd: (run) => {
        done++;
        if (!run.identical && run.mode === 'speculative')
          throw new Error(
            `${run.tree ? `tree ${run.tree.shape?.join(',') ?? `budget ${run.tree.budget}`}` : `K=${run.k}`}: greedy output differs from the baseline's`,
          );
      },
    },
  );
  const names = { target: pair.target.folder.name, draft: pair.draft!.folder.name };
  const q4 = q4Notes(pair.target.lm.q4Compute, pair.draft!.lm.q4Compute);
  await releasePair(pair);
  log(`${done} runs`);
  const summary = summarizeRows(experiment.rows);
  const section = treesSection(summary, groupRows(experiment.rows), (r) =>
    configurationLabel(r, false),
  );

  out(
    `SpecDec Studio token-tree benchmark: ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, node ${process.version}`,
  );
  out(
    `pair: ${names.target} + ${names.draft}, seed prompt, ${opts.maxNewTokens} new tokens, greedy, ${opts.ep}, target graph ${target.graph}${q4}, medians of ${opts.repeats} (interleaved)`,
  );
  out(
    `target pass against tree nodes, after a cache of ${CACHE_TOKENS} to ${CACHE_TOKENS + CACHE_SPREAD} tokens, one more each sample (a one-token pass, timed between them: ${f(median(ones))} ms, median over the shapes; run: inside session.run; x one token: over the one-token pass of the same samples; whole: feeds, pass, walk, cache gather)`,
  );
  out(costTable.toString());
  if (!ways.includes('mask'))
    out(`(no mask column: the target verifies trees as rows only: ${target.treeMaskNote})`);
  if (section) {
    for (const t of section.tables) printTable(out, t);
    for (const p of section.points) out(p);
    const [verdict, ...theory] = section.answers;
    for (const a of theory) out(a);
    out(`verdict: ${verdict}`);
  }
}
