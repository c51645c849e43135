/**
 * `--csv`, `--summary-csv` and `--report`: checked writable before the sweep runs, written after it. A file that
 * cannot be written must not cost the results: they are still printed, and the failure after them.
 */
import { accessSync, constants, existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SpecDecError, describeError } from '../../core/errors';
import { makeFolders } from '../../core/atomicWrite';
import { runsCsv } from '../../results/runsCsv';
import { summaryCsv } from '../../results/summaryCsv';
import { writeAnalysisReport } from '../analysisReport';
import type { SweepCliOptions } from './options';
import type { SweepOutcome } from './outcome';

/**
 * An output file can be written: its folder, or the nearest folder above it that exists (the
 * rest is made when writing), is a folder we may write to. Checked before the sweep runs, so a
 * typo in a path does not throw away a finished sweep.
 */
function checkWritable(flag: string, file: string): void {
  let dir = dirname(resolve(file));
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a folder`);
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new SpecDecError(
      'BAD_ARGUMENT',
      `${flag} ${file}: cannot write there (${describeError(err)}). Give a path in a folder you can write to.`,
    );
  }
}

/** The output files, checked before anything is downloaded or run. */
export function checkOutputsWritable(opts: SweepCliOptions): void {
  for (const [flag, file] of [
    ['--csv', opts.csv],
    ['--summary-csv', opts.summaryCsv],
    ['--report', opts.report],
  ] as const) {
    if (file) checkWritable(flag, file);
  }
}

/** Write an output file, making its folder first. */
function writeOutput(file: string, text: string): void {
  makeFolders(dirname(resolve(file)));
  writeFileSync(file, text);
}

/**
 * Write the CSVs and the report that were asked for (the report's paths go to stderr); returns
 * what could not be written, as "--csv FILE: why", for after the results.
 */
export function writeOutputFiles(outcome: SweepOutcome): string[] {
  const { opts, prompts, config, opened, result } = outcome;
  const { pair } = opened;
  const { rows, theory } = result;
  const failedWrites: string[] = [];
  const attempt = (flag: string, file: string, write: () => void): void => {
    try {
      write();
    } catch (err) {
      failedWrites.push(`${flag} ${file}: ${describeError(err)}`);
    }
  };
  if (opts.csv) {
    const csvFile = opts.csv;
    attempt('--csv', csvFile, () =>
      writeOutput(
        csvFile,
        runsCsv(rows, {
          prompts,
          models: { target: opened.target.name, draft: opened.draft?.name ?? null },
          dtypes: { target: opts.dtype, draft: pair.draft ? opts.dtype : null },
          sampling: config.sampling ?? null,
          repetition: config.repetition ?? null,
        }),
      ),
    );
  }
  if (opts.summaryCsv) {
    const summaryFile = opts.summaryCsv;
    attempt('--summary-csv', summaryFile, () => writeOutput(summaryFile, summaryCsv(rows)));
  }
  if (opts.report) {
    const reportFile = opts.report;
    attempt('--report', reportFile, () => {
      makeFolders(dirname(resolve(reportFile)));
      const written = writeAnalysisReport(reportFile, {
        rows,
        theory,
        prompts,
        models: { target: pair.target.folder.name, draft: pair.draft?.folder.name ?? 'none' },
        settings: {
          maxNewTokens: opts.maxNewTokens,
          ks: opts.k,
          repeats: opts.repeats,
          policies: opts.policy,
          drafters: opts.drafter,
          noKvCache: !opts.kvCache,
          sampling: config.sampling ?? null,
        },
        status: result.cancelled ? 'cancelled' : 'finished',
      });
      process.stderr.write(`Report: ${written.join(', ')}\n`);
    });
  }
  return failedWrites;
}

/** The files that could not be written, on stderr after the results; the exit status is then 2. */
export function reportFailedWrites(failedWrites: readonly string[]): void {
  if (failedWrites.length === 0) return;
  for (const f of failedWrites) process.stderr.write(`specdec: error: could not write ${f}\n`);
  process.exitCode = 2;
}
