/**
 * `specdec sweep --acceptance`: controlled acceptance from the command line, each target its own
 * configuration, the JSON config recording it, and every run (JSON and CSV) carrying it and the
 * serving engines' metrics; the combinations it cannot run with refused with the reason.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { RunRow } from '../../src/shared/protocol';
import { MICRO_A, MICRO_B, specdec } from '../support/helpers';

const micro = ['--target', MICRO_A, '--draft', MICRO_B];

interface Doc {
  config: { acceptance?: number[]; ks: number[] };
  runs: Array<RunRow & { predictedSpeedup: number | null }>;
  summary: Array<{
    key: string;
    k: number | null;
    acceptanceTarget: number | null;
    acceptedPerStepHistogram: number[] | null;
    acceptancePerTested: number | null;
  }>;
  best: { label: string } | null;
}

describe('specdec sweep --acceptance', () => {
  it('sweeps each A as its own configuration; JSON and CSV runs carry it and the engines’ metrics', async () => {
    const csv = join(mkdtempSync(join(tmpdir(), 'specdec-')), 'runs.csv');
    const r = await specdec([
      'sweep',
      ...micro,
      '--k',
      '2,4',
      '--max-new-tokens',
      '24',
      '--repeats',
      '2',
      '--acceptance',
      '0.5,0.9',
      '--json',
      '--csv',
      csv,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.config.acceptance).toEqual([0.5, 0.9]);
    // per repeat: the baseline, then each A with each K
    expect(doc.runs.map((x) => `${x.mode}:${x.acceptanceTarget}:${x.k}`)).toEqual(
      Array(2)
        .fill(['baseline:null:null', 'speculative:0.5:2', 'speculative:0.5:4'])
        .flatMap((b: string[]) => [...b, 'speculative:0.9:2', 'speculative:0.9:4']),
    );
    for (const x of doc.runs) {
      const split = x.timeSplit!;
      expect(Math.abs(split.draftS + split.targetS + split.otherS - x.timeS)).toBeLessThanOrEqual(
        0.02 * x.timeS,
      );
      if (x.mode === 'baseline') {
        expect(x.acceptanceTarget).toBeNull();
        expect(x.meanAcceptanceLength).toBeNull();
        expect(split.draftS).toBe(0);
        continue;
      }
      expect(x.identical).toBe(true);
      const hist = x.acceptedPerStepHistogram!;
      expect(hist).toHaveLength(x.k! + 1);
      expect(hist.reduce((a, b) => a + b, 0)).toBe(x.verificationSteps);
      expect(x.meanAcceptanceLength).toBeCloseTo(1 + x.acceptedTokens / x.verificationSteps, 9);
      expect(x.draftTokensTested).toBe(x.acceptedTokens + x.corrections);
      expect(x.draftTokensTested).toBeLessThanOrEqual(x.draftedTokens);
      expect(x.predictedSpeedup).toBeGreaterThan(0);
    }
    // the summary: one row per A and K, labelled with alpha
    expect(doc.summary.map((s) => s.key)).toEqual([
      'baseline:::',
      'speculative:model:fixed:2:a0.5',
      'speculative:model:fixed:4:a0.5',
      'speculative:model:fixed:2:a0.9',
      'speculative:model:fixed:4:a0.9',
    ]);
    // per configuration: the histograms summed over its runs, accepted over tested pooled
    for (const s of doc.summary.filter((x) => x.k !== null)) {
      const runs = doc.runs.filter((x) => x.k === s.k && x.acceptanceTarget === s.acceptanceTarget);
      const steps = runs.reduce((n, x) => n + x.verificationSteps, 0);
      expect(s.acceptedPerStepHistogram!.reduce((a, b) => a + b, 0)).toBe(steps);
      const tested = runs.reduce((n, x) => n + x.draftTokensTested!, 0);
      const accepted = runs.reduce((n, x) => n + x.acceptedTokens, 0);
      expect(s.acceptancePerTested).toBeCloseTo(accepted / tested, 12);
    }
    expect(doc.best?.label).toMatch(/^K=\d alpha 0\.[59] model \/ fixed$/);

    const rows = parse(readFileSync(csv, 'utf8'), { columns: true }) as Array<
      Record<string, string>
    >;
    expect(rows).toHaveLength(doc.runs.length);
    rows.forEach((row, i) => {
      const run = doc.runs[i]!;
      expect(row.acceptanceTarget).toBe(
        run.acceptanceTarget === null ? '' : String(run.acceptanceTarget),
      );
      expect(row.acceptedPerStepHistogram).toBe((run.acceptedPerStepHistogram ?? []).join(' '));
      expect(Number(row.draftTokensTested)).toBe(run.draftTokensTested);
      expect(Number(row.draftS)).toBe(run.timeSplit!.draftS);
      expect(Number(row.targetS)).toBe(run.timeSplit!.targetS);
      expect(Number(row.otherS)).toBe(run.timeSplit!.otherS);
      if (run.meanAcceptanceLength !== null)
        expect(Number(row.meanAcceptanceLength)).toBe(run.meanAcceptanceLength);
    });
  });

  it('real drafting: runs carry acceptanceTarget null and the same metrics', async () => {
    const r = await specdec([
      'sweep',
      ...micro,
      '--k',
      '3',
      '--max-new-tokens',
      '12',
      '--repeats',
      '1',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.config.acceptance).toBeUndefined();
    const spec = doc.runs.find((x) => x.mode === 'speculative')!;
    expect(spec.acceptanceTarget).toBeNull();
    expect(spec.acceptedPerStepHistogram!.reduce((a, b) => a + b, 0)).toBe(spec.verificationSteps);
    expect(doc.summary.map((s) => s.key)).toEqual(['baseline:::', 'speculative:model:fixed:3']);
  });

  it.each([
    [['--acceptance', '1'], /--acceptance must be numbers between 0 and 1, both excluded/],
    [['--acceptance', '0.5,x'], /--acceptance must be numbers between 0 and 1/],
    [['--acceptance', '0.8', '--policy', 'confidence'], /confidence policy .* does not have/],
    [
      ['--acceptance', '0.8', '--drafter', 'prompt-lookup'],
      /prompt lookup makes no draft-model passes/,
    ],
    [['--acceptance', '0.8', '--temperature', '0.7'], /needs greedy decoding/],
  ])('refuses %j with the reason', async (args, message) => {
    const r = await specdec(['sweep', ...micro, '--max-new-tokens', '4', ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
