/**
 * The public prompt set end to end, as a user runs it: `sweep --prompts-file ... --report`, on
 * the embedded pair. Every looping run is flagged, the best K is named only beyond noise, and
 * every trend sentence of the report holds for the report's own tables.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { detectRepetition, type Repetition } from '../../src/results/loops';
import type { SummaryRow } from '../../src/results/summary';
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

/** the claim a trend sentence makes, checked against the values it is about (in K order) */
function checkTrend(sentence: string, values: Map<number, number>): void {
  const ks = [...values.keys()];
  const v = ks.map((k) => values.get(k)!);
  const d = steps(v);
  // every "X at K=k" the sentence quotes is the table's value there
  for (const m of sentence.matchAll(/([\d.]+) at K=(\d+)/g))
    expect(parseFloat(m[1]!), sentence).toBe(values.get(Number(m[2]))!);
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
    const settled = Number(/to [\d.]+ at K=(\d+), then stayed/.exec(sentence)![1]);
    const at = ks.indexOf(settled);
    const falls = /fell from/.test(sentence);
    d.slice(0, at).forEach((x) => expect(falls ? x < 0 : x > 0, sentence).toBe(true));
    d.slice(at).forEach((x) => expect(x, sentence).toBe(0));
  } else if (/did not fall at every step/.test(sentence)) {
    expect(
      d.some((x) => x > 0),
      sentence,
    ).toBe(true);
  } else if (/^[^.]*\brose from [\d.]+ at K=\d+ to [\d.]+ at K=\d+/.test(sentence)) {
    expect(
      d.every((x) => x > 0),
      sentence,
    ).toBe(true);
  } else if (/^[^.]*\bfell from [\d.]+ at K=\d+ to [\d.]+ at K=\d+/.test(sentence)) {
    expect(
      d.every((x) => x < 0),
      sentence,
    ).toBe(true);
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

  it('names the best K only beyond noise, the same way in the JSON and the report', () => {
    const spec = doc.summary.filter((r) => r.mode === 'speculative');
    const best = spec.find((r) => r.k === doc.best.k)!;
    const others = spec.filter((r) => r !== best);
    const clear = others.every((r) => r.speedupOverRepeats!.max < best.speedupOverRepeats!.min);
    expect(doc.best.tiedWith.length === 0).toBe(clear);
    const time = sectionOf(md, 2);
    if (clear) {
      expect(md).toMatch(new RegExp(`Best: K=${best.k} \\(.*clear of the runner-up\\)`));
      expect(time).toContain(`**The fastest K was K=${best.k} at`);
    } else {
      expect(md).toMatch(/Best: K=\d+(, K=\d+)* and K=\d+ are within noise/);
      expect(time).toContain('**No single fastest K:');
      expect(time).not.toContain('optimum');
      expect(sectionOf(md, 5)).toContain('**The configuration with the best median');
    }
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
    for (const s of sentences(sectionOf(md, 3)).filter((x) =>
      /^Tokens per target verification (rose|fell|stayed|varied)/.test(x),
    )) {
      checkTrend(s.replace(/, while .*$/, ''), perPass);
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
    expect(checked).toBeGreaterThanOrEqual(2);
  });
});
