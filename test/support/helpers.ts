import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { RunRow } from '../../src/shared/protocol';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'models');
export const MICRO_A = join(FIXTURES, 'micro-a');
export const MICRO_B = join(FIXTURES, 'micro-b');
export const PAIR_TARGET = join(ROOT, 'resources', 'models', 'brown-pair', 'target');
export const PAIR_DRAFT = join(ROOT, 'resources', 'models', 'brown-pair', 'draft');
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** null when Debian's PyTorch is usable, else why not */
export function torchMissingReason(): string | null {
  try {
    execFileSync(SYSTEM_PYTHON, ['-c', 'import torch, onnx'], { stdio: 'ignore' });
    return null;
  } catch {
    return `PyTorch/onnx not importable by ${SYSTEM_PYTHON} (apt-get install python3-torch python3-onnx libopenblas0-pthread)`;
  }
}

/** a writable copy of a model folder */
export function copyFolder(dir: string): string {
  const dst = join(mkdtempSync(join(tmpdir(), 'specdec-')), 'model');
  cpSync(dir, dst, { recursive: true });
  return dst;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** a finished speculative run with plausible counts; override what a test is about */
export function runRow(p: Partial<RunRow> = {}): RunRow {
  return {
    runId: 'r',
    mode: 'speculative',
    k: 1,
    repeat: 0,
    promptIndex: 0,
    timeS: 1,
    newTokens: 10,
    targetPasses: 5,
    draftPasses: 9,
    verificationSteps: 4,
    draftedTokens: 9,
    acceptedTokens: 6,
    corrections: 1,
    bonuses: 1,
    acceptanceRate: 0.6,
    tokensPerTargetPass: 2,
    speedup: 2,
    identical: true,
    stopReason: 'max-new-tokens',
    targetRunS: 0,
    draftRunS: 0,
    outputText: 'x',
    outputTokenIds: [1, 2],
    ...p,
  };
}

/**
 * The data folder the CLI runs in during tests (the provider probe's cache and log): one per test
 * process, so the probe runs once per file and never touches the user's own folder.
 */
export const TEST_DATA_HOME = mkdtempSync(join(tmpdir(), 'specdec-data-'));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `specdec <args>` from source, as a user runs it; never throws for a non-zero exit. */
export async function specdec(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      join(ROOT, 'node_modules', '.bin', 'tsx'),
      [join(ROOT, 'src', 'cli', 'main.ts'), ...args],
      {
        cwd: ROOT,
        env: { ...process.env, XDG_DATA_HOME: TEST_DATA_HOME, ...env },
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as CliResult;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
