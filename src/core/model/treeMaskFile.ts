/**
 * The export read for its tree-mask rewrite without its weights: every field of the file but the
 * graph's initializers is read (nodes, inputs, opsets: a few MB at most), the initializers are
 * only located, and the rewritten graph is written to a temporary file with them copied across
 * from the export in chunks. A file with its weights inline (a GPT-2 medium of 1.6 GB, a q4 file
 * of 1.4 GB) is then never held in memory whole.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { rewriteAccuracyLevels, writeTemporaryGraph, type TemporaryGraph } from './matmulNBits';
import { BYTES, bytesField, concat, fieldAt, fields, varint } from './protoWire';
import { NotMaskable, withTreeBias } from './treeMaskGraph';

// onnx.proto field numbers
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const GRAPH_SPARSE_INITIALIZER = 15;

/** The export without its graph's initializers, and where those lie in the file. */
interface Skeleton {
  /** the model, its graph holding every field but the initializers */
  model: Uint8Array;
  /** the initializer fields' [start, end) in the file, in order */
  weights: Array<[number, number]>;
  /** the file's size */
  size: number;
}

function readRange(fd: number, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  for (let done = 0; done < out.length;)
    done += readSync(fd, out, done, out.length - done, start + done);
  return out;
}

/** the skeleton; NotMaskable where the file cannot be read as a model */
function readSkeleton(fd: number): Skeleton {
  try {
    return skeletonOf(fd);
  } catch (err) {
    throw new NotMaskable(`the file could not be read (${(err as Error).message})`);
  }
}

function skeletonOf(fd: number): Skeleton {
  const size = fstatSync(fd).size;
  const parts: Uint8Array[] = [];
  const weights: Array<[number, number]> = [];
  for (let pos = 0; pos < size;) {
    const top = fieldAt(fd, pos, size);
    pos = top.field.end;
    if (top.field.number !== MODEL_GRAPH || top.field.wire !== BYTES) {
      parts.push(readRange(fd, top.field.start, top.field.end));
      continue;
    }
    const graph: Uint8Array[] = [];
    for (let at = top.payloadStart; at < top.field.end;) {
      const { field } = fieldAt(fd, at, top.field.end);
      at = field.end;
      const isWeight =
        field.wire === BYTES &&
        (field.number === GRAPH_INITIALIZER || field.number === GRAPH_SPARSE_INITIALIZER);
      if (isWeight) weights.push([field.start, field.end]);
      else graph.push(readRange(fd, field.start, field.end));
    }
    parts.push(...bytesField(MODEL_GRAPH, concat(graph)));
  }
  return { model: concat(parts), weights, size };
}

/**
 * Throws NotMaskable (treeMaskGraph.ts) with the reason where the export's attention cannot take
 * a tree mask; reads the file without its weights.
 */
export function checkTreeMaskable(onnxPath: string, layers: number, elemType: number): void {
  const fd = openSync(onnxPath, 'r');
  try {
    withTreeBias(readSkeleton(fd).model, layers, elemType);
  } finally {
    closeSync(fd);
  }
}

/**
 * The export with a tree_bias input (treeMaskGraph.ts), its 4-bit products at int8 activations
 * where `setInt8` (as its own session opened it: matmulNBits.ts), written to a temporary file.
 */
export function writeTreeMaskFile(
  onnxPath: string,
  layers: number,
  elemType: number,
  setInt8: boolean,
): TemporaryGraph {
  const fd = openSync(onnxPath, 'r');
  try {
    const skeleton = readSkeleton(fd);
    const rewritten = rewriteAccuracyLevels(skeleton.model, setInt8).bytes;
    const model = concat(withTreeBias(rewritten, layers, elemType));
    const weightBytes = skeleton.weights.reduce((n, [start, end]) => n + end - start, 0);
    return writeTemporaryGraph(
      onnxPath,
      model.length + weightBytes,
      'with a tree mask',
      { words: 'verify trees as rows (--tree-verify rows)', setting: null },
      (out) => {
        const chunk = new Uint8Array(16 << 20);
        for (const f of fields(model)) {
          if (f.number !== MODEL_GRAPH || f.wire !== BYTES) {
            writeSync(out, model.subarray(f.start, f.end));
            continue;
          }
          // the graph's fields as rewritten, then its initializers from the export
          writeSync(out, varint(MODEL_GRAPH * 8 + BYTES));
          writeSync(out, varint(f.payload!.length + weightBytes));
          writeSync(out, f.payload!);
          for (const [start, end] of skeleton.weights)
            for (let pos = start; pos < end;) {
              const n = readSync(fd, chunk, 0, Math.min(chunk.length, end - pos), pos);
              writeSync(out, chunk, 0, n);
              pos += n;
            }
        }
      },
    );
  } finally {
    closeSync(fd);
  }
}
