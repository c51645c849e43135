/**
 * `--csv`, `--summary-csv` and `--report`: checked writable before the sweep runs; the CSVs
 * rewritten as each run finishes and all three at the end, every write atomic (a temporary file
 * beside the target, renamed over it). A file that cannot be written must not cost the results:
 * they are still printed, the failure after them, and the previous file is left whole.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SpecDecError, describeError } from '../../core/errors';
import { writeFileAtomic } from '../../core/atomicWrite';
import type { Q4ComputeRan } from '../../shared/decoding';
import type { RunRow } from '../../shared/protocol';
import { runsCsv, type CsvContext } from '../../results/runsCsv';
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

/** What every row of the runs CSV shares, once the pair is open. */
export function csvContextOf(
  outcome: Pick<SweepOutcome, 'opts' | 'prompts' | 'config' | 'opened'>,
): CsvContext {
  const { opts, prompts, config, opened } = outcome;
  return {
    prompts,
    models: { target: opened.target.name, draft: opened.draft?.name ?? null },
    dtypes: { target: opts.dtype, draft: opened.pair.draft ? opts.dtype : null },
    sampling: config.sampling ?? null,
    repetition: config.repetition ?? null,
  };
}

/** "--csv FILE: why", and what the file holds now: its previous content, or nothing */
function failedWrite(flag: string, file: string, err: unknown): string {
  const kept = existsSync(file)
    ? `${file} keeps its previous content`
    : `nothing was written to ${file}`;
  return `${flag} ${file}: ${describeError(err)} (${kept})`;
}

/**
 * The CSVs rewritten as each run finishes, so a sweep stopped by any signal (SIGKILL and a
 * crash included) or a power cut leaves every finished row on disk. Each write is atomic: a
 * failed one (a full disk) leaves the file as the last good write left it; the sweep goes on,
 * and the final write says whether the file could be written in the end.
 */
export class LiveCsvOutputs {
  private readonly rows: RunRow[] = [];

  constructor(
    private readonly opts: SweepCliOptions,
    private readonly context: CsvContext,
  ) {}

  /** a finished run: both CSVs written again with it */
  add(row: RunRow): void {
    this.rows.push(row);
    // a failure here is retried with the next row and reported by the final write
    for (const [, file, text] of this.files()) {
      try {
        writeFileAtomic(resolve(file), text());
      } catch {
        // the file keeps its last good content; writeOutputFiles says so at the end
      }
    }
  }

  /** [flag, file, content] of each CSV asked for */
  private files(): Array<[string, string, () => string]> {
    const out: Array<[string, string, () => string]> = [];
    if (this.opts.csv) out.push(['--csv', this.opts.csv, () => runsCsv(this.rows, this.context)]);
    if (this.opts.summaryCsv)
      out.push(['--summary-csv', this.opts.summaryCsv, () => summaryCsv(this.rows)]);
    return out;
  }
}

/** a model's name in the report, with what its 4-bit products ran in where it has them */
function withQ4Compute(name: string, ran: Q4ComputeRan | null): string {
  const words = {
    int8: 'int8 activations',
    float: 'float32',
    mixed: 'partly int8 activations',
    exported: "the provider's own",
  } as const;
  return ran ? `${name} (4-bit products: ${words[ran]})` : name;
}

/**
 * Write the CSVs and the report that were asked for, each atomically (the report's paths go to
 * stderr); returns what could not be written, as "--csv FILE: why (what FILE holds)", for after
 * the results.
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
      failedWrites.push(failedWrite(flag, file, err));
    }
  };
  if (opts.csv) {
    const csvFile = opts.csv;
    attempt('--csv', csvFile, () =>
      writeFileAtomic(resolve(csvFile), runsCsv(rows, csvContextOf(outcome))),
    );
  }
  if (opts.summaryCsv) {
    const summaryFile = opts.summaryCsv;
    attempt('--summary-csv', summaryFile, () =>
      writeFileAtomic(resolve(summaryFile), summaryCsv(rows)),
    );
  }
  if (opts.report) {
    const reportFile = opts.report;
    attempt('--report', reportFile, () => {
      const written = writeAnalysisReport(reportFile, {
        rows,
        theory,
        prompts,
        models: {
          target: withQ4Compute(pair.target.folder.name, pair.target.lm.q4Compute),
          draft: pair.draft
            ? withQ4Compute(pair.draft.folder.name, pair.draft.lm.q4Compute)
            : 'none',
        },
        settings: {
          maxNewTokens: opts.maxNewTokens,
          ks: opts.k,
          repeats: opts.repeats,
          policies: opts.policy,
          drafters: opts.drafter,
          noKvCache: !opts.kvCache,
          sampling: config.sampling ?? null,
          ...(opts.acceptance ? { acceptance: opts.acceptance } : {}),
        },
        status: result.cancelled ? 'cancelled' : 'finished',
        costs: result.costs,
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
