/**
 * The Hub's layouts of the Llama, Qwen2 and Phi-3 families as onnx-community ships them (issue
 * 33), on tiny stand-ins (tools/build_standin.py --model NAME --tiny): every file's weights in
 * external data split into chunks, fp16 and q4f16 files with float16 KV caches, q4 files with
 * MatMulNBits. Each file loads and computes what PyTorch does (fp32) or close to it; a local Hub
 * serves each family's layout, the download fetches every data chunk, a dtype the repo lacks is
 * refused naming those it has, and a greedy sweep from the Hub is lossless.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpecDecError } from '../../src/core/errors';
import { resolveModels } from '../../src/core/hub/hub';
import { OnnxCausalLM } from '../../src/core/model/causalLm';
import { readModelFolder } from '../../src/core/model/modelFolder';
import { ROOT, SYSTEM_PYTHON, maxAbsDiff, specdec, torchMissingReason } from '../support/helpers';
import { startHubServer, type HubServer } from '../support/hubServer';

const LAYOUTS = join(ROOT, 'test', 'fixtures', 'hub-layouts');
const FAMILIES = join(ROOT, 'test', 'fixtures', 'families');
/** [stand-in, family, the family's tiny draft (same tokenizer) for the sweeps] */
const MODELS = [
  ['llama3.2-1b', 'llama'],
  ['qwen2.5-0.5b', 'qwen2'],
  ['phi3-mini-4k', 'phi3'],
] as const;
const FILES = {
  fp32: 'onnx/model.onnx',
  fp16: 'onnx/model_fp16.onnx',
  q4: 'onnx/model_q4.onnx',
  q4f16: 'onnx/model_q4f16.onnx',
} as const;

interface Reference {
  inputIds: number[];
  logits: number[][];
  prefix: number;
  cachedLogits: number[][];
  /** PyTorch's first pass with every Linear weight as its 4-bit blocks give it back */
  q4Logits: number[][];
}

let hub: HubServer;
beforeAll(async () => {
  hub = await startHubServer({
    ...Object.fromEntries(
      MODELS.map(([name]) => [`specdec/${name}`, join(LAYOUTS, `${name}-tiny`)]),
    ),
    // --pair llama3.2-1b/3b resolves to these repo ids: the tiny Llama 3.2 layout stands for the
    // target, the family's tiny draft (same tokenizer, its Hub layout written here) for the draft
    'onnx-community/Llama-3.2-3B-Instruct': join(LAYOUTS, 'llama3.2-1b-tiny'),
    'onnx-community/Llama-3.2-1B-Instruct': join(LAYOUTS, 'llama3.2-1b-tiny'),
  });
});
afterAll(async () => hub?.close());

const freshCache = (): string => mkdtempSync(join(tmpdir(), 'specdec-layouts-'));

describe.each(MODELS)('%s (%s) in the Hub layout', (name, family) => {
  const dir = join(LAYOUTS, `${name}-tiny`);
  const reference = JSON.parse(
    readFileSync(join(dir, 'reference-logits.json'), 'utf8'),
  ) as Reference;
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as {
    'transformers.js_config': {
      kv_cache_dtype: Record<string, string>;
      use_external_data_format: Record<string, number | boolean>;
    };
  };

  it('keeps every file’s weights in external data, fp32 split into chunks the config counts', () => {
    const onnx = readdirSync(join(dir, 'onnx'));
    const jsConfig = config['transformers.js_config'];
    for (const file of Object.values(FILES)) {
      const base = file.replace('onnx/', '');
      const chunks = onnx.filter((f) => f.startsWith(`${base}_data`)).length;
      expect(chunks, base).toBeGreaterThan(0);
      const declared = jsConfig.use_external_data_format[base];
      expect(declared === true ? 1 : declared, base).toBe(chunks);
    }
    expect(jsConfig.use_external_data_format['model.onnx']).toBeGreaterThan(1);
    expect(jsConfig.kv_cache_dtype).toEqual({ fp16: 'float16', q4f16: 'float16' });
  });

  it.each(Object.entries(FILES))(
    '%s loads, with the cache type the config declares, and computes what PyTorch does',
    async (dtype, file) => {
      const folder = readModelFolder(dir, file);
      expect(folder.config.modelType).toBe(family);
      // the file's own float32 products, which PyTorch's dequantized weights reproduce (int8
      // activations, the CPU default, are bounded against them in q4-compute.test.ts)
      const lm = await OnnxCausalLM.open(folder, { q4Compute: 'exported' });
      try {
        const expectedCache = config['transformers.js_config'].kv_cache_dtype[dtype] ?? 'float32';
        expect(lm.cacheType).toBe(expectedCache);
        const { inputIds, logits, prefix, cachedLogits, q4Logits } = reference;
        const first = await lm.forward(inputIds);
        lm.reset();
        await lm.forward(inputIds.slice(0, prefix));
        const cached = await lm.forward(inputIds.slice(prefix));
        if (dtype === 'fp32' || dtype === 'fp16') {
          // fp32: PyTorch's numbers (rotary scaling and all); fp16: the same, rounded
          const bound = dtype === 'fp32' ? 1e-4 : 0.5;
          expect(maxAbsDiff(first.data, logits.flat())).toBeLessThan(bound);
          expect(maxAbsDiff(cached.data, cachedLogits.flat())).toBeLessThan(bound);
        } else {
          // MatMulNBits computes with the weights PyTorch dequantized from the same blocks
          // (q4f16: float16 activations and scales on weights rounded to float16 first, up to 1.3
          // measured on these peaked random logits)
          const bound = dtype === 'q4' ? 1e-3 : 2;
          expect(maxAbsDiff(first.data, q4Logits.flat())).toBeLessThan(bound);
          // and the cache carries it: the cached pass equals the same rows of the first
          const rows = first.data.slice(prefix * first.vocab);
          expect(maxAbsDiff(cached.data, rows)).toBeLessThan(bound);
          // a 4-bit model is another model: it moves the logits away from the fp32 ones
          expect(maxAbsDiff(first.data, logits.flat())).toBeGreaterThan(1e-2);
        }
      } finally {
        await lm.release();
      }
    },
  );

  it('is fetched from a Hub with every data chunk of the dtype asked for', async () => {
    const cacheDir = freshCache();
    for (const dtype of ['fp32', 'q4f16'] as const) {
      const [resolved] = await resolveModels([{ source: `specdec/${name}`, dtype }], {
        cacheDir,
        hubHost: hub.url,
      });
      const onnx = readdirSync(join(resolved!.dir, 'onnx'));
      const base = FILES[dtype].replace('onnx/', '');
      const want = readdirSync(join(dir, 'onnx')).filter((f) => f.startsWith(`${base}_data`));
      expect(onnx.filter((f) => f.startsWith(`${base}_data`)).sort()).toEqual(want.sort());
      expect(resolved!.onnxFile).toBe(FILES[dtype]);
      // the folder as downloaded loads (onnxruntime finds each chunk beside the graph)
      expect(readModelFolder(resolved!.dir, resolved!.onnxFile!).config.modelType).toBe(family);
    }
    expect(existsSync(join(cacheDir, 'specdec', name, 'onnx', 'model_q4.onnx'))).toBe(false);
  });

  it('a dtype the repo does not have is refused, naming those it has', async () => {
    const err = await resolveModels([{ source: `specdec/${name}`, dtype: 'int8' }], {
      cacheDir: freshCache(),
      hubHost: hub.url,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpecDecError);
    expect((err as SpecDecError).message).toMatch(
      /has no int8 ONNX decoder .*It has fp32, fp16, q4, q4f16: pass --dtype fp32/,
    );
  });

  it.each(['q4f16', 'fp32'])(
    'a greedy sweep with the %s target from the Hub is lossless (the family’s tiny draft)',
    async (dtype) => {
      const r = await specdec([
        'sweep',
        '--target',
        `specdec/${name}`,
        '--draft',
        join(FAMILIES, `${family}-tiny-draft`),
        '--dtype',
        dtype,
        '--cache-dir',
        freshCache(),
        '--hub-host',
        hub.url,
        '--chat-template',
        'off',
        '--max-new-tokens',
        '20',
        '--k',
        '1,3,6',
        '--repeats',
        '1',
        '--warmup',
        '0',
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as {
        runs: Array<{ identical: boolean; k: number | null; newTokens: number }>;
      };
      expect(doc.runs.length).toBeGreaterThan(3);
      expect(doc.runs.every((run) => run.identical)).toBe(true);
      expect(doc.runs.every((run) => run.newTokens > 0)).toBe(true);
      expect(
        hub.requests.some(
          (u) =>
            u.startsWith('GET') &&
            u.includes(`/${FILES[dtype as 'fp32'].replace('onnx/', 'onnx/')}`),
        ),
      ).toBe(true);
    },
  );
});

describe('specdec sweep --pair with a family pair of the catalog', () => {
  it('llama3.2-1b/3b resolves to its repo ids, fetches the q4f16 layouts and runs losslessly', async () => {
    const r = await specdec([
      'sweep',
      '--pair',
      'llama3.2-1b/3b',
      '--dtype',
      'q4f16',
      '--cache-dir',
      freshCache(),
      '--hub-host',
      hub.url,
      '--chat-template',
      'off',
      '--max-new-tokens',
      '12',
      '--k',
      '2',
      '--repeats',
      '1',
      '--warmup',
      '0',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      config: { target: string; draft: string };
      runs: Array<{ identical: boolean }>;
    };
    expect(doc.config).toMatchObject({
      target: 'onnx-community/Llama-3.2-3B-Instruct',
      draft: 'onnx-community/Llama-3.2-1B-Instruct',
    });
    expect(doc.runs.every((run) => run.identical)).toBe(true);
    const bad = await specdec(['sweep', '--pair', 'llama3.2-1b/8b', '--offline']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/llama3\.2-1b\/3b/);
  });
});

/**
 * Meta's own statement of Llama 3.1's rule (`apply_scaling` in llama-models, a loop over the
 * frequencies, written independently of transformers' vectorised one the builder follows), run
 * against the builder's rotary embedding for Llama 3.2's head size and for the tiny fixture's.
 */
const META_APPLY_SCALING = `
import math, sys, json, torch
sys.path.insert(0, "tools")
from specdec_tools.llama import Rotary
from specdec_tools.hub_models import HUB_MODELS

def apply_scaling(freqs, s):
    low_wavelen = s["original_max_position_embeddings"] / s["low_freq_factor"]
    high_wavelen = s["original_max_position_embeddings"] / s["high_freq_factor"]
    out = []
    for freq in freqs.tolist():
        wavelen = 2 * math.pi / freq
        if wavelen < high_wavelen:
            out.append(freq)
        elif wavelen > low_wavelen:
            out.append(freq / s["factor"])
        else:
            smooth = (s["original_max_position_embeddings"] / wavelen - s["low_freq_factor"]) / (s["high_freq_factor"] - s["low_freq_factor"])
            out.append((1 - smooth) * freq / s["factor"] + smooth * freq)
    return torch.tensor(out)

spec = HUB_MODELS["llama3.2-1b"]
result = {}
for name, cfg in (("real", spec.config()), ("tiny", spec.tiny_config(557))):
    plain = Rotary(cfg.head_dim, cfg.rope_theta).inv_freq
    scaled = Rotary(cfg.head_dim, cfg.rope_theta, cfg.rope_scaling).inv_freq
    meta = apply_scaling(plain, cfg.rope_scaling)
    result[name] = {
        "maxRelDiff": float(((scaled - meta).abs() / meta).max()),
        "changed": int((scaled != plain).sum()),
        "count": int(plain.numel()),
    }
print(json.dumps(result))
`;

describe('Llama 3 rotary scaling in the stand-in builder', () => {
  it('rescales the frequencies as Meta’s apply_scaling does, and the tiny fixture’s are rescaled', (ctx) => {
    const missing = torchMissingReason();
    if (missing) ctx.skip(missing);
    const result = JSON.parse(
      execFileSync(SYSTEM_PYTHON, ['-c', META_APPLY_SCALING], { cwd: ROOT, encoding: 'utf8' }),
    ) as Record<'real' | 'tiny', { maxRelDiff: number; changed: number; count: number }>;
    for (const r of Object.values(result)) {
      expect(r.maxRelDiff).toBeLessThan(1e-6);
      expect(r.changed).toBeGreaterThan(0);
    }
    // Llama 3.2's 32 frequencies: the high ones kept, the low ones slowed, some interpolated
    expect(result.real.count).toBe(32);
    expect(result.real.changed).toBeLessThan(32);
  });

  it('the tool rebuilds the committed tiny layout byte for byte', (ctx) => {
    const missing = torchMissingReason();
    if (missing) ctx.skip(missing);
    const out = mkdtempSync(join(tmpdir(), 'specdec-layout-rebuild-'));
    try {
      execFileSync(
        SYSTEM_PYTHON,
        ['tools/build_standin.py', '--model', 'llama3.2-1b', '--tiny', '--out', out],
        { cwd: ROOT, stdio: 'ignore' },
      );
      const built = join(out, 'llama3.2-1b-tiny');
      const committed = join(LAYOUTS, 'llama3.2-1b-tiny');
      const files = readdirSync(committed, { recursive: true, encoding: 'utf8' }).filter((f) =>
        /\.(json|onnx|md)$|_data(_\d+)?$/.test(f),
      );
      expect(files.length).toBeGreaterThan(15);
      for (const f of files) {
        expect(readFileSync(join(built, f)).equals(readFileSync(join(committed, f))), f).toBe(true);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
