/**
 * A saved run too long for one message (issue 32: replies come in parts of about 512 kB) replays
 * whole in the app: the engine sends its events in several `history-run` parts, joined in order,
 * and the page shows every token of it. Real Chromium against `serve` on the embedded pair.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/shared/events';
import type { RunRow } from '../../src/shared/protocol';
import { chromiumMissing, openApp, type BrowserApp } from '../support/browserApp';
import { connect, sweepSettings } from '../support/serveClient';

const missing = chromiumMissing;

let app: BrowserApp;
let page: Page;

beforeAll(async () => {
  if (missing) return;
  app = await openApp('e2e-replay-parts');
  ({ page } = app);
});

afterAll(async () => {
  await app?.close();
});

describe.skipIf(missing !== null)(
  `A long saved run${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it('comes back in parts, joined in order, and replays whole in the page', async () => {
      const c = await connect(app.server);
      const settings = sweepSettings({ maxNewTokens: 400, ks: [4], prompts: ['Once upon a time'] });
      c.send({ type: 'sweep', requestId: 'long', settings });
      const done = await c.next((m) => m.type === 'sweep-done' && m.requestId === 'long', 240_000);
      const id = done.type === 'sweep-done' ? done.historyId : '';
      const rows: RunRow[] = c.all.flatMap((m) =>
        m.type === 'sweep-row' && m.requestId === 'long' ? [m.row] : [],
      );
      const streamed: EngineEvent[] = c.all.flatMap((m) =>
        m.type === 'events' && m.requestId === 'long' ? m.events : [],
      );
      let mostParts = 0;
      for (const row of rows) {
        const requestId = `parts-${row.runId}`;
        c.send({ type: 'history-run', requestId, id, runId: row.runId });
        await c.next(
          (m) => m.type === 'history-run' && m.requestId === requestId && m.part === m.parts - 1,
        );
        const parts = c.all.flatMap((m) =>
          m.type === 'history-run' && m.requestId === requestId ? [m] : [],
        );
        expect(parts.map((p) => p.part)).toEqual(parts.map((_, i) => i));
        expect(parts.flatMap((p) => p.events)).toEqual(
          streamed.filter((e) => e.runId === row.runId),
        );
        mostParts = Math.max(mostParts, parts[0]!.parts);
      }
      c.close();
      console.log(`the longest saved run came back in ${mostParts} parts`);
      expect(mostParts).toBeGreaterThan(1);

      // the page opens the saved sweep and replays each run from its parts, every token shown
      await page.reload();
      await page.getByTestId('history-entry').first().getByTestId('history-item').click();
      const label = page.getByTestId('step-label');
      const select = page.getByTestId('run-select');
      for (const [option, row] of [
        ['Baseline', rows.find((r) => r.k === null)!],
        ['K=4', rows.find((r) => r.k === 4)!],
      ] as const) {
        await select.selectOption({ label: option });
        await expect
          .poll(() => label.textContent(), { timeout: 30_000 })
          .toMatch(/^Step (\d+) of \1/);
        await expect
          .poll(() => page.getByTestId('token-count').textContent())
          .toMatch(new RegExp(`^\\s*${row.newTokens} new tokens`));
      }
    }, 300_000);
  },
);
