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

export interface PeersReport {
  date: string;
  machine: string;
  pair: string;
  weights: 'f32' | 'q8' | 'q4';
  maxNewTokens: number;
  repeats: number;
  /** seconds tools/export_gguf.py took for each model */
  exportS: Record<string, number>;
  report: Array<{
    threads: number;
    /** leading tokens llama.cpp's target-only text shares with ours */
    enginesAgreeTokens: number;
    newTokens: number;
    costs: { ours: EngineCosts; llama: EngineCosts };
    rows: Array<{
      config: string;
      oursTps: number | null;
      llamaTps: number | null;
      ratio: number | null;
      /** the median over repeats of each repeat's ratio (its two processes ran back to back) */
      ratioPerRepeat: number | null;
      /** every run of the row gave its engine's target-only text */
      lossless: boolean;
    }>;
  }>;
}

const f = (v: number | null, d = 0): string => (v === null ? '-' : v.toFixed(d));
// real-size models make a few tokens a second: decimals then
const tps = (v: number | null): string => f(v, v === null ? 0 : v < 10 ? 2 : v < 100 ? 1 : 0);
const gb = (bytes: number): string => `${(bytes / 1e9).toFixed(2)} GB`;
const ms = (v: number): string => (v < 10 ? v.toFixed(2) : v.toFixed(1));

export function printReport(r: PeersReport, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  let text = `SpecDec Studio vs llama.cpp: ${r.date}, ${r.machine}\n${r.pair}; ${r.maxNewTokens} new tokens, medians of ${r.repeats}, each engine in its own process\n`;
  text += `GGUF export: ${Object.entries(r.exportS)
    .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
    .join(', ')}\n`;
  for (const { threads, rows, costs, enginesAgreeTokens, newTokens } of r.report) {
    const loops = new Table({
      head: [
        `${threads} thread${threads === 1 ? '' : 's'}`,
        'ours tok/s',
        'llama.cpp tok/s',
        'ours / llama.cpp',
        'per repeat',
        "= engine's target only",
      ],
      style: { head: [], border: [] },
    });
    for (const row of rows)
      loops.push([
        row.config,
        tps(row.oursTps),
        tps(row.llamaTps),
        f(row.ratio, 2),
        f(row.ratioPerRepeat, 2),
        row.lossless ? 'yes' : 'NO',
      ]);
    text += `${loops.toString()}\n`;
    text += `llama.cpp's target-only text: ${enginesAgreeTokens === newTokens ? `the same as ours (${newTokens} tokens)` : `ours for its first ${enginesAgreeTokens} of ${newTokens} tokens`}\n`;
    const ks = Object.keys(costs.ours.verifyCost);
    const passes = new Table({
      head: [`${threads} thread${threads === 1 ? '' : 's'}`, 'ours', 'llama.cpp'],
      style: { head: [], border: [] },
    });
    const both = (label: string, pick: (c: EngineCosts) => string) =>
      passes.push([label, pick(costs.ours), pick(costs.llama)]);
    both('load target + draft, s', (c) => c.loadS.toFixed(1));
    both('peak memory (RSS)', (c) => gb(c.peakRssBytes));
    both('target pass, 1 token, ms', (c) => ms(c.targetMs));
    both('draft pass, 1 token, ms', (c) => ms(c.draftMs));
    both('c', (c) => c.c.toFixed(3));
    both(`verify cost t(K+1)/t(1), K = ${ks.join(', ')}`, (c) =>
      ks.map((k) => (c.verifyCost[k] ?? NaN).toFixed(2)).join(' '),
    );
    text += `${passes.toString()}\n`;
  }
  process.stdout.write(text);
}
