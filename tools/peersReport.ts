/**
 * bench:peers' report: tokens per second of each loop, ours against llama.cpp, and each engine's
 * load time, peak memory and pass costs, as tables (Markdown-ready numbers) or one JSON document.
 */
import Table from 'cli-table3';

export interface EngineCosts {
  loadS: number;
  peakRssBytes: number;
  targetMs: number;
  draftMs: number;
  c: number;
  verifyCost: Record<string, number>;
}

/** one of our columns: its tokens per second and its ratios to llama.cpp's */
export interface OursFigures {
  tps: number | null;
  ratio: number | null;
  /** the median over repeats of each repeat's ratio (its two processes ran back to back) */
  ratioPerRepeat: number | null;
}

export interface PeersReport {
  date: string;
  machine: string;
  pair: string;
  weights: 'f32' | 'q8' | 'q4';
  /**
   * our columns, in order: with --q4 one per --q4-compute mode (int8, exported) and what the
   * target's 4-bit products ran in (int8, float); otherwise one, with nulls
   */
  ours: Array<{ q4Compute: 'int8' | 'exported' | null; ran: string | null }>;
  maxNewTokens: number;
  repeats: number;
  /** seconds tools/export_gguf.py took for each model */
  exportS: Record<string, number>;
  report: Array<{
    threads: number;
    /** per column of ours: leading tokens llama.cpp's target-only text shares with ours */
    enginesAgreeTokens: number[];
    newTokens: number;
    /** ours: per column */
    costs: { ours: EngineCosts[]; llama: EngineCosts };
    rows: Array<{
      config: string;
      llamaTps: number | null;
      /** per column */
      ours: OursFigures[];
      /** every run of the row gave its engine's (its mode's) target-only text */
      lossless: boolean;
    }>;
  }>;
}

const f = (v: number | null, d = 0): string => (v === null ? '-' : v.toFixed(d));
// real-size models make a few tokens a second: decimals then
const tps = (v: number | null): string => f(v, v === null ? 0 : v < 10 ? 2 : v < 100 ? 1 : 0);
const gb = (bytes: number): string => `${(bytes / 1e9).toFixed(2)} GB`;
const ms = (v: number): string => (v < 10 ? v.toFixed(2) : v.toFixed(1));

/** a column of ours by what its 4-bit products ran in ("ours" where there is one column) */
const columnName = (r: PeersReport, m: number): string => {
  const col = r.ours[m]!;
  if (r.ours.length === 1 && !col.q4Compute) return 'ours';
  const ran = col.ran === 'int8' ? 'int8 act.' : col.ran === 'float' ? 'float32' : col.ran;
  return `ours ${col.q4Compute ?? ''}${ran ? ` (${ran})` : ''}`.trim();
};

export function printReport(r: PeersReport, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  const names = r.ours.map((_, m) => columnName(r, m));
  let text = `SpecDec Studio vs llama.cpp: ${r.date}, ${r.machine}\n${r.pair}; ${r.maxNewTokens} new tokens, medians of ${r.repeats}, each engine in its own process\n`;
  text += `GGUF export: ${Object.entries(r.exportS)
    .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
    .join(', ')}\n`;
  for (const { threads, rows, costs, enginesAgreeTokens, newTokens } of r.report) {
    const loops = new Table({
      head: [
        `${threads} thread${threads === 1 ? '' : 's'}`,
        ...names.map((n) => `${n} tok/s`),
        'llama.cpp tok/s',
        ...names.map((n) => `${n} / llama.cpp`),
        ...names.map((n) => `per repeat, ${n}`),
        "= engine's target only",
      ],
      style: { head: [], border: [] },
    });
    for (const row of rows)
      loops.push([
        row.config,
        ...row.ours.map((o) => tps(o.tps)),
        tps(row.llamaTps),
        ...row.ours.map((o) => f(o.ratio, 2)),
        ...row.ours.map((o) => f(o.ratioPerRepeat, 2)),
        row.lossless ? 'yes' : 'NO',
      ]);
    text += `${loops.toString()}\n`;
    for (const [m, agree] of enginesAgreeTokens.entries())
      text += `llama.cpp's target-only text against ${names[m]}: ${agree === newTokens ? `the same (${newTokens} tokens)` : `the same for its first ${agree} of ${newTokens} tokens`}\n`;
    const ks = Object.keys(costs.llama.verifyCost);
    const passes = new Table({
      head: [`${threads} thread${threads === 1 ? '' : 's'}`, ...names, 'llama.cpp'],
      style: { head: [], border: [] },
    });
    const each = (label: string, pick: (c: EngineCosts) => string) =>
      passes.push([label, ...costs.ours.map(pick), pick(costs.llama)]);
    each('load target + draft, s', (c) => c.loadS.toFixed(1));
    each('peak memory (RSS)', (c) => gb(c.peakRssBytes));
    each('target pass, 1 token, ms', (c) => ms(c.targetMs));
    each('draft pass, 1 token, ms', (c) => ms(c.draftMs));
    each('c', (c) => c.c.toFixed(3));
    each(`verify cost t(K+1)/t(1), K = ${ks.join(', ')}`, (c) =>
      ks.map((k) => (c.verifyCost[k] ?? NaN).toFixed(2)).join(' '),
    );
    text += `${passes.toString()}\n`;
  }
  process.stdout.write(text);
}
