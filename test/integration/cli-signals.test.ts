/**
 * `specdec sweep` stopped part-way (issue 32): SIGTERM and SIGHUP cancel as Ctrl+C does and keep
 * every finished run in --csv, SIGKILL keeps what was written as each run ended, and a write that
 * fails on a full disk leaves the previous file whole and says so.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { RUN_CSV_COLUMNS } from '../../src/results/runsCsv';
import { MICRO_A, MICRO_B, ROOT, TEST_DATA_HOME } from '../support/helpers';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `specdec <args>` from source in one process (no tsx wrapper), so a signal reaches the CLI */
function startCli(args: string[]): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args],
    {
      cwd: ROOT,
      env: { ...process.env, XDG_DATA_HOME: TEST_DATA_HOME },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exit = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, exit };
}

/** the rows of a runs CSV as written now ([] while it does not exist or is empty) */
function csvRows(file: string): Array<Record<string, string>> {
  if (!existsSync(file)) return [];
  return parse(readFileSync(file, 'utf8'), { columns: true }) as Array<Record<string, string>>;
}

/** wait until the runs CSV holds at least `n` rows (each write is whole: it always parses) */
async function rowsWritten(file: string, n: number, exit: Promise<Exit>): Promise<number> {
  let ended = false;
  void exit.then(() => (ended = true));
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline && !ended) {
    const rows = csvRows(file).length;
    if (rows >= n) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the sweep ${ended ? 'ended' : 'was still running'} before ${n} rows`);
}

/** a sweep of the embedded pair long enough (80 runs) to be stopped part-way */
const longSweep = (dir: string): string[] => [
  'sweep',
  '--max-new-tokens',
  '40',
  '--k',
  '1,2,4',
  '--repeats',
  '20',
  '--csv',
  join(dir, 'runs.csv'),
  '--summary-csv',
  join(dir, 'table.csv'),
  '--report',
  join(dir, 'report.md'),
];

describe('a sweep stopped by a signal keeps its finished runs', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)(
    '%s cancels like Ctrl+C: every finished row in --csv, the table and report written, exit %i',
    async (signal, status) => {
      const dir = mkdtempSync(join(tmpdir(), 'specdec-signal-'));
      const csv = join(dir, 'runs.csv');
      const { child, exit } = startCli(longSweep(dir));
      const before = await rowsWritten(csv, 3, exit);
      child.kill(signal);
      const r = await exit;
      expect(r.signal).toBeNull();
      expect(r.code).toBe(status);
      const rows = csvRows(csv);
      // nothing written before the signal is lost, and the sweep did not run to its end
      expect(rows.length).toBeGreaterThanOrEqual(before);
      expect(rows.length).toBeLessThan(80);
      expect(Object.keys(rows[0]!)).toEqual([...RUN_CSV_COLUMNS]);
      expect(rows.every((row) => row.timeS !== '' && row.newTokens === '40')).toBe(true);
      expect(r.stdout).toContain('Cancelled: the rows above are the runs that finished.');
      expect(csvRows(join(dir, 'table.csv')).length).toBeGreaterThan(0);
      expect(readFileSync(join(dir, 'report.md'), 'utf8')).toMatch(/cancel/i);
      // atomic writes leave no temporary file behind
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    },
  );

  it('SIGKILL, which nothing can catch, still leaves every row written as its run ended', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'specdec-signal-'));
    const csv = join(dir, 'runs.csv');
    const { child, exit } = startCli(longSweep(dir));
    const before = await rowsWritten(csv, 2, exit);
    child.kill('SIGKILL');
    expect((await exit).signal).toBe('SIGKILL');
    const rows = csvRows(csv);
    expect(rows.length).toBeGreaterThanOrEqual(before);
    expect(Object.keys(rows[0]!)).toEqual([...RUN_CSV_COLUMNS]);
  });
});

/** a 64 KiB tmpfs to fill (root only), or null where it cannot be mounted */
const tiny = ((): string | null => {
  const dir = mkdtempSync(join(tmpdir(), 'specdec-tiny-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
})();
afterAll(() => {
  if (tiny) execFileSync('umount', [tiny], { stdio: 'ignore' });
});

describe('a write that fails', () => {
  it.skipIf(tiny === null)(
    'on a full disk leaves the previous --csv and --summary-csv whole and says so (exit 2)',
    async () => {
      const dir = join(tiny!, 'out');
      mkdirSync(dir);
      const csv = join(dir, 'runs.csv');
      const table = join(dir, 'table.csv');
      const previous = 'runId,note\nold-1,"a previous sweep"\n';
      writeFileSync(csv, previous);
      writeFileSync(table, previous);
      // fill the file system: the sweep's temporary files can be created, never written
      const filler = Buffer.alloc(4096, 1);
      try {
        for (let i = 0; i < 64; i++) writeFileSync(join(tiny!, `fill-${i}`), filler);
      } catch {
        // ENOSPC: full
      }
      const { exit } = startCli([
        'sweep',
        '--target',
        MICRO_A,
        '--draft',
        MICRO_B,
        '--max-new-tokens',
        '8',
        '--k',
        '1,2',
        '--repeats',
        '2',
        '--csv',
        csv,
        '--summary-csv',
        table,
      ]);
      const r = await exit;
      expect(r.code).toBe(2);
      // the results are still printed, the failures after them
      expect(r.stdout).toContain('Best K');
      expect(r.stderr).toContain(`specdec: error: could not write --csv ${csv}: ` as string);
      expect(r.stderr).toMatch(/ENOSPC|no space/i);
      expect(r.stderr).toContain(`(${csv} keeps its previous content)`);
      expect(r.stderr).toContain(`(${table} keeps its previous content)`);
      expect(readFileSync(csv, 'utf8')).toBe(previous);
      expect(readFileSync(table, 'utf8')).toBe(previous);
      expect(readdirSync(dir).sort()).toEqual(['runs.csv', 'table.csv']);
    },
  );
});
