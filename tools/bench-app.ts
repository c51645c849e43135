/**
 * `npm run bench:app [-- --repeats N] [-- --hidden] [-- --chromium PATH] [-- --json]`: is the app's
 * engine as fast as the CLI's?
 * The same sweep (embedded pair, the seed prompt, 100 new tokens, baseline and K=4, one repeat)
 * runs in the app (serve + headless Chromium, pressing Run as a person would, the stream drawing
 * as it arrives) and in the CLI (`specdec sweep --json`, its own process). Both report the
 * seconds spent inside the target's session.run; their ratio per target pass, median over
 * rounds, is the engine cost the app adds.
 *
 * The app runs twice a round: once with the engine's process alone on a core (Chromium, the server
 * and this harness on the others), which is the app's cost minus the drawing (the probabilities
 * the app asks for, the event volume, the host's own work); and once with every core shared, as
 * a small machine runs it, where the drawing also takes turns on the engine's core. Each is
 * compared with a CLI sweep run alone the same way (on the engine's core, so that both engines
 * share one core with their own helper threads; on any core). The order of the four rotates
 * each round so that a machine slowing down or speeding up favours none. Beside the times: each
 * side's wait for the event loop before a pass (queuedS, counted apart), and the share of each
 * app sweep the engine's thread spent runnable but waiting for a core (the kernel's run delay).
 * Then a 400-token sweep streams into the app (cores shared) while a PerformanceObserver records
 * the longest task (the UI must stay under 50 ms).
 *
 * Needs Chromium at /usr/bin/chromium (apt-get install -y chromium) and a built renderer
 * (npm run build); the split of cores needs Linux and taskset.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Table from 'cli-table3';
import { Command } from 'commander';
import { chromium, type Page } from 'playwright-core';
import { startServer } from '../src/cli/serve';
import { coreSplit, partition, pin, runQueueWaitMs, type CoreSplit } from './cores';
import { median, spread, type Spread } from '../src/shared/stats';
import { longTasks, setKs, watchLongTasks } from '../test/support/pageSteps';
import type { RunRow } from '../src/shared/protocol';

const ROOT = resolve(import.meta.dirname, '..');
const PAIR = join(ROOT, 'resources', 'models', 'brown-pair');
/** how often the harness looks whether a sweep has finished */
const POLL_MS = 250;

const opts = new Command()
  .name('bench:app')
  .option('--repeats <n>', 'rounds of one app and one CLI sweep, the first side alternating', '9')
  .option(
    '--chromium <path>',
    'the Chromium (or Chrome, or headless shell) to drive',
    '/usr/bin/chromium',
  )
  .option('--json', 'print one JSON document instead of the table')
  .option(
    '--hidden',
    "hide the page (display: none): no layout or paint, to tell the renderer's drawing apart from the rest",
  )
  .parse()
  .opts<{ repeats: string; chromium: string; json?: boolean; hidden?: boolean }>();
const CHROMIUM = opts.chromium;
const REPEATS = Number(opts.repeats);

interface Round {
  /** ms inside the target's session.run per target pass */
  baseline: number;
  k4: number;
  /** ms a pass (both models, both runs) waited for the event loop before onnxruntime began it */
  queued: number;
}

interface AppRound extends Round {
  /** the share of the sweep's wall time the engine's main thread waited, runnable, for a core */
  waitShare: number | null;
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

/** The CLI's sweep, in its own process, on the given cores (a taskset list) or on any. */
function cliRound(cores: string | null): Round {
  const args = [
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
  ];
  const [command, argv] = cores
    ? ['taskset', ['--cpu-list', cores, process.execPath, ...args]]
    : [process.execPath, args];
  const out = execFileSync(command, argv, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
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

/** the engine host's process under serve (src/cli/hostProcess.ts) */
const HOST_MARKER = 'hostProcess';

type Mode = 'own' | 'shared';
const MODE_NAMES: Record<Mode, string> = {
  own: 'engine alone on a core',
  shared: 'all cores shared',
};
const CLI_NAMES: Record<Mode, string> = { own: 'on that core', shared: 'on any core' };

/** Where the app's processes may run for this sweep. */
function placeApp(mode: Mode, split: CoreSplit): number {
  const { matching, others } = partition(process.pid, HOST_MARKER);
  if (matching.length !== 1) throw new Error(`expected one engine host, found ${matching.length}`);
  const host = matching[0]!;
  if (mode === 'own') {
    pin([host], split.engine);
    pin([process.pid, ...others], split.rest);
  } else pin([process.pid, host, ...others], split.all);
  return host;
}

/** one side's medians against the CLI's, over the rounds */
function compare(app: AppRound[], cli: Round[]) {
  const med = (xs: Round[], key: keyof Round): number => median(xs.map((x) => x[key]));
  const paired = (key: 'baseline' | 'k4'): Spread =>
    spread(app.map((a, i) => a[key] / cli[i]![key]));
  const waits = app.map((a) => a.waitShare).filter((w): w is number => w !== null);
  const p = { baseline: paired('baseline'), k4: paired('k4') };
  return {
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
    pairedRatio: { baseline: p.baseline.median, k4: p.k4.median },
    pairedRatioRange: {
      baseline: { min: p.baseline.min, max: p.baseline.max },
      k4: { min: p.k4.min, max: p.k4.max },
    },
    /** median share of an app sweep's wall time the engine's thread waited for a core */
    engineWaitShare: waits.length > 0 ? median(waits) : null,
  };
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or name another with --chromium)`,
    );
  const found = coreSplit();
  const split = 'unavailable' in found ? null : found;
  if (!split && !opts.json)
    process.stderr.write(
      `Measuring with the cores shared only: ${'unavailable' in found ? found.unavailable : ''}\n`,
    );
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
    const modes: Mode[] = split ? ['own', 'shared'] : ['shared'];
    const app: Record<Mode, AppRound[]> = { own: [], shared: [] };
    // the CLI beside each: on the engine's core when the app's engine has a core to itself, on
    // any when the app shares them
    const cli: Record<Mode, Round[]> = { own: [], shared: [] };
    const appRound = async (mode: Mode): Promise<AppRound> => {
      const host = split ? placeApp(mode, split) : null;
      const wait0 = host === null ? null : runQueueWaitMs(host);
      const t0 = performance.now();
      await appSweep(page, 100);
      const wall = performance.now() - t0;
      const wait1 = host === null ? null : runQueueWaitMs(host);
      const waitShare = wait0 === null || wait1 === null ? null : (wait1 - wait0) / wall;
      return { ...perPass(newestRows(dataDir)), waitShare };
    };
    const f = (x: number): string => x.toFixed(2);
    for (let r = 0; r < REPEATS; r++) {
      // each way of running the app and its CLI, in an order that rotates every round
      const sides = modes.flatMap((mode) => [
        { mode, app: true },
        { mode, app: false },
      ]);
      const order = [...sides.slice(r % sides.length), ...sides.slice(0, r % sides.length)];
      const line: string[] = [];
      for (const { mode, app: isApp } of order) {
        if (!isApp) {
          const c = cliRound(mode === 'own' ? split!.engine : null);
          cli[mode].push(c);
          line.push(`CLI (${CLI_NAMES[mode]}) ${f(c.baseline)} / ${f(c.k4)}`);
        } else {
          const a = await appRound(mode);
          app[mode].push(a);
          const wait =
            a.waitShare === null ? '' : `, waited for a core ${(a.waitShare * 100).toFixed(0)}%`;
          line.push(`app (${MODE_NAMES[mode]}) ${f(a.baseline)} / ${f(a.k4)}${wait}`);
        }
      }
      if (!opts.json)
        process.stderr.write(
          `round ${r + 1} of ${REPEATS}, ms per target pass (baseline / K=4): ${line.join('; ')}\n`,
        );
    }

    // the UI while 400 tokens stream, as a small machine runs it
    if (split) placeApp('shared', split);
    await watchLongTasks(page);
    await appSweep(page, 400);
    const tasks = await longTasks(page);
    const longest = Math.max(0, ...tasks);

    const result = {
      date: new Date().toISOString(),
      repeats: REPEATS,
      hidden: opts.hidden ?? false,
      cores: split ? { engine: split.engine, rest: split.rest } : null,
      ownCore: split ? compare(app.own, cli.own) : null,
      sharedCores: compare(app.shared, cli.shared),
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
        'App',
        'App ms / target pass',
        'CLI ms / target pass',
        'App / CLI',
        'per-round App / CLI (range)',
        'engine waited for a core',
      ],
    });
    for (const key of ['baseline', 'k4'] as const) {
      for (const mode of modes) {
        const c = mode === 'own' ? result.ownCore! : result.sharedCores;
        const m = c.msPerTargetPass[key];
        const p = { median: c.pairedRatio[key], ...c.pairedRatioRange[key] };
        table.push([
          key === 'baseline' ? 'Baseline' : 'K=4',
          MODE_NAMES[mode],
          m.app.toFixed(3),
          m.cli.toFixed(3),
          `${c.ratio[key].toFixed(2)}x`,
          `${f(p.median)}x (${f(p.min)}-${f(p.max)})`,
          c.engineWaitShare === null ? '-' : `${(c.engineWaitShare * 100).toFixed(0)}% of a sweep`,
        ]);
      }
    }
    console.log(table.toString());
    for (const mode of modes) {
      const q = (mode === 'own' ? result.ownCore! : result.sharedCores).msQueuedPerPass;
      console.log(
        `${MODE_NAMES[mode][0]!.toUpperCase()}${MODE_NAMES[mode].slice(1)}: before onnxruntime began a pass (both models), it waited for the event loop ${q.app.toFixed(3)} ms in the app's host and ${q.cli.toFixed(3)} ms in the CLI (medians): part of each run's time, not of the time inside session.run.`,
      );
    }
    const cores = split
      ? ` The engine alone on a core: the app's engine and its CLI on core ${split.engine}, Chromium, the server and this harness on ${split.rest}.`
      : '';
    console.log(
      `Time inside the target's session.run, median of ${REPEATS} rounds (per-round: the median, lowest and highest of each round's app sweep over its CLI sweep; the order rotated each round).${cores} While 400 tokens streamed into the app its longest task took ${longest.toFixed(0)} ms (${result.longTasksOver50ms} over 50 ms).`,
    );
  } finally {
    await browser.close();
    await server.close();
  }
}

await main();
