/**
 * The one CSV of a sweep's runs, for the CLI's `--csv` and the app's summary export alike: one row
 * per run, what it ran on and how, then every metric. Arrays are space-separated in one cell;
 * quoting is csv-stringify's. A row on its own says what it measured.
 */
import { stringify } from 'csv-stringify/browser/esm/sync';
import type { RepetitionParams, SamplingParams } from '../shared/decoding';
import type { RunRow } from '../shared/protocol';

/** What every row of one sweep shares: the prompts, the models and the decoding settings. */
export interface CsvContext {
  prompts: readonly string[];
  models: { target: string; draft: string | null };
  dtypes: { target: string; draft: string | null };
  sampling: SamplingParams | null;
  repetition: RepetitionParams | null;
}

export const RUN_CSV_COLUMNS = [
  'runId',
  'promptIndex',
  'prompt',
  'target',
  'draft',
  'targetDtype',
  'draftDtype',
  'targetProvider',
  'draftProvider',
  'mode',
  'k',
  'policy',
  'drafter',
  'repeat',
  'timeS',
  'speedup',
  'identical',
  'newTokens',
  'targetPasses',
  'draftPasses',
  'verificationSteps',
  'draftedTokens',
  'acceptedTokens',
  'corrections',
  'bonuses',
  'acceptanceRate',
  'tokensPerTargetPass',
  'targetRunS',
  'draftRunS',
  'queuedS',
  'cacheBytesPerPass',
  'readBytesPerPass',
  'draftCacheBytesPerPass',
  'draftReadBytesPerPass',
  'stopReason',
  'kPerStep',
  'acceptanceByPosition',
  'acceptanceTarget',
  'meanAcceptanceLength',
  'acceptedPerStepHistogram',
  'draftTokensTested',
  'draftS',
  'targetS',
  'otherS',
  'treeShape',
  'treeBudget',
  'treeVerify',
  'nodesPerStep',
  'rankTested',
  'rankAccepted',
  'repetitionStart',
  'repetitionPeriod',
  'temperature',
  'topK',
  'topP',
  'seed',
  'repetitionPenalty',
  'noRepeatNgram',
  'targetProviderTrials',
  'draftProviderTrials',
  'targetKvLocation',
  'draftKvLocation',
  'targetGraph',
  'draftGraph',
  'targetFamily',
  'draftFamily',
  'targetQ4Compute',
  'draftQ4Compute',
  'chatTemplate',
  'outputText',
  'outputTokenIds',
] as const;

type Cell = string | number | boolean | null;

export function runCsvRecord(
  row: RunRow,
  c: CsvContext,
): Record<(typeof RUN_CSV_COLUMNS)[number], Cell> {
  return {
    runId: row.runId,
    promptIndex: row.promptIndex,
    prompt: c.prompts[row.promptIndex] ?? null,
    target: c.models.target,
    draft: row.mode === 'speculative' && row.drafter !== 'model' ? null : c.models.draft,
    targetDtype: c.dtypes.target,
    draftDtype: c.dtypes.draft,
    targetProvider: row.targetProvider ?? null,
    draftProvider: row.draftProvider ?? null,
    targetKvLocation: row.targetKvLocation ?? null,
    draftKvLocation: row.draftKvLocation ?? null,
    targetGraph: row.targetGraph ?? null,
    draftGraph: row.draftGraph ?? null,
    targetFamily: row.targetFamily ?? null,
    // as draft: none where no draft model ran
    draftFamily:
      row.mode === 'speculative' && row.drafter !== 'model' ? null : (row.draftFamily ?? null),
    // what the 4-bit products ran in (int8, float, mixed, exported); empty without 4-bit products
    targetQ4Compute: row.targetQ4Compute ?? null,
    draftQ4Compute:
      row.mode === 'speculative' && row.drafter !== 'model' ? null : (row.draftQ4Compute ?? null),
    chatTemplate: row.chatTemplate ?? null,
    mode: row.mode,
    k: row.k,
    policy: row.policy ?? null,
    drafter: row.drafter ?? null,
    repeat: row.repeat,
    timeS: row.timeS,
    speedup: row.speedup,
    identical: row.identical,
    newTokens: row.newTokens,
    targetPasses: row.targetPasses,
    draftPasses: row.draftPasses,
    verificationSteps: row.verificationSteps,
    draftedTokens: row.draftedTokens,
    acceptedTokens: row.acceptedTokens,
    corrections: row.corrections,
    bonuses: row.bonuses,
    acceptanceRate: row.acceptanceRate,
    tokensPerTargetPass: row.tokensPerTargetPass,
    targetRunS: row.targetRunS,
    draftRunS: row.draftRunS,
    queuedS: row.queuedS ?? null,
    cacheBytesPerPass: row.transfer?.cacheBytesPerPass ?? null,
    readBytesPerPass: row.transfer?.readBytesPerPass ?? null,
    draftCacheBytesPerPass: row.transfer?.draft?.cacheBytesPerPass ?? null,
    draftReadBytesPerPass: row.transfer?.draft?.readBytesPerPass ?? null,
    stopReason: row.stopReason,
    kPerStep: row.kPerStep?.join(' ') ?? null,
    acceptanceByPosition: row.acceptanceByPosition?.map((a) => a.toFixed(4)).join(' ') ?? null,
    acceptanceTarget: row.acceptanceTarget ?? null,
    meanAcceptanceLength: row.meanAcceptanceLength ?? null,
    acceptedPerStepHistogram: row.acceptedPerStepHistogram?.join(' ') ?? null,
    draftTokensTested: row.draftTokensTested ?? null,
    draftS: row.timeSplit?.draftS ?? null,
    targetS: row.timeSplit?.targetS ?? null,
    otherS: row.timeSplit?.otherS ?? null,
    // a token tree's: empty for chains and baselines, so a tree row never reads as another K
    treeShape: row.tree?.shape?.join(',') ?? null,
    treeBudget: row.tree?.budget ?? null,
    treeVerify: row.tree?.verify ?? null,
    nodesPerStep: row.tree?.nodesPerStep.join(' ') ?? null,
    rankTested: row.tree?.ranks?.tested.join(' ') ?? null,
    rankAccepted: row.tree?.ranks?.accepted.join(' ') ?? null,
    repetitionStart: row.repetition?.start ?? null,
    repetitionPeriod: row.repetition?.period ?? null,
    temperature: c.sampling?.temperature ?? 0,
    topK: c.sampling?.topK ?? null,
    topP: c.sampling?.topP ?? null,
    seed: c.sampling?.seed ?? null,
    repetitionPenalty: c.repetition?.penalty ?? 1,
    noRepeatNgram: c.repetition?.noRepeatNgram ?? 0,
    targetProviderTrials: row.targetProviderTrials ?? null,
    draftProviderTrials: row.draftProviderTrials ?? null,
    outputText: row.outputText,
    outputTokenIds: row.outputTokenIds.join(' '),
  };
}

/** The CSV text: a header row, then one row per run ('' when there is no run). */
export function runsCsv(rows: readonly RunRow[], c: CsvContext): string {
  if (rows.length === 0) return '';
  return stringify(
    rows.map((r) => runCsvRecord(r, c)),
    {
      header: true,
      columns: [...RUN_CSV_COLUMNS],
      cast: { boolean: (v: boolean) => (v ? 'true' : 'false') },
      // a prompt or a token such as "-mile." must never start a spreadsheet formula
      escape_formulas: true,
    },
  );
}
