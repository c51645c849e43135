/**
 * What the history list says of each saved sweep: a summary bounded in size whatever the files
 * hold (a 200 MB prompt sends its first few hundred characters), copies of one sweep marked as
 * such, and a file that cannot be read listed with why and what to do.
 */
import { MAX_LISTED_TEXT, type HistorySummary } from '../../shared/protocol';
import { bestOf, comparesStrategies, summarizeRows, variantLabel } from '../../results/summary';
import type { ReadEntry } from './historyEntryRead';

/** text cut to the list's bound */
function bounded(text: string, max = MAX_LISTED_TEXT): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Entries that share the id written inside them (a backup made with `cp X.json X-copy.json`):
 * each copy -> the entry it copies (the one whose file is named after the id, else the first).
 */
export function markDuplicates(read: readonly ReadEntry[]): Map<string, string> {
  const byStoredId = new Map<string, ReadEntry[]>();
  for (const r of read) byStoredId.set(r.storedId, [...(byStoredId.get(r.storedId) ?? []), r]);
  const copyOf = new Map<string, string>();
  for (const [storedId, group] of byStoredId) {
    if (group.length < 2) continue;
    const original = group.find((r) => r.entry.id === storedId) ?? group[0]!;
    for (const r of group) if (r !== original) copyOf.set(r.entry.id, original.entry.id);
  }
  return copyOf;
}

export function listedEntry(
  r: ReadEntry,
  about: { active: boolean; duplicateOf: string | null; replayable: boolean },
): HistorySummary {
  const e = r.entry;
  const best = bestOf(summarizeRows(e.rows));
  const problems = [...r.problems];
  if (about.duplicateOf !== null)
    problems.unshift(
      `A copy of ${about.duplicateOf}.json (the same sweep, id ${JSON.stringify(bounded(r.storedId, 100))}): it shows the ${e.rows.length} run${e.rows.length === 1 ? '' : 's'} saved with this file. Delete the one you do not need: deleting either never touches the other's files.`,
    );
  return {
    id: e.id,
    createdAt: bounded(e.createdAt, 40),
    name: e.name == null ? null : bounded(e.name),
    status: e.status === 'running' && !about.active ? 'failed' : e.status,
    models: { target: bounded(e.models.target), draft: bounded(e.models.draft) },
    dtypes: { target: e.settings.pair.target.dtype, draft: e.settings.pair.draft.dtype },
    prompt: bounded(e.settings.prompts[0] ?? ''),
    prompts: e.settings.prompts.length,
    ks: e.settings.ks,
    runs: e.rows.length,
    best: best && {
      label: variantLabel(best.row, comparesStrategies(e.rows)),
      speedup: best.row.speedup!.median,
      tied: best.tiedWith.length > 0,
      beatBaseline: best.beatBaseline,
    },
    replayable: about.replayable,
    ...(problems.length > 0 && { problems }),
    ...(about.duplicateOf !== null && { duplicateOf: about.duplicateOf }),
  };
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
