/**
 * `specdec sweep`: the exercise's K sweep from the command line. The flags become the run plan
 * that the app's engine host runs too (src/lab/runPlan.ts); the steps live in src/cli/sweep/.
 */
import { releasePair } from '../core/model/pair';
import { checkSweepConfig, type SweepConfig } from '../core/experiment/sweep';
import type { SweepSettings } from '../shared/protocol';
import { openPair } from '../core/hub/openPair';
import { probeFiles } from '../core/model/providerProbe';
import { runExperiment, type ExperimentHooks } from '../lab/experiment';
import { pairProviders } from '../lab/runRows';
import { modelSpecOf, sweepPlan } from '../lab/runPlan';
import { EMBEDDED_PAIR, defaultCacheDir, defaultDataDir } from './paths';
import { downloadBar } from './downloadProgress';
import { probeLauncher } from './childScripts';
import { placementOf, promptsOf, sweepSettingsOf, type SweepCliOptions } from './sweep/options';
import { runProgressBar } from './sweep/progress';
import { cancelOnSignals, type SignalCancel } from './sweep/stopSignals';
import {
  LiveCsvOutputs,
  checkOutputsWritable,
  csvContextOf,
  reportFailedWrites,
  writeOutputFiles,
} from './sweep/outputs';
import { sweepJsonDocument } from './sweep/jsonDocument';
import { printSummary } from './sweep/printSummary';

export async function sweepCommand(opts: SweepCliOptions): Promise<void> {
  const prompts = promptsOf(opts);
  const settings = sweepSettingsOf(opts, prompts);
  // Arguments first: nothing is downloaded, probed or loaded for a request that cannot run.
  const config = sweepPlan(settings, {
    warmup: opts.warmup,
    noKvCache: !opts.kvCache,
    ...(opts.acceptance ? { acceptance: opts.acceptance } : {}),
    ...(opts.tree ? { trees: opts.tree } : {}),
    ...(opts.treeBudget ? { treeBudgets: opts.treeBudget } : {}),
    ...(opts.tree || opts.treeBudget ? { treeVerify: opts.treeVerify } : {}),
  });
  checkOutputsWritable(opts);
  const stop = cancelOnSignals();
  try {
    await runSweepCommand(opts, prompts, settings, config, stop);
  } finally {
    stop.dispose();
  }
  const status = stop.exitStatus();
  if (status !== null && !process.exitCode) process.exitCode = status;
}

async function runSweepCommand(
  opts: SweepCliOptions,
  prompts: string[],
  settings: SweepSettings,
  config: SweepConfig,
  stop: SignalCancel,
): Promise<void> {
  const dataDir = opts.dataDir ?? defaultDataDir();
  const launcher = probeLauncher();
  const probe = {
    ...probeFiles(dataDir),
    reprobe: opts.reprobe ?? false,
    ...(launcher ? { launcher } : {}),
    ...(opts.verbose ? { onLog: (line: string) => process.stderr.write(`probe: ${line}\n`) } : {}),
  };
  const placement = placementOf(opts);
  const bar = downloadBar();
  let opened;
  try {
    opened = await openPair(
      modelSpecOf(settings.pair.target, EMBEDDED_PAIR.target, placement),
      modelSpecOf(settings.pair.draft, EMBEDDED_PAIR.draft, placement),
      {
        cacheDir: opts.cacheDir ?? defaultCacheDir(),
        offline: settings.pair.offline,
        signal: stop.signal,
        onProgress: (p) => bar.update(p),
        ...(opts.hubHost ? { hubHost: opts.hubHost } : {}),
      },
      {
        probe,
        check: (fit) => checkSweepConfig(config, fit),
        chatTemplate: opts.chatTemplate,
      },
    );
  } catch (err) {
    const received = stop.received();
    if (received === null) throw err;
    // stopped before any run: nothing to write, and the status says by what
    process.stderr.write(`specdec: stopped by ${received} before the sweep began.\n`);
    return;
  } finally {
    bar.stop();
  }
  const { pair } = opened;
  const providers = pairProviders(pair);
  if (opts.verbose) process.stderr.write(`probe: log in ${probe.logFile}\n`);
  const strategies = opts.policy.length > 1 || opts.drafter.length > 1;
  const progress = runProgressBar(prompts.length, opts.repeats, strategies);
  const liveCsv = new LiveCsvOutputs(opts, csvContextOf({ opts, prompts, config, opened }));
  const hooks: ExperimentHooks = {
    ...progress.hooks,
    onRunEnd: (run, row) => {
      progress.hooks.onRunEnd?.(run, row);
      liveCsv.add(row);
    },
  };
  let result;
  try {
    result = await runExperiment(pair, config, hooks, stop.signal);
  } finally {
    progress.stop();
    await releasePair(pair);
  }
  const outcome = { opts, prompts, config, opened, providers, result };
  const failedWrites = writeOutputFiles(outcome);
  if (opts.json) {
    process.stdout.write(JSON.stringify(sweepJsonDocument(outcome), null, 2) + '\n');
  } else {
    printSummary(outcome);
  }
  reportFailedWrites(failedWrites);
}
