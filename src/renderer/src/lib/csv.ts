/**
 * CSV export of one run's per-step event log (the sweep's runs: src/results/runsCsv.ts).
 * Quoting is csv-stringify's (its browser build), never hand-written.
 */
import { stringify } from 'csv-stringify/browser/esm/sync';
import type { EngineEvent } from '../../../shared/events';

export const STEP_COLUMNS = [
  'runId',
  'step',
  'type',
  'position',
  'tokenId',
  'text',
  'kind',
  'verdict',
  'draftProb',
  'targetProb',
] as const;

/**
 * Token-tree runs only (a chain's file keeps the columns above): a verify row's node in the
 * step's tree, its parent (-1: the pending token) and depth, as the verify event lists them.
 */
export const TREE_STEP_COLUMNS = ['node', 'parent', 'depth'] as const;

type StepRecord = Record<(typeof STEP_COLUMNS)[number], string | number | null> &
  Partial<Record<(typeof TREE_STEP_COLUMNS)[number], number | null>>;

const castOptions = {
  boolean: (value: boolean): string => (value ? 'true' : 'false'),
};

/**
 * One row per draft and per emit event, and one row per drafted token of a verify event (its
 * verdict and the target's probability; for a token tree, its node, parent and depth), so every
 * token decision is a row of its own.
 */
export function stepRecords(events: readonly EngineEvent[]): StepRecord[] {
  const records: StepRecord[] = [];
  // draft events of the current step by index: verify rows take position and text from them
  let drafts: Array<Extract<EngineEvent, { type: 'draft' }>> = [];
  for (const event of events) {
    switch (event.type) {
      case 'draft':
        if (event.index === 0) drafts = [];
        drafts[event.index] = event;
        records.push({
          runId: event.runId,
          step: event.step,
          type: 'draft',
          position: event.position,
          tokenId: event.tokenId,
          text: event.text,
          kind: 'draft',
          verdict: null,
          draftProb: event.draftProb,
          targetProb: null,
        });
        break;
      case 'verify':
        event.draftedTokenIds.forEach((tokenId, i) => {
          const draft = drafts[i]?.step === event.step ? drafts[i] : undefined;
          const node = event.tree?.nodes[i];
          records.push({
            ...(node ? { node: i, parent: node.parent, depth: node.depth } : {}),
            runId: event.runId,
            step: event.step,
            type: 'verify',
            position: draft?.position ?? null,
            tokenId,
            text: draft?.text ?? null,
            kind: null,
            verdict: event.verdicts[i] ?? null,
            draftProb: draft?.draftProb ?? null,
            targetProb: event.targetProbs?.[i] ?? null,
          });
        });
        break;
      case 'emit':
        records.push({
          runId: event.runId,
          step: event.step,
          type: 'emit',
          position: event.position,
          tokenId: event.tokenId,
          text: event.text,
          kind: event.kind,
          verdict: null,
          draftProb: event.draftProb,
          targetProb: event.targetProb,
        });
        break;
      default:
        break;
    }
  }
  return records;
}

/** What run the steps belong to: the first columns of the runs CSV (src/results/runsCsv.ts). */
export const STEP_RUN_COLUMNS = [
  'promptIndex',
  'prompt',
  'target',
  'draft',
  'mode',
  'k',
  'policy',
  'drafter',
  'repeat',
] as const;

export type StepRunId = Record<(typeof STEP_RUN_COLUMNS)[number], string | number | null>;

/** The step log with its run's identification on every row, so the file stands on its own. */
export function stepsCsv(events: readonly EngineEvent[], run: StepRunId): string {
  const trees = events.some((e) => e.type === 'verify' && e.tree !== undefined);
  return stringify(
    stepRecords(events).map((r) => ({ ...run, ...r })),
    {
      header: true,
      columns: [
        'runId',
        ...STEP_RUN_COLUMNS,
        ...STEP_COLUMNS.filter((c) => c !== 'runId'),
        ...(trees ? TREE_STEP_COLUMNS : []),
      ],
      cast: castOptions,
      // token text such as "-mile." or "=" must never start a spreadsheet formula
      escape_formulas: true,
    },
  );
}
