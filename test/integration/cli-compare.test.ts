/**
 * `specdec sweep` comparing strategies and prompts in one sweep: every K for each drafter and
 * policy, every run for each prompt of a prompt file, aggregated per configuration (median and
 * spread) and per prompt.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunRow } from '../../src/shared/protocol';
import type { SummaryRow } from '../../src/results/summary';
import { MICRO_A, MICRO_B, specdec as run } from '../support/helpers';

const specdec = (args: string[]) =>
  run(['sweep', '--target', MICRO_A, '--draft', MICRO_B, '--repeats', '1', ...args]);

const PROMPTS = ['The old man said', '', 'In 1961 the committee', 'She opened the door'];

describe('specdec sweep comparisons', () => {
  const dir = mkdtempSync(join(tmpdir(), 'specdec-prompts-'));
  const file = join(dir, 'prompts.txt');
  writeFileSync(file, PROMPTS.join('\r\n') + '\n\n');

  it('runs every K for each drafter and policy and each prompt, and aggregates per K and per prompt', async () => {
    const r = await specdec([
      '--prompts-file',
      file,
      '--drafter',
      'model,prompt-lookup',
      '--policy',
      'fixed,heuristic',
      '--k',
      '1,3',
      '--max-new-tokens',
      '10',
      '--warmup',
      '0',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      runs: RunRow[];
      summary: SummaryRow[];
      byPrompt: Array<{ promptIndex: number; rows: SummaryRow[] }>;
    };
    // blank lines skipped: 3 prompts x (baseline + 2 drafters x 2 policies x 2 K)
    expect(doc.runs).toHaveLength(3 * 9);
    expect(new Set(doc.runs.map((x) => x.promptIndex))).toEqual(new Set([0, 1, 2]));
    expect(doc.runs.every((x) => x.identical)).toBe(true);
    const configs = doc.summary.map((s) =>
      s.mode === 'baseline' ? 'baseline' : `${s.drafter}/${s.policy}/${s.k}`,
    );
    expect(configs).toEqual([
      'baseline',
      'model/fixed/1',
      'model/fixed/3',
      'model/heuristic/1',
      'model/heuristic/3',
      'prompt-lookup/fixed/1',
      'prompt-lookup/fixed/3',
      'prompt-lookup/heuristic/1',
      'prompt-lookup/heuristic/3',
    ]);
    for (const s of doc.summary) {
      expect(s.prompts).toBe(3);
      expect(s.repeats).toBe(3);
      const times = doc.runs
        .filter(
          (x) => x.mode === s.mode && x.k === s.k && x.drafter == s.drafter && x.policy == s.policy,
        )
        .map((x) => x.timeS)
        .sort((a, b) => a - b);
      expect(s.timeS).toMatchObject({ median: times[1], min: times[0], max: times[2], n: 3 });
    }
    expect(doc.byPrompt.map((p) => p.promptIndex)).toEqual([0, 1, 2]);
    expect(doc.byPrompt.every((p) => p.rows.length === 9 && p.rows[0]!.repeats === 1)).toBe(true);
  });

  it('prints the per-configuration table and the per-prompt table', async () => {
    const r = await specdec([
      '--prompts-file',
      file,
      '--drafter',
      'model,prompt-lookup',
      '--k',
      '2',
      '--max-new-tokens',
      '8',
      '--warmup',
      '0',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Prompts: 3 from ${file}`);
    expect(r.stdout).toContain('K=2 model / fixed');
    expect(r.stdout).toContain('K=2 prompt-lookup / fixed');
    expect(r.stdout).toMatch(/Per prompt/);
    expect(r.stdout).toContain('In 1961 the committee');
    // the verdict: a best K, or no configuration beat the baseline (3 prompts, 1 repeat)
    expect(r.stdout).toMatch(
      /Best K: (No configuration beat the baseline: the fastest, )?K=2 (model|prompt-lookup) \/ fixed/,
    );
  });

  it('says what is wrong with a bad prompt file or strategy name', async () => {
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '\n  \n');
    const e1 = await specdec(['--prompts-file', empty]);
    expect(e1.code).toBe(2);
    expect(e1.stderr).toMatch(/has no prompts\. Put one prompt on each line/);
    const e2 = await specdec(['--prompts-file', join(dir, 'missing.txt')]);
    expect(e2.code).toBe(2);
    expect(e2.stderr).toMatch(/Cannot read the prompts file/);
    const e3 = await specdec(['--drafter', 'model,oracle']);
    expect(e3.code).not.toBe(0);
    expect(e3.stderr).toMatch(/--drafter takes model, prompt-lookup.*got "oracle"/);
  });
});
