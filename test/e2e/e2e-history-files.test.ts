/**
 * History files as people leave them (issue 32), in real Chromium against `serve`: a backup made
 * with `cp X.json X-copy.json`, an entry saved by an earlier version (rows inside its header), a
 * run saved twice and a run out of range in rows.jsonl, a FIFO named pipe.json and a rows.jsonl
 * that is a folder. The panel lists each as what it is with what to do, never sticks on
 * "Loading...", opens what can be opened, and deletes one entry's files only.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEntry, RunRow } from '../../src/shared/protocol';
import { runRow } from '../support/helpers';
import {
  chromiumMissing,
  openApp,
  resultRows,
  SHOTS,
  type BrowserApp,
} from '../support/browserApp';
import { sweepSettings } from '../support/serveClient';

const missing = chromiumMissing;

let app: BrowserApp;
let page: Page;
const pageErrors: string[] = [];

const rows = (): RunRow[] => [
  runRow({ runId: 'a', mode: 'baseline', k: null, speedup: 1 }),
  runRow({ runId: 'b', k: 1 }),
  runRow({ runId: 'c', k: 2 }),
];

function header(id: string, day: number, over: Partial<HistoryEntry> = {}): HistoryEntry {
  return {
    id,
    createdAt: `2025-01-0${day}T10:00:00.000Z`,
    settings: sweepSettings({ ks: [1, 2] }),
    models: { target: 'brown-pair/target', draft: 'brown-pair/draft' },
    rows: [],
    theory: null,
    status: 'finished',
    ...over,
  };
}

beforeAll(async () => {
  if (missing) return;
  app = await openApp('e2e-history-files');
  ({ page } = app);
  page.on('pageerror', (err) => pageErrors.push(err.message));
  const dir = join(app.dataDir, 'history');
  mkdirSync(dir, { recursive: true });
  // saved by an earlier version: the rows inside the header; and its backup
  writeFileSync(join(dir, 'old.json'), JSON.stringify({ ...header('old', 1), rows: rows() }));
  copyFileSync(join(dir, 'old.json'), join(dir, 'old-copy.json'));
  // saved as today, with a run saved twice and one out of range
  writeFileSync(join(dir, 'twice.json'), JSON.stringify(header('twice', 2)));
  const lines = rows().map((r) => JSON.stringify(r));
  lines.splice(2, 0, lines[1]!, JSON.stringify(runRow({ runId: 'huge', k: 1e9 })));
  appendFileSync(join(dir, 'twice.rows.jsonl'), lines.join('\n') + '\n');
  // a FIFO and a rows file that is a folder
  spawnSync('mkfifo', [join(dir, 'pipe.json')]);
  writeFileSync(join(dir, 'folder.json'), JSON.stringify(header('folder', 3)));
  mkdirSync(join(dir, 'folder.rows.jsonl'));
});

afterAll(async () => {
  await app?.close();
});

const entries = (): ReturnType<Page['getByTestId']> => page.getByTestId('history-entry');
const entry = (id: string): ReturnType<Page['locator']> =>
  page.locator(`[data-testid="history-entry"][data-id="${id}"]`);

describe.skipIf(missing !== null)(
  `History files as people leave them${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it('lists a copy, a broken file and skipped rows as such, and the panel does not stick', async () => {
      await expect.poll(() => page.getByTestId('run-button').isEnabled()).toBe(true);
      await page.getByTestId('history-refresh').click();
      await expect.poll(() => page.getByTestId('history-refresh').isEnabled()).toBe(true);
      await expect.poll(() => entries().count()).toBe(5);
      expect(await page.getByTestId('history-refresh').textContent()).toContain('Refresh');
      // the copy: marked, with what to do
      await expect.poll(() => entry('old-copy').getByTestId('history-duplicate').count()).toBe(1);
      expect(await entry('old-copy').getByTestId('history-problem').first().textContent()).toMatch(
        /^A copy of old\.json .*Delete the one you do not need/,
      );
      expect(await entry('old').getByTestId('history-duplicate').count()).toBe(0);
      expect(await entry('old').textContent()).toContain('3 runs');
      // rows saved twice or out of range: counted and said
      const twice = (await entry('twice').getByTestId('history-problem').allTextContents()).join(
        ' ',
      );
      expect(twice).toMatch(/1 saved run was skipped: 1 with values out of range \(k: /);
      expect(twice).toMatch(/1 run was saved twice and is shown once/);
      // what cannot be read: listed with why and what to do, Delete only
      expect(await entry('pipe').textContent()).toMatch(
        /pipe\.json is a named pipe, not a saved file, and was not read: move it out of the history folder/,
      );
      expect(await entry('pipe').getByTestId('history-item').count()).toBe(0);
      expect(await entry('folder').getByTestId('history-problem').textContent()).toMatch(
        /folder\.rows\.jsonl is a folder, not a saved file, and was not read/,
      );
      await page.getByTestId('history-list').screenshot({ path: join(SHOTS, 'history-files.png') });
      expect(pageErrors).toEqual([]);
    });

    it('opens an entry saved by an earlier version and one with a run saved twice', async () => {
      const shown = (id: string): Promise<string | null> =>
        entry(id).getByTestId('history-item').getAttribute('aria-current');
      await entry('twice').getByTestId('history-item').click();
      await expect.poll(() => shown('twice')).toBe('true');
      await expect.poll(() => resultRows(page)).toBe(3);
      await entry('old').getByTestId('history-item').click();
      await expect.poll(() => shown('old')).toBe('true');
      await expect.poll(() => resultRows(page)).toBe(3);
      expect(pageErrors).toEqual([]);
    });

    it('deletes the copy, the pipe, and keeps the original with its runs', async () => {
      const dir = join(app.dataDir, 'history');
      await entry('old-copy').getByTestId('history-delete').click();
      await entry('old-copy').getByTestId('history-delete-confirm').click();
      await expect.poll(() => entries().count()).toBe(4);
      expect(existsSync(join(dir, 'old.json'))).toBe(true);
      expect(existsSync(join(dir, 'old-copy.json'))).toBe(false);
      expect(await entry('old').textContent()).toContain('3 runs');

      await entry('pipe').getByTestId('history-delete').click();
      await entry('pipe').getByTestId('history-delete-confirm').click();
      await expect.poll(() => entries().count()).toBe(3);
      expect(existsSync(join(dir, 'pipe.json'))).toBe(false);
      expect(pageErrors).toEqual([]);
    });
  },
);
