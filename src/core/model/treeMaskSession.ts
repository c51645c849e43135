/**
 * The graph a token tree is verified in under its mask, for a model on the CPU provider with its
 * cache in host memory: the fused rebuild's `tree_bias` variant where the model runs the rebuild
 * (fusedGpt2.ts), and otherwise the export itself with the bias added before each attention's
 * Softmax (treeMaskGraph.ts), its 4-bit products at the accuracy level the model's own session
 * runs them at, so a tree's pass computes what a chain's would.
 */
import { readFileSync } from 'node:fs';
import type * as ort from 'onnxruntime-node';
import { dirname } from 'node:path';
import type { ModelGraph } from '../../shared/decoding';
import type { Architecture } from './architectures/architecture';
import { NotFusable } from './fusedGpt2';
import { createSession } from './executionProvider';
import type { CacheType } from './kvCache';
import type { ModelFolder } from './modelFolder';
import { FLOAT16, FLOAT32 } from './onnxGraph';
import type { ZeroTreeBias } from './passFeeds';
import { checkTreeMaskable, writeTreeMaskFile } from './treeMaskFile';
import { NotMaskable } from './treeMaskGraph';

const elemTypeOf = (cacheType: CacheType): number => (cacheType === 'float16' ? FLOAT16 : FLOAT32);

/** A graph with a tree_bias input, and the folder its external data is read from. */
export interface TreeMaskGraph {
  /** the graph's bytes, or a temporary file holding it */
  source: Uint8Array | string;
  externalDataDir: string;
  /** the tree_bias a pass without a tree is fed (passFeeds.ts) */
  zeroBias: ZeroTreeBias;
  /** removes a temporary file (once the session has read it) */
  dispose: () => void;
}

/**
 * The tree-mask graph of a model running `graph`; the reason instead when it has none (its trees
 * then verify as rows). The export's rewrite is written to a temporary file (treeMaskFile.ts:
 * its weights copied across, never read into memory whole) and opened by path: onnxruntime given
 * the graph as bytes held its external weights twice for a moment (a SmolLM2-360M tree sweep
 * peaked at 3.35 GB from bytes, 2.57 GB from a file, 2.41 GB for its chains alone).
 */
export function treeMaskGraph(
  folder: ModelFolder,
  architecture: Architecture,
  graph: ModelGraph,
  cacheType: CacheType,
  /** whether the model's own session runs its 4-bit products at int8 activations */
  q4Int8: boolean,
): TreeMaskGraph | { reason: string } {
  const externalDataDir = dirname(folder.onnxPath);
  try {
    if (graph === 'fused' && architecture.rebuild) {
      const bytes = architecture.rebuild(readFileSync(folder.onnxPath), folder.config, {
        treeBias: true,
      });
      return { source: bytes, externalDataDir, zeroBias: 'full', dispose: () => {} };
    }
    const { nLayer } = folder.config;
    const written = writeTreeMaskFile(folder.onnxPath, nLayer, elemTypeOf(cacheType), q4Int8);
    return { source: written.file, externalDataDir, zeroBias: 'scalar', dispose: written.dispose };
  } catch (err) {
    if (err instanceof NotMaskable || err instanceof NotFusable) return { reason: err.message };
    throw err;
  }
}

/**
 * Why a model running `graph` has no tree-mask graph; null when it has one. Reads the file as it
 * is, without its weights: a 4-bit rewrite changes no attention.
 */
export function treeMaskProblem(
  folder: ModelFolder,
  architecture: Architecture,
  graph: ModelGraph,
  cacheType: CacheType,
): string | null {
  if (graph === 'fused' && architecture.rebuild) return null;
  try {
    checkTreeMaskable(folder.onnxPath, folder.config.nLayer, elemTypeOf(cacheType));
    return null;
  } catch (err) {
    if (err instanceof NotMaskable) return err.message;
    throw err;
  }
}

/**
 * The tree-mask graph's CPU session under the model's own options; a graph opened from bytes
 * reads its external data (`model.onnx_data`...) from the export's folder.
 */
export function openTreeMaskSession(
  graph: TreeMaskGraph,
  options: ort.InferenceSession.SessionOptions,
): Promise<ort.InferenceSession> {
  const extra = (options.extra ?? {}) as Record<string, Record<string, unknown>>;
  return createSession(graph.source, 'cpu', {
    ...options,
    extra: {
      ...extra,
      session: {
        ...extra.session,
        model_external_initializers_file_folder_path: graph.externalDataDir,
      },
    },
  });
}

/**
 * How far a tree pass's node logits may be from the export's over each node's path alone,
 * relative to the largest logit: the fused rebuild's agreement bound (rebuiltGraph.ts). A graph
 * whose attention masks by position id rather than by index would miss it by the logits' size.
 */
export const TREE_MASK_TOLERANCE = 1e-3;

/** what a masked-out score gets added (maskVerifier.ts uses the same) */
const MASKED = -1e9;

/**
 * The load-time probe of a tree graph: a 3-token prompt, two siblings after it and a child of
 * the second; the tree pass's tokens, positions and bias from an empty cache, and each checked
 * row with the path the export is run over alone to compare it.
 */
export function treeMaskProbe(vocab: number): {
  tokens: number[];
  positions: number[];
  bias: Float32Array;
  rows: { row: number; path: number[] }[];
} {
  const tokens = [1, 2, 3, 4, 5, 6].map((t) => t % vocab);
  const positions = [0, 1, 2, 3, 3, 4];
  // row 3 (first sibling) and row 4 (second) see the prompt; row 5 (the child) also its parent
  const sees = (r: number, c: number): boolean => c <= r && !(r >= 4 && c === 3);
  const n = tokens.length;
  const bias = new Float32Array(n * n);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (!sees(r, c)) bias[r * n + c] = MASKED;
  const [a, b, c] = [tokens[3]!, tokens[4]!, tokens[5]!];
  const prompt = tokens.slice(0, 3);
  return {
    tokens,
    positions,
    bias,
    rows: [
      { row: 2, path: prompt },
      { row: 3, path: [...prompt, a] },
      { row: 4, path: [...prompt, b] },
      { row: 5, path: [...prompt, b, c] },
    ],
  };
}
