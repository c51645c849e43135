/**
 * The 4-bit products' compute mode in the app and the runs CSV: where the set-up's control applies
 * (and the reason it is off elsewhere), and the CSV's targetQ4Compute / draftQ4Compute columns.
 */
import { describe, expect, it } from 'vitest';
import { ModelChoice, RunRow } from '../../src/shared/protocol';
import { q4ComputeWords } from '../../src/shared/decoding';
import { RUN_CSV_COLUMNS, runCsvRecord, type CsvContext } from '../../src/results/runsCsv';
import { Q4_COMPUTE_OPTIONS, q4ComputeProblem } from '../../src/renderer/src/lib/modelChoice';
import { runRow } from '../support/helpers';

const context: CsvContext = {
  prompts: ['p'],
  models: { target: 't', draft: 'd' },
  dtypes: { target: 'q4', draft: 'q4' },
  sampling: null,
  repetition: null,
};

describe('the set-up control', () => {
  it('applies to q4 and q4f16 Hub files and to folders, on cpu or auto', () => {
    for (const dtype of ['q4', 'q4f16'] as const)
      for (const ep of ['cpu', 'auto'] as const)
        expect(q4ComputeProblem('hub', dtype, ep)).toBeNull();
    // a folder's file may be 4-bit whatever the Weights list says
    expect(q4ComputeProblem('folder', 'fp32', 'cpu')).toBeNull();
  });

  it('is off elsewhere, with the reason and the control to change', () => {
    expect(q4ComputeProblem('hub', 'fp32', 'cpu')).toBe(
      'fp32 weights have no 4-bit products: choose q4 or q4f16 under Weights.',
    );
    expect(q4ComputeProblem('hub', 'bnb4', 'auto')).toMatch(/^bnb4 weights have no 4-bit/);
    expect(q4ComputeProblem('hub', 'q4', 'webgpu')).toBe(
      'On webgpu the provider computes 4-bit products as the file sets them: choose cpu or auto under Provider.',
    );
    expect(q4ComputeProblem('embedded', 'q4', 'cpu')).toMatch(/embedded models are fp32/);
  });

  it('offers the two modes the CLI has, and a choice sent without one still parses', () => {
    expect(Q4_COMPUTE_OPTIONS.map((o) => o.q4Compute)).toEqual(['int8', 'exported']);
    const base = { source: 'x/y', dtype: 'q4', ep: 'cpu' };
    expect(ModelChoice.parse(base)).toEqual(base);
    expect(ModelChoice.parse({ ...base, q4Compute: 'exported' }).q4Compute).toBe('exported');
    expect(ModelChoice.safeParse({ ...base, q4Compute: 'fp8' }).success).toBe(false);
  });
});

describe('the runs CSV', () => {
  it('has targetQ4Compute and draftQ4Compute, empty without 4-bit products or a draft model', () => {
    expect(RUN_CSV_COLUMNS).toContain('targetQ4Compute');
    expect(RUN_CSV_COLUMNS).toContain('draftQ4Compute');
    const row = runRow({ drafter: 'model', targetQ4Compute: 'int8', draftQ4Compute: 'float' });
    expect(RunRow.parse(row)).toMatchObject({ targetQ4Compute: 'int8', draftQ4Compute: 'float' });
    const rec = runCsvRecord(row, context);
    expect([rec.targetQ4Compute, rec.draftQ4Compute]).toEqual(['int8', 'float']);
    // prompt lookup drafts without the draft model: nothing to say of its products
    const lookup = runCsvRecord(
      runRow({ drafter: 'prompt-lookup', targetQ4Compute: 'int8', draftQ4Compute: 'int8' }),
      context,
    );
    expect([lookup.targetQ4Compute, lookup.draftQ4Compute]).toEqual(['int8', null]);
    // a sweep saved before the columns
    const old = runCsvRecord(runRow(), context);
    expect([old.targetQ4Compute, old.draftQ4Compute]).toEqual([null, null]);
  });

  it('says each mode in words, and nothing for a model without 4-bit products', () => {
    expect(q4ComputeWords('int8')).toBe('4-bit products with int8 activations');
    expect(q4ComputeWords('float')).toBe('4-bit products in float32 (as exported)');
    expect(q4ComputeWords(null)).toBeNull();
    expect(q4ComputeWords(undefined)).toBeNull();
  });
});
