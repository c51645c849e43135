/**
 * What the history list says of each saved sweep: a summary bounded in size whatever the files
 * hold (a 200 MB prompt sends its first few hundred characters), copies of one sweep marked as
 * such, and a file that cannot be read listed with why and what to do.
 */
import { MAX_LISTED_TEXT, type HistorySummary } from '../../shared/protocol';
import { treeShapeText } from '../../shared/treeShape';
import { bestOf, comparesStrategies, summarizeRows, variantLabel } from '../../results/summary';
import type { ReadEntry } from './historyEntryRead';

/** text cut to the list's bound */
function bounded(text: string, max = MAX_LISTED_TEXT): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A readable entry's summary, computed once for its files as they are (see HistoryStore#list). */
export interface Listed {
  /** the id written inside it */
  storedId: string;
  /** its status as stored ('running' is judged at each list) */
  status: HistorySummary['status'];
  summary: HistorySummary;
}

/** the costly part of a list entry (its verdict over every row), kept while its files stay */
export function summarize(r: ReadEntry): Listed {
  const e = r.entry;
  const best = bestOf(summarizeRows(e.rows));
  return {
    storedId: r.storedId,
    status: e.status,
    summary: {
      id: e.id,
      createdAt: bounded(e.createdAt, 40),
      name: e.name == null ? null : bounded(e.name),
      status: e.status,
      models: { target: bounded(e.models.target), draft: bounded(e.models.draft) },
      dtypes: { target: e.settings.pair.target.dtype, draft: e.settings.pair.draft.dtype },
      prompt: bounded(e.settings.prompts[0] ?? ''),
      prompts: e.settings.prompts.length,
      ks: e.settings.ks,
      ...(e.settings.acceptance && { acceptance: e.settings.acceptance }),
      ...((e.settings.trees || e.settings.treeBudgets) && {
        trees: {
          shapes: (e.settings.trees ?? []).map(treeShapeText),
          budgets: e.settings.treeBudgets ?? [],
        },
      }),
      runs: e.rows.length,
      best: best && {
        label: variantLabel(best.row, comparesStrategies(e.rows)),
        speedup: best.row.speedup!.median,
        tied: best.tiedWith.length > 0,
        beatBaseline: best.beatBaseline,
      },
      ...(r.problems.length > 0 && { problems: r.problems }),
    },
  };
}

/**
 * Entries that share the id written inside them (a backup made with `cp X.json X-copy.json`):
 * each copy -> the entry it copies (the one whose file is named after the id, else the first).
 */
export function markDuplicates(listed: readonly Listed[]): Map<string, string> {
  const byStoredId = new Map<string, Listed[]>();
  for (const l of listed) byStoredId.set(l.storedId, [...(byStoredId.get(l.storedId) ?? []), l]);
  const copyOf = new Map<string, string>();
  for (const [storedId, group] of byStoredId) {
    if (group.length < 2) continue;
    const original = group.find((l) => l.summary.id === storedId) ?? group[0]!;
    for (const l of group) if (l !== original) copyOf.set(l.summary.id, original.summary.id);
  }
  return copyOf;
}

/** the list's entry: what changes between lists (running or dead, a copy, replayable) added */
export function listedEntry(
  l: Listed,
  about: { active: boolean; duplicateOf: string | null; replayable: boolean },
): HistorySummary {
  const { summary } = l;
  const problems = [...(summary.problems ?? [])];
  if (about.duplicateOf !== null)
    problems.unshift(
      `A copy of ${about.duplicateOf}.json (the same sweep, id ${JSON.stringify(bounded(l.storedId, 100))}): it shows the ${summary.runs} run${summary.runs === 1 ? '' : 's'} saved with this file. Delete the one you do not need: deleting either never touches the other's files.`,
    );
  const entry: HistorySummary = {
    ...summary,
    status: l.status === 'running' && !about.active ? 'failed' : l.status,
    replayable: about.replayable,
  };
  delete entry.problems;
  if (problems.length > 0) entry.problems = problems;
  if (about.duplicateOf !== null) entry.duplicateOf = about.duplicateOf;
  return entry;
}

/** a file in the history folder that cannot be opened: listed so that it can be deleted */
export function unreadableEntry(id: string, modified: string, problem: string): HistorySummary {
  return {
    id,
    createdAt: modified,
    name: null,
    status: 'failed',
    models: { target: '', draft: '' },
    prompt: '',
    prompts: 0,
    ks: [],
    runs: 0,
    best: null,
    replayable: false,
    unreadable: problem,
  };
}
