/**
 * The public prompt set end to end, as a user runs it: `sweep --prompts-file ... --report`, on
 * the embedded pair. Every looping run is flagged, the best K is bestOf's verdict told in its
 * words, and every trend sentence of the report holds for the report's own tables.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { detectRepetition, type Repetition } from '../../src/results/loops';
import { markdownText } from '../../src/results/analysis/markdown';
import { bestOf, bestSentence, variantLabel, type SummaryRow } from '../../src/results/summary';
import { ROOT, specdec } from '../support/helpers';

interface Table {
  caption: string;
  head: string[];
  rows: string[][];
}

/** The report's Markdown tables, each with the italic caption line above it. */
function tablesOf(md: string): Table[] {
  const lines = md.split('\n');
  const out: Table[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('| ') || !lines[i + 1]?.startsWith('| ---')) continue;
    const cells = (l: string): string[] => l.slice(2, -2).split(' | ');
    const caption = (lines[i - 2] ?? '').replace(/^\*|\*$/g, '');
    const rows: string[][] = [];
    let j = i + 2;
    for (; lines[j]?.startsWith('| '); j++) rows.push(cells(lines[j]!));
    out.push({ caption, head: cells(lines[i]!), rows });
    i = j;
  }
  return out;
}

/** A section's text: from its heading to the next one. */
function sectionOf(md: string, n: number): string {
  const start = md.indexOf(`## ${n}. `);
  const end = md.indexOf(`## ${n + 1}. `);
  return md.slice(start, end === -1 ? undefined : end);
}

/** column `name` of a per-K table, as numbers by K (the leading number of each cell) */
function byK(table: Table, name: string): Map<number, number> {
  const col = table.head.indexOf(name);
  expect(col, `${table.caption} has a ${name} column`).toBeGreaterThan(0);
  return new Map(table.rows.map((r) => [parseFloat(r[0]!), parseFloat(r[col]!)]));
}

const steps = (v: number[]): number[] => v.slice(1).map((x, i) => x - v[i]!);

/** the Ks a phrase such as "3.00 at K=2 and K=4" names */
const ksNamed = (text: string): number[] => [...text.matchAll(/K=(\d+)/g)].map((m) => Number(m[1]));

/** the claim a trend sentence makes, checked against the values it is about (in K order) */
function checkTrend(sentence: string, values: Map<number, number>): void {
  const ks = [...values.keys()];
  const v = ks.map((k) => values.get(k)!);
  const d = steps(v);
  // every "X at K=k" the sentence quotes is the table's value there
  for (const m of sentence.matchAll(/([\d.]+)%? at K=(\d+)/g))
    expect(parseFloat(m[1]!), sentence).toBe(values.get(Number(m[2]))!);
  const turn =
    /(rose|fell) from [\d.]+%? at K=\d+ to [\d.]+%? at (K=\d+(?:(?:, | and )K=\d+)*), then (fell|rose) to/.exec(
      sentence,
    );
  if (/fell with every larger K/.test(sentence))
    expect(
      d.every((x) => x < 0),
      sentence,
    ).toBe(true);
  else if (/rose with every larger K/.test(sentence))
    expect(
      d.every((x) => x > 0),
      sentence,
    ).toBe(true);
  else if (/fell overall.*not at every step/.test(sentence)) {
    expect(d.every((x) => x <= 0) && d.some((x) => x === 0), sentence).toBe(true);
  } else if (/rose overall.*not at every step/.test(sentence)) {
    expect(d.every((x) => x >= 0) && d.some((x) => x === 0), sentence).toBe(true);
  } else if (/then stayed/.test(sentence)) {
    const settled = Number(/to [\d.]+%? at K=(\d+), then stayed/.exec(sentence)![1]);
    const at = ks.indexOf(settled);
    const falls = /fell from/.test(sentence);
    d.slice(0, at).forEach((x) => expect(falls ? x < 0 : x > 0, sentence).toBe(true));
    d.slice(at).forEach((x) => expect(x, sentence).toBe(0));
  } else if (turn) {
    // a peak (rose, then fell) or a dip: every K at the extreme is named, and the series moves
    // one way up to it and the other way after it
    const peak = turn[1] === 'rose';
    const extreme = peak ? Math.max(...v) : Math.min(...v);
    const at = ks.filter((k) => values.get(k) === extreme);
    expect(ksNamed(turn[2]!), sentence).toEqual(at);
    const first = ks.indexOf(at[0]!);
    const last = ks.indexOf(at.at(-1)!);
    d.slice(0, first).forEach((x) => expect(peak ? x >= 0 : x <= 0, sentence).toBe(true));
    d.slice(last).forEach((x) => expect(peak ? x <= 0 : x >= 0, sentence).toBe(true));
    expect(turn[3], sentence).toBe(peak ? 'fell' : 'rose');
  } else if (/stayed at [\d.]+%? at every K/.test(sentence)) {
    expect(
      d.every((x) => x === 0),
      sentence,
    ).toBe(true);
  } else if (/went up and down: /.test(sentence)) {
    // every K quoted, and the series moves both ways
    expect(ksNamed(sentence.slice(sentence.indexOf('went up and down'))), sentence).toEqual(ks);
    expect(d.some((x) => x > 0) && d.some((x) => x < 0), sentence).toBe(true);
  } else throw new Error(`no check for: ${sentence}`);
}

describe('the trend checker', () => {
  it('refuses the false sentences the analysis once wrote', () => {
    const passes = new Map([
      [1, 66],
      [2, 40],
      [4, 34],
      [5, 34],
      [8, 34],
    ]);
    // "not increasing" written as "fell"
    expect(() =>
      checkTrend('Passes fell with every larger K, from 66 at K=1 to 34 at K=8.', passes),
    ).toThrow();
    expect(() =>
      checkTrend('Passes fell from 66 at K=1 to 34 at K=4, then stayed at 34 up to K=8.', passes),
    ).not.toThrow();
    // a quoted number that is not the table's
    expect(() =>
      checkTrend('Passes fell from 66 at K=1 to 33 at K=4, then stayed at 34 up to K=8.', passes),
    ).toThrow();
  });

  it('holds a peak or a dip to the whole series, and refuses a sentence that skips it', () => {
    const acceptance = new Map([
      [1, 52.3],
      [2, 88.9],
      [4, 88.9],
      [8, 25.5],
    ]);
    // the sentence: the peak at K=2 and K=4 unsaid
    expect(() =>
      checkTrend('Acceptance went from 52.3% at K=1 to 25.5% at K=8.', acceptance),
    ).toThrow();
    expect(() =>
      checkTrend('Acceptance fell from 52.3% at K=1 to 25.5% at K=8.', acceptance),
    ).toThrow();
    // a peak that names one K of two
    expect(() =>
      checkTrend(
        'Acceptance rose from 52.3% at K=1 to 88.9% at K=2, then fell to 25.5% at K=8.',
        acceptance,
      ),
    ).toThrow();
    expect(() =>
      checkTrend(
        'Acceptance rose from 52.3% at K=1 to 88.9% at K=2 and K=4, then fell to 25.5% at K=8.',
        acceptance,
      ),
    ).not.toThrow();
    const mixed = new Map([
      [1, 60],
      [2, 40],
      [4, 50],
      [8, 45],
    ]);
    expect(() =>
      checkTrend('Passes went up and down: 60 at K=1, 40 at K=2, 50 at K=4 and 45 at K=8.', mixed),
    ).not.toThrow();
    expect(() =>
      checkTrend('Passes fell from 60 at K=1 to 40 at K=2, then rose to 45 at K=8.', mixed),
    ).toThrow();
  });
});

describe('the public prompt set, end to end', () => {
  let md: string;
  let doc: {
    runs: Array<{
      mode: string;
      k: number | null;
      repetition: Repetition | null;
      outputTokenIds: number[];
    }>;
    summary: SummaryRow[];
    best: { label: string; k: number; tiedWith: string[]; noiseMeasured: boolean };
  };
  let stdout: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'specdec-public-'));
    const report = join(dir, 'r.md');
    const run = await specdec([
      'sweep',
      '--prompts-file',
      join(ROOT, 'resources', 'prompts', 'public-prompts.txt'),
      '--k',
      '1,2,3,4,8',
      '--max-new-tokens',
      '40',
      '--ep',
      'cpu',
      '--json',
      '--report',
      report,
    ]);
    expect(run.code, run.stderr).toBe(0);
    stdout = run.stdout;
    doc = JSON.parse(stdout) as typeof doc;
    md = readFileSync(report, 'utf8');
  }, 300_000);

  it('runs the whole set at the default 3 repeats', () => {
    expect(md).toContain('- 22 prompts; medians over prompts and repeats.');
    expect(md).toContain('3 repeats');
    expect(doc.runs).toHaveLength(22 * 6 * 3);
  });

  it('flags every looping run, and the report counts them', () => {
    for (const run of doc.runs)
      expect(run.repetition).toEqual(detectRepetition(run.outputTokenIds));
    const looping = doc.runs.filter((r) => r.repetition !== null).length;
    // greedy text of a small model loops on most of these prompts: this sweep must show it
    expect(looping).toBeGreaterThan(0);
    expect(md).toContain(
      looping === doc.runs.length
        ? `Every run's output (${looping} of ${looping})`
        : `${looping} of ${doc.runs.length} runs' outputs fall into`,
    );
  });

  it('tells the verdict of bestOf (paired by repeat and prompt), the same in the JSON and the report', () => {
    const best = bestOf(doc.summary)!;
    expect(doc.best.k).toBe(best.row.k);
    expect(doc.best.tiedWith).toEqual(best.tiedWith.map((r) => variantLabel(r, true)));
    expect(md).toContain(`Best: ${markdownText(bestSentence(best, false))}`);
    const k = `K=${best.row.k}`;
    const time = sectionOf(md, 2);
    const five = sectionOf(md, 5);
    if (!best.beatBaseline) {
      expect(time).toContain(`**No K beat the baseline: the fastest, ${k} (`);
      expect(five).toContain('**No configuration beat the baseline beyond noise');
    } else if (best.tiedWith.length > 0) {
      expect(time).toContain(`**No single fastest K: ${k} (`);
      // each tied K is named, and marked in the table
      const answer = time.split('\n').find((l) => l.startsWith('**No single fastest K'))!;
      const tied = answer.slice(answer.indexOf('tied with'));
      for (const r of best.tiedWith) expect(tied).toContain(`K=${r.k} (`);
      const timeTable = tablesOf(md).find((t) => t.caption === 'Time per K')!;
      for (const r of best.tiedWith)
        expect(timeTable.rows.find((row) => parseFloat(row[0]!) === r.k)![0]).toBe(`${r.k} (tied)`);
      expect(five).toContain(`**The configuration with the best median, ${k} (tied with`);
    } else {
      expect(time).toContain(`${k} is this sweep's optimum for this pair.**`);
      expect(five).toContain(`**The best configuration, ${k}, needed`);
    }
    // no verdict from overlapping ranges anywhere
    for (const re of [
      /within noise/,
      /speedups over \d+ repeats overlap/,
      /clear of the runner-up/,
    ])
      expect(md).not.toMatch(re);
  });

  it('every trend sentence holds for its own table', () => {
    const tables = tablesOf(md);
    const table = (caption: string): Table => tables.find((t) => t.caption === caption)!;
    let checked = 0;
    const sentences = (text: string): string[] =>
      text
        .split('\n')
        .map((l) => l.replace(/^- |\*\*/g, ''))
        .flatMap((l) => l.split(/(?<=\.) (?=[A-Z])/));

    const passes = byK(table('Target passes per K'), 'Target passes');
    for (const s of sentences(sectionOf(md, 1)).filter((x) => /^Passes /.test(x))) {
      checkTrend(s, passes);
      checked++;
    }
    const perPass = byK(table('Tokens per target verification per K'), 'Tokens per pass');
    const acceptance = byK(table('Tokens per target verification per K'), 'Acceptance rate');
    for (const s of sentences(sectionOf(md, 3))) {
      if (/^Tokens per target verification /.test(s)) checkTrend(s, perPass);
      else if (/^The share of drafts accepted /.test(s)) checkTrend(s, acceptance);
      else continue;
      checked++;
    }
    const timeTable = table('Time per K');
    for (const s of sentences(sectionOf(md, 2))) {
      if (/^Acceptance (rose|fell|stayed|went)/.test(s))
        checkTrend(s.replace(/: later.*$/, ''), acceptance);
      else if (/^Draft passes /.test(s))
        checkTrend(s.replace(/: every extra.*$/, ''), byK(timeTable, 'Draft passes'));
      else if (/^Drafting's share of the time /.test(s))
        checkTrend(s, byK(timeTable, 'Draft share of time'));
      else continue;
      checked++;
    }
    const times = byK(table('Time per K'), 'Time (s)');
    for (const s of sentences(sectionOf(md, 2)).filter((x) => /^Past K=\d+ /.test(x))) {
      const from = Number(/^Past K=(\d+)/.exec(s)![1]);
      const after = new Map([...times].filter(([k]) => k >= from));
      const quicker = [...after].filter(([, t]) => t < times.get(from)!).map(([k]) => k);
      if (/no larger K had a better median speedup, though/.test(s)) {
        // exactly the larger Ks whose median time was below the best K's are named
        const named = [...s.matchAll(/K=(\d+)'s median time/g)].map((m) => Number(m[1]));
        expect(named, s).toEqual(quicker);
      } else {
        if (/time rose with every larger K/.test(s)) checkTrend(s.replace(/:.*/, ''), after);
        else expect(s).toMatch(/no larger K was faster/);
        expect(quicker, s).toEqual([]);
      }
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(6);
  });
});
