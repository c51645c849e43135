/**
 * The model picker's words and checks: where a model comes from (the embedded pair, a local
 * folder, the Hugging Face Hub), the catalog's entries with their estimated sizes, which weight
 * types and execution providers can be chosen.
 */
import { catalogEntry, estimatedBytes, isRepoId, type CatalogModel } from '../../../shared/catalog';
import type { Dtype, ExecutionProviderChoice } from '../../../shared/decoding';
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
];

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

/** "125M" / "1.6B" parameters */
export function formatParams(params: number): string {
  return params >= 1e9 ? `${(params / 1e9).toFixed(1)}B` : `${Math.round(params / 1e6)}M`;
}

/** "355M params, 24 layers, about 1.42 GB (fp32)" */
export function catalogDetails(model: CatalogModel, dtype: Dtype): string {
  return `${formatParams(model.params)} params, ${model.layers} layers, about ${formatBytes(estimatedBytes(model, dtype))} (${dtype})`;
}

/** "gpt2-medium: 355M params, 24 layers, about 1.42 GB (fp32)" */
export function catalogLabel(model: CatalogModel, dtype: Dtype): string {
  return `${model.name}: ${catalogDetails(model, dtype)}`;
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
