/**
 * The names issue 33 adds to a run (targetFamily, draftFamily, chatTemplate): optional in the row
 * schema so that sweeps saved before them still load, columns of the runs CSV, and the one
 * sentence the CLI and the report say them in.
 */
import { describe, expect, it } from 'vitest';
import { RunRow } from '../../src/shared/protocol';
import { RUN_CSV_COLUMNS, runCsvRecord, type CsvContext } from '../../src/results/runsCsv';
import { pairSentence } from '../../src/results/pairWords';
import { runRow } from '../support/helpers';

const context: CsvContext = {
  prompts: ['p'],
  models: { target: 't', draft: 'd' },
  dtypes: { target: 'fp32', draft: 'fp32' },
  sampling: null,
  repetition: null,
};

describe('families and the chat template in a run row', () => {
  it('a row saved before them still loads; one with them keeps them', () => {
    expect(RunRow.safeParse(runRow()).success).toBe(true);
    const named = runRow({ targetFamily: 'qwen2', draftFamily: 'qwen2', chatTemplate: 'applied' });
    expect(RunRow.parse(named)).toMatchObject({
      targetFamily: 'qwen2',
      draftFamily: 'qwen2',
      chatTemplate: 'applied',
    });
    expect(RunRow.safeParse(runRow({ chatTemplate: 'maybe' as never })).success).toBe(false);
  });

  it('the CSV has targetFamily, draftFamily and chatTemplate (empty for older rows)', () => {
    for (const col of ['targetFamily', 'draftFamily', 'chatTemplate'] as const)
      expect(RUN_CSV_COLUMNS).toContain(col);
    const rec = runCsvRecord(
      runRow({
        drafter: 'model',
        targetFamily: 'llama',
        draftFamily: 'llama',
        chatTemplate: 'off',
      }),
      context,
    );
    expect([rec.targetFamily, rec.draftFamily, rec.chatTemplate]).toEqual([
      'llama',
      'llama',
      'off',
    ]);
    // prompt lookup drafts without the draft model: no draft, no draft family
    const lookup = runCsvRecord(
      runRow({ drafter: 'prompt-lookup', targetFamily: 'llama', draftFamily: 'llama' }),
      context,
    );
    expect([lookup.draft, lookup.draftFamily]).toEqual([null, null]);
    const old = runCsvRecord(runRow(), context);
    expect([old.targetFamily, old.draftFamily, old.chatTemplate]).toEqual([null, null, null]);
  });

  it('one sentence says which, and nothing for rows saved before', () => {
    expect(
      pairSentence({ targetFamily: 'qwen2', draftFamily: 'qwen2', chatTemplate: 'applied' }),
    ).toBe(
      "Families: target qwen2, draft qwen2; each prompt rendered as a user's turn in the target's chat template.",
    );
    expect(pairSentence({ targetFamily: 'gpt2', draftFamily: null, chatTemplate: 'none' })).toBe(
      'Families: target gpt2; prompts as written (the target has no chat template).',
    );
    expect(pairSentence({})).toBeNull();
  });
});
