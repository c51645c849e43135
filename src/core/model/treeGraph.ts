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
import type { ModelFolder } from './modelFolder';
import { modelSessionOptions } from './modelSession';
import type { ZeroTreeBias } from './passFeeds';
import type { TreePass } from './passRunner';
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
  /** releases the model's current session, before the tree graph's opens */
  releaseSession: () => Promise<void>;
  /** opens the model's graph again and runs in it, where the tree graph is not used */
  reopenSession: () => Promise<void>;
  /** runs every later pass in the tree graph (a zero tree_bias of `zeroBias` without a tree) */
  switchTo: (session: ort.InferenceSession, zeroBias: ZeroTreeBias) => void;
}

/** A model's tree graph: whether it can have one, and whether every pass now runs in it. */
export class ModelTreeGraph {
  /** why the tree-mask graph does not build (null: it does), found on first asking */
  private why: string | null | undefined = undefined;
  private running = false;

  constructor(private readonly model: TreeGraphModel) {}

  /** why a token tree cannot be verified under its mask; null when it can */
  get note(): string | null {
    if (this.why === undefined) this.why = treeMaskNoteOf(this.model);
    return this.why;
  }

  /** whether the tree graph has taken the place of the session the model opened with */
  get active(): boolean {
    return this.running;
  }

  /**
   * Open, check and switch to the tree graph, once (openTreeGraph).
   *
   * Greedy losslessness compares like with like either way: a sweep with trees under the mask
   * calls this before its first run (sweep.ts), so its baseline, chains and trees all run the tree
   * graph; and a zero bias adds exact zeros to the scores, so the tree graph's logits are bit for
   * bit the opened graph's anyway (tree-graph-session.test.ts: fp32, q4, fp16, GPT-2 exported and
   * fused), and a tree opened lazily by forwardTree, after a baseline in the opened graph, compares
   * the same numbers.
   */
  async prepare(): Promise<void> {
    if (this.running || this.note !== null) return;
    const { session, zeroBias } = await openTreeGraph(this.model, (note) => {
      this.why = note;
    });
    this.model.switchTo(session, zeroBias);
    this.running = true;
  }
}

/** Why the model has no tree graph; null when it has one. */
export function treeMaskNoteOf(model: TreeGraphModel): string | null {
  if (model.executionProvider !== 'cpu' || model.onDevice)
    return `the ${model.executionProvider} provider${model.onDevice ? ' with the cache on the device' : ''} verifies trees as rows`;
  const architecture = architectureOf(model.folder.config.modelType);
  const problem = treeMaskProblem(model.folder, architecture, model.graph, model.cacheType);
  return problem && `its graph takes no tree mask: ${problem}`;
}

/**
 * The model's tree graph, opened and checked: a tree pass's node logits against the model's own
 * passes over each node's path, within TREE_MASK_TOLERANCE; refused (BAD_ARGUMENT, with the
 * difference, and `refused` told it) where they differ.
 *
 * The model's own passes run first, and its session is released before the tree graph's opens,
 * so the two copies of the weights are never held at once (the peak a tree run's memory reaches
 * is one model's, not two); where the tree graph fails to open or to agree, the model's graph is
 * opened again and the model goes on as it was.
 */
export async function openTreeGraph(
  model: TreeGraphModel,
  refused: (note: string) => void,
): Promise<{ session: ort.InferenceSession; zeroBias: ZeroTreeBias }> {
  const architecture = architectureOf(model.folder.config.modelType);
  const probe = treeMaskProbe(model.folder.config.vocabSize);
  const own: Float32Array[] = [];
  for (const { path } of probe.rows) own.push(await model.probe(path));
  // 4-bit products at the accuracy level the model's own session runs them at
  const q4Int8 = model.q4Compute === 'int8';
  const built = treeMaskGraph(model.folder, architecture, model.graph, model.cacheType, q4Int8);
  if ('reason' in built) throw new Error(`prepareTreeMask(): ${built.reason}`);
  await model.releaseSession();
  let session: ort.InferenceSession | null = null;
  try {
    try {
      session = await openTreeMaskSession(built, modelSessionOptions(model.threads, 'host'));
    } finally {
      built.dispose();
    }
    const tree = await model.treePass(probe.tokens, {
      session,
      positions: probe.positions,
      bias: probe.bias,
    });
    let diff = 0;
    let scale = 1;
    for (const [i, { row }] of probe.rows.entries()) {
      const expected = own[i]!;
      const got = tree.row(row);
      for (let v = 0; v < expected.length; v++) {
        diff = Math.max(diff, Math.abs(expected[v]! - got[v]!));
        scale = Math.max(scale, Math.abs(expected[v]!));
      }
    }
    if (!(diff <= TREE_MASK_TOLERANCE * scale)) {
      const note = `its tree graph's logits differ from the export's by ${diff.toPrecision(2)} (largest logit ${scale.toPrecision(3)})`;
      refused(note);
      throw new SpecDecError(
        'BAD_ARGUMENT',
        `The target cannot verify a tree in one pass under its mask: ${note}. Verify the tree as rows (--tree-verify rows).`,
      );
    }
    return { session, zeroBias: built.zeroBias };
  } catch (err) {
    await session?.release();
    await model.reopenSession();
    throw err;
  }
}
