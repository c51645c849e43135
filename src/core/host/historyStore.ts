/**
 * Finished sweeps on disk, one JSON file each, written crash-safely (temp file + rename) after
 * every run so that a crash loses at most the run in progress.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HistoryEntry, type HistorySummary } from '../../shared/protocol';

export class HistoryStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  save(entry: HistoryEntry): void {
    const file = join(this.dir, `${entry.id}.json`);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(entry));
    renameSync(tmp, file);
  }

  get(id: string): HistoryEntry | null {
    if (!/^[\w-]+$/.test(id)) return null;
    try {
      return HistoryEntry.parse(JSON.parse(readFileSync(join(this.dir, `${id}.json`), 'utf8')));
    } catch {
      return null;
    }
  }

  /** newest first; `active` ids are still running, any other 'running' entry died with its host */
  list(active: ReadonlySet<string> = new Set()): HistorySummary[] {
    const out: HistorySummary[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const e = this.get(name.slice(0, -5));
      if (!e) continue; // unreadable or foreign file: skip it rather than fail the whole list
      out.push({
        id: e.id,
        createdAt: e.createdAt,
        status: e.status === 'running' && !active.has(e.id) ? 'failed' : e.status,
        models: e.models,
        prompt: e.settings.prompts[0] ?? '',
        prompts: e.settings.prompts.length,
        ks: e.settings.ks,
        runs: e.rows.length,
      });
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }
}
