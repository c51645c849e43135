/**
 * `npm run bench:app [-- --repeats N] [-- --json]`: is the app's engine as fast as the CLI's?
 * The same sweep (embedded pair, the seed prompt, 100 new tokens, baseline and K=4, one repeat)
 * runs in the app (serve + headless Chromium, pressing Run as a person would, the stream drawing
 * as it arrives) and in the CLI (`specdec sweep --json`, its own process), both once a round, the
 * side that goes first alternating (app-CLI, CLI-app, ...) so that a machine slowing down or
 * speeding up within a round favours neither. Both report the seconds spent inside the target's
 * session.run; their ratio per target pass, median over rounds, is the engine cost the app adds
 * (rendering competing for the cores, the probabilities the app asks for, the event volume).
 * Beside it, each side's wait for the event loop before a pass (queuedS), counted apart.
 * Then a 400-token sweep streams into the app while a PerformanceObserver records the longest
 * task (the UI must stay under 50 ms).
 *
 * Needs Chromium at /usr/bin/chromium (apt-get install -y chromium) and a built renderer
 * (npm run build).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Table from 'cli-table3';
import { Command } from 'commander';
import { chromium, type Page } from 'playwright-core';
import { startServer } from '../src/cli/serve';
import { median, spread } from '../src/results/stats';
import { longTasks, setKs, watchLongTasks } from '../test/pageSteps';
import type { RunRow } from '../src/shared/protocol';

const ROOT = resolve(import.meta.dirname, '..');
const PAIR = join(ROOT, 'resources', 'models', 'brown-pair');
const CHROMIUM = '/usr/bin/chromium';
/** how often the harness looks whether a sweep has finished */
const POLL_MS = 250;

const opts = new Command()
  .name('bench:app')
  .option('--repeats <n>', 'rounds of one app and one CLI sweep, the first side alternating', '9')
  .option('--json', 'print one JSON document instead of the table')
  .option(
    '--hidden',
    "hide the page (display: none): no layout or paint, to tell the renderer's drawing apart from the rest",
  )
  .parse()
  .opts<{ repeats: string; json?: boolean; hidden?: boolean }>();
const REPEATS = Number(opts.repeats);

interface Round {
  /** ms inside the target's session.run per target pass */
  baseline: number;
  k4: number;
  /** ms a pass (both models, both runs) waited for the event loop before onnxruntime began it */
  queued: number;
}

type Row = Pick<RunRow, 'mode' | 'targetRunS' | 'targetPasses' | 'draftPasses' | 'queuedS'>;

const perPass = (rows: readonly Row[]): Round => {
  const at = (mode: RunRow['mode']): number => {
    const r = rows.find((x) => x.mode === mode)!;
    return (r.targetRunS * 1000) / r.targetPasses;
  };
  const passes = rows.reduce((n, r) => n + r.targetPasses + r.draftPasses, 0);
  const queuedMs = rows.reduce((n, r) => n + (r.queuedS ?? 0) * 1000, 0);
  return { baseline: at('baseline'), k4: at('speculative'), queued: queuedMs / passes };
};

function cliRound(): Round {
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'src', 'cli', 'main.ts'),
      'sweep',
      '--k',
      '4',
      '--max-new-tokens',
      '100',
      '--repeats',
      '1',
      '--json',
    ],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  return perPass((JSON.parse(out) as { runs: RunRow[] }).runs);
}

/** the rows of the newest saved sweep */
function newestRows(dataDir: string): RunRow[] {
  const dir = join(dataDir, 'history');
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.rows.jsonl'))
    .sort()
    .at(-1)!;
  return readFileSync(join(dir, file), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as RunRow);
}

/** Run a sweep as the Run button does (through the DOM: the page may be hidden). */
async function appSweep(page: Page, maxNewTokens: number): Promise<void> {
  await page.evaluate((n) => {
    const input = document.querySelector<HTMLInputElement>('[data-testid="max-new-tokens-input"]')!;
    input.value = String(n);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    document.querySelector<HTMLButtonElement>('[data-testid="run-button"]')!.click();
  }, maxNewTokens);
  // Polled on a timer, not every animation frame (Playwright's default): rAF polling makes the
  // page draw 60 frames a second, work a person watching does not cause, and the engine would
  // pay for it.
  await page.waitForFunction(
    () =>
      document.querySelector('[data-testid="progress"]')?.getAttribute('data-status') === 'running',
    null,
    { polling: POLL_MS },
  );
  await page.waitForFunction(
    () =>
      document.querySelector('[data-testid="progress"]')?.getAttribute('data-status') !== 'running',
    null,
    { timeout: 300_000, polling: POLL_MS },
  );
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install -y chromium)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'specdec-bench-app-'));
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    rendererDir: join(ROOT, 'out', 'renderer'),
    embeddedPair: { target: join(PAIR, 'target'), draft: join(PAIR, 'draft') },
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(120_000);
    await page.goto(server.url);
    await page.waitForFunction(
      () => !(document.querySelector('[data-testid="run-button"]') as HTMLButtonElement).disabled,
    );
    await page.getByTestId('repeats-input').fill('1');
    await setKs(page, [4]);

    if (opts.hidden) await page.evaluate(() => (document.body.style.display = 'none'));
    const app: Round[] = [];
    const cli: Round[] = [];
    const appRound = async (): Promise<Round> => {
      await appSweep(page, 100);
      return perPass(newestRows(dataDir));
    };
    for (let r = 0; r < REPEATS; r++) {
      // the CLI goes first in every other round
      let c = r % 2 === 1 ? cliRound() : null;
      const a = await appRound();
      c ??= cliRound();
      app.push(a);
      cli.push(c);
      if (!opts.json) {
        process.stderr.write(
          `round ${r + 1} of ${REPEATS} (${r % 2 === 0 ? 'app first' : 'CLI first'}): ms per target pass, app ${a.baseline.toFixed(2)} / CLI ${c.baseline.toFixed(2)} (baseline), app ${a.k4.toFixed(2)} / CLI ${c.k4.toFixed(2)} (K=4); queued ms per pass, app ${a.queued.toFixed(3)} / CLI ${c.queued.toFixed(3)}\n`,
        );
      }
    }

    // the UI while 400 tokens stream
    await watchLongTasks(page);
    await appSweep(page, 400);
    const tasks = await longTasks(page);
    const longest = Math.max(0, ...tasks);

    const med = (xs: Round[], key: keyof Round): number => median(xs.map((x) => x[key]));
    const pairedOf = (key: keyof Round) => spread(app.map((a, i) => a[key] / cli[i]![key]));
    const paired = { baseline: pairedOf('baseline'), k4: pairedOf('k4') };
    const result = {
      date: new Date().toISOString(),
      repeats: REPEATS,
      hidden: opts.hidden ?? false,
      msPerTargetPass: {
        baseline: { app: med(app, 'baseline'), cli: med(cli, 'baseline') },
        k4: { app: med(app, 'k4'), cli: med(cli, 'k4') },
      },
      msQueuedPerPass: { app: med(app, 'queued'), cli: med(cli, 'queued') },
      ratio: {
        baseline: med(app, 'baseline') / med(cli, 'baseline'),
        k4: med(app, 'k4') / med(cli, 'k4'),
      },
      // each app sweep against the CLI sweep of its round: drift of a shared machine between
      // rounds cancels out
      pairedRatio: { baseline: paired.baseline.median, k4: paired.k4.median },
      pairedRatioRange: {
        baseline: { min: paired.baseline.min, max: paired.baseline.max },
        k4: { min: paired.k4.min, max: paired.k4.max },
      },
      longestTaskMs: longest,
      longTasksOver50ms: tasks.filter((t) => t > 50).length,
    };
    if (opts.json) {
      console.log(JSON.stringify(result, null, 2));
      return;
    }
    const table = new Table({
      head: [
        'Run (100 tokens)',
        'App ms / target pass',
        'CLI ms / target pass',
        'App / CLI',
        'per-round App / CLI (range)',
      ],
    });
    for (const key of ['baseline', 'k4'] as const) {
      const m = result.msPerTargetPass[key];
      table.push([
        key === 'baseline' ? 'Baseline' : 'K=4',
        m.app.toFixed(3),
        m.cli.toFixed(3),
        `${result.ratio[key].toFixed(2)}x`,
        `${paired[key].median.toFixed(2)}x (${paired[key].min.toFixed(2)}-${paired[key].max.toFixed(2)})`,
      ]);
    }
    console.log(table.toString());
    const q = result.msQueuedPerPass;
    console.log(
      `Before onnxruntime began a pass (both models), it waited for the event loop ${q.app.toFixed(3)} ms in the app's host and ${q.cli.toFixed(3)} ms in the CLI (medians): part of each run's time, not of the time inside session.run.`,
    );
    console.log(
      `Time inside the target's session.run, median of ${REPEATS} rounds (per-round: the median, lowest and highest of each round's app sweep over its CLI sweep; the side that went first alternated). While 400 tokens streamed into the app its longest task took ${longest.toFixed(0)} ms (${result.longTasksOver50ms} over 50 ms).`,
    );
  } finally {
    await browser.close();
    await server.close();
  }
}

await main();
