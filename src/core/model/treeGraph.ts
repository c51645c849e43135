/**
 * A model's tree graph as its one session: built and opened (treeMaskSession.ts), checked on a
 * small tree against the model's own passes, and then run for every pass, the tree's and the
 * chain's (a zero tree_bias), so the model holds one copy of its weights, not two.
 */
import type * as ort from 'onnxruntime-node';
import type { ModelGraph, Q4ComputeRan } from '../../shared/decoding';
import { SpecDecError } from '../errors';
import { architectureOf } from './architectures/registry';
import type { ExecutionProvider } from './executionProvider';
import type { CacheType } from './kvCache';
import type { Logits } from './logits';
import { prepareGraph } from './matmulNBits';
import type { ModelFolder } from './modelFolder';
import { modelSessionOptions } from './modelSession';
import type { ZeroTreeBias } from './passFeeds';
import type { TreePass } from './passRunner';
import { readFileSync } from 'node:fs';
import {
  openTreeMaskSession,
  TREE_MASK_TOLERANCE,
  treeMaskGraph,
  treeMaskProbe,
  treeMaskProblem,
} from './treeMaskSession';

/** What the tree graph is built from, and how it is checked. */
export interface TreeGraphModel {
  folder: ModelFolder;
  executionProvider: ExecutionProvider;
  /** whether the cache lives on the device */
  onDevice: boolean;
  graph: ModelGraph;
  cacheType: CacheType;
  threads: number;
  q4Compute: Q4ComputeRan | null;
  /** a tree pass from an empty cache in `tree.session`, leaving the model as it was */
  treePass: (tokens: readonly number[], tree: Required<TreePass>) => Promise<Logits>;
  /** the model's own logits after `path`, from a fresh pass in its current session */
  probe: (path: readonly number[]) => Promise<Float32Array>;
}

/** Why the model has no tree graph; null when it has one. */
export function treeMaskNoteOf(model: TreeGraphModel): string | null {
  if (model.executionProvider !== 'cpu' || model.onDevice)
    return `the ${model.executionProvider} provider${model.onDevice ? ' with the cache on the device' : ''} verifies trees as rows`;
  const architecture = architectureOf(model.folder.config.modelType);
  const problem = treeMaskProblem(model.folder, architecture, model.graph, model.cacheType);
  return problem && `its graph takes no tree mask: ${problem}`;
}

/** the export's bytes as its session opened them: 4-bit products at the same accuracy level */
function exportBytes(model: TreeGraphModel): Uint8Array {
  const path = model.folder.onnxPath;
  const q4 = model.q4Compute === 'int8' ? 'int8' : 'exported';
  return prepareGraph(path, true, q4).bytes ?? readFileSync(path);
}

/**
 * The model's tree graph, opened and checked: a tree pass's node logits against the model's own
 * passes over each node's path (in the session it runs now), within TREE_MASK_TOLERANCE;
 * refused (BAD_ARGUMENT, with the difference, and `refused` set to it) where they differ.
 */
export async function openTreeGraph(
  model: TreeGraphModel,
  refused: (note: string) => void,
): Promise<{ session: ort.InferenceSession; zeroBias: ZeroTreeBias }> {
  const architecture = architectureOf(model.folder.config.modelType);
  const built = treeMaskGraph(model.folder, architecture, model.graph, model.cacheType, () =>
    exportBytes(model),
  );
  if ('reason' in built) throw new Error(`prepareTreeMask(): ${built.reason}`);
  let session: ort.InferenceSession;
  try {
    session = await openTreeMaskSession(built, modelSessionOptions(model.threads, 'host'));
  } finally {
    built.dispose();
  }
  const { diff, scale } = await treeAgreement(model, session).catch(async (err: unknown) => {
    await session.release();
    throw err;
  });
  if (!(diff <= TREE_MASK_TOLERANCE * scale)) {
    await session.release();
    const note = `its tree graph's logits differ from the export's by ${diff.toPrecision(2)} (largest logit ${scale.toPrecision(3)})`;
    refused(note);
    throw new SpecDecError(
      'BAD_ARGUMENT',
      `The target cannot verify a tree in one pass under its mask: ${note}. Verify the tree as rows (--tree-verify rows).`,
    );
  }
  return { session, zeroBias: built.zeroBias };
}

/**
 * A tree pass in `session` against the model's own passes over each node's path alone
 * (treeMaskProbe): the largest logit difference and the largest logit (at least 1).
 */
async function treeAgreement(
  model: TreeGraphModel,
  session: ort.InferenceSession,
): Promise<{ diff: number; scale: number }> {
  const probe = treeMaskProbe(model.folder.config.vocabSize);
  const tree = await model.treePass(probe.tokens, {
    session,
    positions: probe.positions,
    bias: probe.bias,
  });
  let diff = 0;
  let scale = 1;
  for (const { row, path } of probe.rows) {
    const own = await model.probe(path);
    const got = tree.row(row);
    for (let i = 0; i < own.length; i++) {
      diff = Math.max(diff, Math.abs(own[i]! - got[i]!));
      scale = Math.max(scale, Math.abs(own[i]!));
    }
  }
  return { diff, scale };
}
