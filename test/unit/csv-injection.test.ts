/** Every CSV the lab writes is safe to open in a spreadsheet: no cell starts a formula. */
import { parse } from 'csv-parse/sync';
import { expect, it } from 'vitest';
import { stepsCsv } from '../../src/renderer/src/lib/csv';
import { runsCsv } from '../../src/results/runsCsv';
import type { EngineEvent } from '../../src/shared/events';
import { runRow } from '../support/helpers';

const HOSTILE = ['=HYPERLINK("http://x","y")', '+1+1', '-mile.', '@SUM(A1)', '\tx'];

it('runs CSV: a prompt or output text that starts like a formula is quoted as text', () => {
  const csv = runsCsv(
    HOSTILE.map((text, i) => runRow({ outputText: text, promptIndex: i, speedup: -0.5 })),
    {
      prompts: HOSTILE,
      models: { target: 't', draft: 'd' },
      dtypes: { target: 'fp32', draft: 'fp32' },
      sampling: null,
      repetition: null,
    },
  );
  const records = parse(csv, { columns: true }) as Array<Record<string, string>>;
  expect(records.map((r) => r.prompt)).toEqual(HOSTILE.map((t) => `'${t}`));
  expect(records.map((r) => r.outputText)).toEqual(HOSTILE.map((t) => `'${t}`));
  // numbers stay numbers, negative ones included
  expect(records[0]!.speedup).toBe('-0.5');
});

it('steps CSV: a token text that starts like a formula is quoted as text', () => {
  const events: EngineEvent[] = HOSTILE.map((text, i) => ({
    type: 'emit' as const,
    runId: 'r',
    step: i,
    position: i,
    tokenId: i,
    text,
    kind: 'target' as const,
    draftProb: null,
    targetProb: 0.5,
  }));
  const csv = stepsCsv(events, {
    promptIndex: 0,
    prompt: '=1+1',
    target: 't',
    draft: 'd',
    mode: 'baseline',
    k: null,
    policy: null,
    drafter: null,
    repeat: 0,
  });
  const records = parse(csv, { columns: true }) as Array<Record<string, string>>;
  expect(records.map((r) => r.text)).toEqual(HOSTILE.map((t) => `'${t}`));
  expect(records.every((r) => r.prompt === "'=1+1")).toBe(true);
});
