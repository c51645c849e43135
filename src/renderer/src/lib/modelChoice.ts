/**
 * The model picker's words and checks: where a model comes from (the embedded pair, a local
 * folder, the Hugging Face Hub), the catalog's entries with their estimated sizes, which weight
 * types and execution providers can be chosen.
 */
import {
  catalogEntry,
  estimatedBytes,
  expectedCostRatio,
  isRepoId,
  type CatalogModel,
} from '../../../shared/catalog';
import { bestPredictedK, expectedSpeedup } from '../../../results/theory';
import type { Dtype, ExecutionProviderChoice, Q4Compute } from '../../../shared/decoding';
import { formatBytes } from './downloadFormat';

export type SourceKind = 'embedded' | 'folder' | 'hub';

export const SOURCE_KINDS: ReadonlyArray<{ kind: SourceKind; label: string }> = [
  { kind: 'embedded', label: 'Embedded (offline)' },
  { kind: 'folder', label: 'Local folder' },
  { kind: 'hub', label: 'Hugging Face Hub' },
];

export const DTYPE_OPTIONS: ReadonlyArray<{
  dtype: Dtype;
  label: string;
  /** what the choice means for size and speed */
  hint: string;
}> = [
  { dtype: 'fp32', label: 'fp32', hint: '4 bytes a weight: the reference' },
  {
    dtype: 'q8',
    label: 'q8 (8-bit)',
    hint: 'dynamic int8 matrix products: a quarter of the size, faster on a CPU, logits close to fp32',
  },
  {
    dtype: 'fp16',
    label: 'fp16 (16-bit)',
    hint: 'half the size; fast on a GPU, slower than fp32 on most CPUs; greedy text can differ from fp32 at near-ties',
  },
  {
    dtype: 'int8',
    label: 'int8 (8-bit)',
    hint: 'signed 8-bit weights (onnxruntime’s dynamic quantization, QInt8): a quarter of the size, logits close to fp32',
  },
  {
    dtype: 'uint8',
    label: 'uint8 (8-bit)',
    hint: 'unsigned 8-bit weights (QUInt8): a quarter of the size, logits close to fp32',
  },
  {
    dtype: 'q4',
    label: 'q4 (4-bit)',
    hint: '4-bit matrix weights in blocks of 32 (MatMulNBits), float32 elsewhere: the layers take a sixth of fp32’s bytes; a pass of several tokens costs relatively more than in fp32',
  },
  {
    dtype: 'q4f16',
    label: 'q4f16 (4-bit, fp16)',
    hint: '4-bit matrix weights, float16 elsewhere and in the KV cache: the smallest file, for a GPU',
  },
  {
    dtype: 'bnb4',
    label: 'bnb4 (4-bit)',
    hint: 'bitsandbytes-style 4-bit weights in blocks of 64 (MatMulBnb4), float32 elsewhere',
  },
];

/**
 * The weight types a Hub model can be fetched in, for its picker: a catalog model's with their
 * estimated sizes, the others it lacks marked unavailable; a repo outside the catalog, every one
 * (the Hub says at download which it has).
 */
export function dtypeChoices(
  entry: CatalogModel | null,
): Array<{ dtype: Dtype; label: string; hint: string; available: boolean }> {
  return DTYPE_OPTIONS.map((o) => {
    if (!entry) return { ...o, available: true };
    const available = entry.dtypes.includes(o.dtype);
    return {
      ...o,
      label: available
        ? `${o.label} · ${formatBytes(estimatedBytes(entry, o.dtype))}`
        : `${o.label} (not in ${entry.repos[0]})`,
      available,
    };
  });
}

/** why a catalog model cannot be fetched in this weight type, or null */
export function dtypeProblem(entry: CatalogModel | null, dtype: Dtype): string | null {
  if (!entry || entry.dtypes.includes(dtype)) return null;
  return `${entry.repos[0]} has no ${dtype} file; it has ${entry.dtypes.join(', ')}: choose one of those under Weights.`;
}

export const EP_OPTIONS: ReadonlyArray<{ ep: ExecutionProviderChoice; hint: string }> = [
  {
    ep: 'auto',
    hint: 'The fastest on this machine, measured on the model once (CUDA, DirectML, CoreML, WebGPU or CPU)',
  },
  { ep: 'cpu', hint: 'Everywhere' },
  { ep: 'cuda', hint: 'Linux x64 with an NVIDIA GPU, CUDA 12 and cuDNN 9' },
  { ep: 'dml', hint: 'Windows with DirectX 12' },
  { ep: 'coreml', hint: 'macOS 10.15 or newer' },
  { ep: 'webgpu', hint: 'Linux with Vulkan drivers and a GPU (not benchmarked)' },
];

/** the 4-bit products' compute modes (the CLI's --q4-compute), in the picker's words */
export const Q4_COMPUTE_OPTIONS: ReadonlyArray<{
  q4Compute: Q4Compute;
  label: string;
  hint: string;
}> = [
  {
    q4Compute: 'int8',
    label: 'int8 activations',
    hint: 'Each block of 32 activations rounded to 8 bits, integer products (accuracy_level 4, as onnxruntime-genai and llama.cpp’s Q4_0 do): about twice as fast as float32 on a real-size model; the logits move slightly, so greedy text can part from float32’s at near-ties',
  },
  {
    q4Compute: 'exported',
    label: 'as exported',
    hint: 'The file’s own level: the Hub’s q4 files set none, so each weight block is dequantized and multiplied in float32',
  },
];

/** the weight types whose files have 4-bit MatMulNBits products */
const MATMUL_NBITS_DTYPES: readonly Dtype[] = ['q4', 'q4f16'];

/**
 * Why the 4-bit products' compute mode does not apply to this model, naming the control to change,
 * or null where it does: a q4/q4f16 Hub file, or a local folder (whose file may be 4-bit), on a
 * provider that can be the CPU (other providers read the file's own levels).
 */
export function q4ComputeProblem(
  kind: SourceKind,
  dtype: Dtype,
  ep: ExecutionProviderChoice,
): string | null {
  if (kind === 'embedded') return 'The embedded models are fp32: they have no 4-bit products.';
  if (kind === 'hub' && !MATMUL_NBITS_DTYPES.includes(dtype))
    return `${dtype} weights have no 4-bit products: choose q4 or q4f16 under Weights.`;
  if (ep !== 'cpu' && ep !== 'auto')
    return `On ${ep} the provider computes 4-bit products as the file sets them: choose cpu or auto under Provider.`;
  return null;
}

/** "125M" / "1.6B" parameters */
export function formatParams(params: number): string {
  return params >= 1e9 ? `${(params / 1e9).toFixed(1)}B` : `${Math.round(params / 1e6)}M`;
}

/** "355M params, 24 layers, about 1.42 GB (fp32)"; "..., no q4 file" where its repo has none */
export function catalogDetails(model: CatalogModel, dtype: Dtype): string {
  const size = model.dtypes.includes(dtype)
    ? `about ${formatBytes(estimatedBytes(model, dtype))} (${dtype})`
    : `no ${dtype} file`;
  return `${formatParams(model.params)} params, ${model.layers} layers, ${size}`;
}

/** "gpt2-medium: 355M params, 24 layers, about 1.42 GB (fp32)" */
export function catalogLabel(model: CatalogModel, dtype: Dtype): string {
  return `${model.name}: ${catalogDetails(model, dtype)}`;
}

/**
 * What to expect of a catalog pair before downloading it: the cost ratio c from the models'
 * sizes (a CPU pass reads every weight) and the best speedup Leviathan's formula gives for a
 * plausible acceptance of 0.6 to 0.8. Null unless both are catalog models.
 */
export function pairOutlook(
  draft: CatalogModel | null,
  target: CatalogModel | null,
): { c: number; text: string } | null {
  if (!draft || !target || draft === target) return null;
  const c = expectedCostRatio(draft, target);
  if (c >= 1)
    return {
      c,
      text: `The draft ${draft.name} is not smaller than the target ${target.name} (c about ${c.toFixed(2)}): speculative decoding can only lose time.`,
    };
  const best = (a: number): string => {
    const k = bestPredictedK(a, c);
    return `${expectedSpeedup(a, c, k).toFixed(2)}x at K=${k}`;
  };
  const low = expectedSpeedup(0.6, c, bestPredictedK(0.6, c));
  const verdict = low < 1.2 ? 'a small win' : low < 1.6 ? 'a fair win' : 'a large win';
  return {
    c,
    text: `Expected cost ratio c about ${c.toFixed(2)} (${draft.name} / ${target.name}, from their sizes): with acceptance 0.6 to 0.8 the best predicted speedup is ${best(0.6)} to ${best(0.8)}, ${verdict} on a CPU, where a pass costs what reading its weights costs.`,
  };
}

/** The catalog model a typed name or repo id stands for, if any. */
export function catalogMatch(text: string): CatalogModel | null {
  return catalogEntry(text.trim());
}

/**
 * What is wrong with a model's source as typed, in plain words, or null when it can be sent.
 * A Hub model is a catalog name (gpt2-medium) or a repo id (owner/name).
 */
export function checkModelSource(kind: SourceKind, text: string): string | null {
  const value = text.trim();
  if (kind === 'embedded') return null;
  if (kind === 'folder') {
    return value === '' ? 'Choose a model folder, or use the embedded model.' : null;
  }
  if (value === '') {
    return 'Type a Hub repo id (owner/name, for example Xenova/gpt2) or pick a model from the catalog.';
  }
  if (catalogEntry(value) || isRepoId(value)) return null;
  return `"${value}" is not a Hub repo id. Use owner/name (letters, digits, '-', '_', '.'), for example Xenova/gpt2, or a catalog name like gpt2-medium.`;
}
