/**
 * Model folders that lie or trap (issue 32): a config.json claiming more than its ONNX file holds
 * is refused before anything is sized from it, special files (FIFOs, devices) and huge files are
 * refused before a read can hang or fill memory, and a failing pass never shows onnxruntime's raw
 * words. Every case is bounded in time; the reads that would block run in a child process.
 */
import { execFile, execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SpecDecError } from '../../src/core/errors';
import { openPair } from '../../src/core/hub/openPair';
import { OnnxCausalLM } from '../../src/core/model/causalLm';
import { readModelFolder } from '../../src/core/model/modelFolder';
import { readOnnxLayout } from '../../src/core/model/onnxLayout';
import { loadPair, releasePair } from '../../src/core/model/pair';
import {
  MICRO_A,
  MICRO_B,
  ROOT,
  SYSTEM_PYTHON,
  TEST_DATA_HOME,
  copyFolder,
} from '../support/helpers';
import { startHubServer } from '../support/hubServer';

/** a copy of micro-a whose config.json has `change` applied */
function withConfig(change: Record<string, unknown>): string {
  const dir = copyFolder(MICRO_A);
  const path = join(dir, 'config.json');
  const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  writeFileSync(path, JSON.stringify({ ...config, ...change }));
  return dir;
}

/** what loading `dir` as the target (micro-b the draft) throws, and the memory it took */
async function refusal(dir: string): Promise<{ error: SpecDecError; rssGrowthMb: number }> {
  const before = process.memoryUsage().rss;
  let error: unknown = null;
  try {
    await releasePair(await loadPair(dir, MICRO_B));
  } catch (err) {
    error = err;
  }
  const rssGrowthMb = (process.memoryUsage().rss - before) / 2 ** 20;
  expect(error).toBeInstanceOf(SpecDecError);
  return { error: error as SpecDecError, rssGrowthMb };
}

describe('a config.json that lies about the model’s size', () => {
  it.each([
    [
      'n_positions 1e9 (8 GB of attention mask before any check)',
      { n_positions: 1e9 },
      /config\.json says n_positions 1000000000 but the position table wpe\.weight in onnx\/model\.onnx has 64 rows: fix config\.json or re-export the model\.$/,
    ],
    [
      'n_layer 1e8 (3-4 GB of cache slots before any check)',
      { n_layer: 1e8 },
      /config\.json says n_layer 100000000 but onnx\/model\.onnx has 2 \(its cache inputs past_key_values\.0\.key to past_key_values\.1\.key\): fix config\.json/,
    ],
    [
      'n_positions 1e7 (ran to token 512, then onnxruntime’s raw Gather error)',
      { n_positions: 1e7 },
      /says n_positions 10000000 but the position table wpe\.weight in onnx\/model\.onnx has 64 rows/,
    ],
    [
      'vocab_size larger than the token table',
      { vocab_size: 600 },
      /says vocab_size 600 but the token table wte\.weight in onnx\/model\.onnx has 557 rows/,
    ],
    [
      'n_head other than the cache’s heads',
      { n_head: 4 },
      /says n_head 4 but the cache input past_key_values\.0\.key of onnx\/model\.onnx is \[batch_size, 2, past_sequence_length, 16\]: 2 heads/,
    ],
    [
      'n_embd other than the token table’s width',
      { n_embd: 64 },
      /says n_embd 64 but the token table wte\.weight in onnx\/model\.onnx has 32 columns/,
    ],
  ])(
    'is refused at load, naming both values: %s',
    async (_name, change, message) => {
      const started = performance.now();
      const { error, rssGrowthMb } = await refusal(withConfig(change));
      expect(error.code).toBe('MODEL_FOLDER_INVALID');
      expect(error.message).toMatch(message);
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(rssGrowthMb).toBeLessThan(200);
    },
    20_000,
  );

  it('is refused the same way through a Hub repo id', async () => {
    const hub = await startHubServer({ 'specdec/lying': withConfig({ n_layer: 1e8 }) });
    try {
      const before = process.memoryUsage().rss;
      const err = await openPair({ source: 'specdec/lying', dtype: 'fp32', ep: 'cpu' }, null, {
        cacheDir: mkdtempSync(join(tmpdir(), 'specdec-cache-')),
        hubHost: hub.url,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SpecDecError);
      expect((err as SpecDecError).message).toMatch(
        /says n_layer 100000000 but onnx\/model\.onnx has 2/,
      );
      expect((process.memoryUsage().rss - before) / 2 ** 20).toBeLessThan(200);
    } finally {
      await hub.close();
    }
  }, 20_000);

  it('a context shorter than the position table still loads, and holds what the config says', async () => {
    const pair = await loadPair(withConfig({ n_positions: 32 }), MICRO_B);
    try {
      expect(pair.nPositions).toBe(32);
    } finally {
      await releasePair(pair);
    }
  }, 20_000);

  it('the ONNX file’s sizes are read from its structure, the merged decoder’s too', () => {
    const micro = readOnnxLayout(join(MICRO_A, 'onnx', 'model.onnx'));
    expect(micro.tokenTable).toEqual({ name: 'wte.weight', dims: [557, 32] });
    expect(micro.positionTable).toEqual({ name: 'wpe.weight', dims: [64, 32] });
    expect(micro.inputs.find((i) => i.name === 'past_key_values.1.value')?.dims).toEqual([
      'batch_size',
      2,
      'past_sequence_length',
      16,
    ]);
    const merged = join(
      ROOT,
      'test/fixtures/standins/gpt2-tiny/onnx/decoder_model_merged_quantized.onnx',
    );
    // its tables are the outer graph's, gathered inside the If's branches
    expect(readOnnxLayout(merged).positionTable).toEqual({
      name: 'with_past/wpe.weight',
      dims: [128, 32],
    });
  });
});

describe('onnxruntime’s raw errors never reach a user', () => {
  it('a pass that fails in onnxruntime says which model and what to do', async () => {
    const lm = await OnnxCausalLM.open(readModelFolder(MICRO_A));
    try {
      // a token id past the vocabulary: onnxruntime's Gather refuses it
      const err = await lm.forward([5000]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SpecDecError);
      expect((err as SpecDecError).code).toBe('ONNX_INVALID');
      expect((err as SpecDecError).message).toMatch(
        new RegExp(
          `^A pass of ${MICRO_A.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} failed in onnxruntime \\(.*\\)\\. Its config\\.json may not describe its ONNX file`,
        ),
      );
    } finally {
      await lm.release();
    }
  }, 20_000);
});

const fifoMissing = process.platform === 'win32' ? 'no FIFOs on Windows' : null;

/** `specdec sweep` on `target` (micro-b the draft), killed after 20 s if it hangs */
async function sweepOn(target: string): Promise<{ code: number | string; stderr: string }> {
  const args = [join(ROOT, 'src', 'cli', 'main.ts'), 'sweep', '--target', target];
  args.push('--draft', MICRO_B, '--max-new-tokens', '4', '--k', '1');
  try {
    await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'tsx'), args, {
      cwd: ROOT,
      env: { ...process.env, XDG_DATA_HOME: TEST_DATA_HOME },
      timeout: 20_000,
      killSignal: 'SIGKILL',
    });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code: number | null; signal: string | null; stderr: string };
    return { code: e.code ?? e.signal ?? 'killed', stderr: e.stderr };
  }
}

/** a copy of micro-a whose `file` is replaced by what `make` puts at its path */
function withFile(file: string, make: (path: string) => void): string {
  const dir = copyFolder(MICRO_A);
  const path = join(dir, file);
  rmSync(path);
  make(path);
  return dir;
}

function fifo(path: string): void {
  execFileSync('mkfifo', [path]);
}

describe.skipIf(fifoMissing)('special and huge files in a model folder', () => {
  it.each([
    ['onnx/model.onnx', 'a FIFO', fifo],
    ['tokenizer.json', 'a FIFO', fifo],
    ['config.json', 'a FIFO', fifo],
    ['tokenizer_config.json', 'a FIFO', fifo],
    ['tokenizer.json', 'a character device', (p: string) => symlinkSync('/dev/zero', p)],
    ['onnx/model.onnx', 'a directory', (p: string) => mkdirSync(p)],
  ])(
    '%s as %s: the CLI exits 2 at once, saying so',
    async (file, kind, make) => {
      const started = performance.now();
      const r = await sweepOn(withFile(file, make));
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${file} in `);
      expect(r.stderr).toContain(
        `is not a regular file (${kind}): the engine reads model files only`,
      );
      expect(performance.now() - started).toBeLessThan(20_000);
    },
    30_000,
  );

  it.each([
    ['config.json', 5, 4],
    ['tokenizer.json', 65, 64],
    ['tokenizer_config.json', 17, 16],
  ])(
    'a %s of %d MB is refused before it is read (the bound: %d MB)',
    async (file, mb, bound) => {
      // a sparse file: huge to read, free to make
      const dir = withFile(file, (p) => writeFileSync(p, ''));
      truncateSync(join(dir, file), mb * 2 ** 20);
      const { error, rssGrowthMb } = await refusal(dir);
      expect(error.code).toBe('MODEL_FOLDER_INVALID');
      expect(error.message).toMatch(
        new RegExp(`^${file.replace('.', '\\.')} in .* is ${mb}\\.0 MB, over the ${bound} MB`),
      );
      expect(rssGrowthMb).toBeLessThan(100);
    },
    20_000,
  );
});

describe('an ONNX file that is not one', () => {
  it('1 GB of zeros is refused at its first byte: the layout reader does not walk it', async () => {
    const dir = copyFolder(MICRO_A);
    const onnx = join(dir, 'onnx', 'model.onnx');
    writeFileSync(onnx, '');
    truncateSync(onnx, 2 ** 30); // sparse: free to make
    const started = performance.now();
    const { error, rssGrowthMb } = await refusal(dir);
    expect(error.code).toBe('ONNX_INVALID');
    expect(error.message).toMatch(
      /^Could not load .*model\.onnx: no protobuf field at byte 0 \(not an ONNX model\)\. The file may be truncated or corrupt/,
    );
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(rssGrowthMb).toBeLessThan(100);
  }, 20_000);
});

/** null when the system Python can write ONNX files, else why not */
function onnxMissing(): string | null {
  try {
    execFileSync(SYSTEM_PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' });
    return null;
  } catch {
    return `onnx not importable by ${SYSTEM_PYTHON}`;
  }
}

describe.skipIf(onnxMissing())('weights in external data (optimum’s model.onnx_data)', () => {
  /** micro-a with its weights moved to onnx/model.onnx_data */
  function externalCopy(): string {
    const dir = copyFolder(MICRO_A);
    const onnx = join(dir, 'onnx', 'model.onnx');
    const script = `import onnx; m = onnx.load(${JSON.stringify(onnx)}); onnx.save_model(m, ${JSON.stringify(onnx)}, save_as_external_data=True, all_tensors_to_one_file=True, location='model.onnx_data', size_threshold=0)`;
    execFileSync(SYSTEM_PYTHON, ['-c', script]);
    return dir;
  }

  it('still load, their file named in the layout', async () => {
    const dir = externalCopy();
    expect(readOnnxLayout(join(dir, 'onnx', 'model.onnx')).externalFiles).toEqual([
      'model.onnx_data',
    ]);
    const pair = await loadPair(dir, MICRO_B);
    try {
      expect((await pair.target.lm.forward([1, 2, 3])).rows).toBe(3);
    } finally {
      await releasePair(pair);
    }
  }, 20_000);

  it('a FIFO as the external data file is refused before onnxruntime opens it', async () => {
    const dir = externalCopy();
    const data = join(dir, 'onnx', 'model.onnx_data');
    rmSync(data);
    fifo(data);
    const { error } = await refusal(dir);
    expect(error.message).toMatch(/^onnx\/model\.onnx_data in .* is not a regular file \(a FIFO\)/);
  }, 20_000);
});
