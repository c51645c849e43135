/**
 * A stock export given a token tree's mask: the file's own graph, byte for byte, with a
 * `tree_bias` input added to every attention's scores just before their Softmax. It is how an
 * export that has no fused rebuild (the llama family; a GPT-2 too large for fusedGpt2.ts)
 * verifies a tree in one pass.
 *
 * An exporter (torch.onnx, optimum, transformers.js) writes attention as
 * Softmax(scores [batch, heads, sequence, total]) with the causal mask already applied to the
 * scores by flattened index (past + row), not by position id; adding the tree's bias there
 * (each node attending to its ancestors only) is the whole change. Everything else, rotary
 * embeddings, 4-bit MatMulNBits, float16, weights in external data files, is the export's own,
 * untouched: the graph is rewritten at the protobuf wire level, only the Softmax nodes' first
 * input changes and an Add (and for float16 scores a Cast of the bias) is inserted before each, so nothing this
 * code does not know about is lost. The weights are never decoded: a file with external data
 * stays small, and the session finds the data files next to the export (`externalDataDir`).
 *
 * Exports whose attention is one of onnxruntime's fused operators (GroupQueryAttention,
 * MultiHeadAttention, Attention), whose activations are quantized with a scale over the whole
 * pass (the Hub's int8/uint8 files: DynamicQuantizeLinear), or whose Softmax count is not one per
 * layer, are not rewritten (NotMaskable, with the reason); trees then verify as rows.
 */
import { encodeNode, encodeValueInfo, FLOAT32 } from './onnxGraph';
import {
  BYTES as LENGTH_DELIMITED,
  fields as wireFields,
  text as wireText,
  varint,
} from './protoWire';

/** Why an export does not take a tree mask: its trees verify as rows. */
export class NotMaskable extends Error {}

/** the name of the input a rewritten graph gains */
export const TREE_BIAS = 'tree_bias';

/** fused attention operators: no Softmax in the graph to add a bias before */
const FUSED_ATTENTION = new Set([
  'Attention',
  'MultiHeadAttention',
  'GroupQueryAttention',
  'PackedAttention',
  'PackedMultiHeadAttention',
  'SparseAttention',
]);

/**
 * operators that quantize activations with a scale taken over the whole pass: a node's logits
 * would then depend on the other nodes beside it, which no mask removes
 */
const DYNAMIC_QUANTIZATION = new Set([
  'DynamicQuantizeLinear',
  'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat',
]);

/** field numbers of onnx.proto used here */
const MODEL_GRAPH = 7;
const MODEL_OPSET = 8;
const OPSET_DOMAIN = 1;
const OPSET_VERSION = 2;
const GRAPH_NODE = 1;
const GRAPH_INPUT = 11;
const NODE_INPUT = 1;
const NODE_OUTPUT = 2;
const NODE_OP_TYPE = 4;
const NODE_ATTRIBUTE = 5;
const ATTR_NAME = 1;
const ATTR_INT = 3;
const ATTR_GRAPH = 6;

/** Softmax's axis defaults to the last from opset 13 (before: 1, over a flattened tail) */
const SOFTMAX_LAST_AXIS_OPSET = 13;
const CAST = 'Cast';
const ATTR_TO = 'to';

interface Field {
  number: number;
  wire: number;
  /** the whole field, tag included */
  raw: Uint8Array;
  /** a length-delimited field's payload, or a varint's value */
  payload: Uint8Array;
  int: number;
}

/**
 * The top-level fields of one protobuf message, in order, read by protoWire.ts; payloads are
 * views (nothing copied).
 */
function fields(bytes: Uint8Array): Field[] {
  return Array.from(wireFields(bytes), (f) => ({
    number: f.number,
    wire: f.wire,
    raw: bytes.subarray(f.start, f.end),
    payload: f.payload ?? bytes.subarray(0, 0),
    int: f.value,
  }));
}

const text = (bytes: Uint8Array): string => wireText(bytes);

/** A message written as chunks (views of the original where unchanged), with its byte length. */
class Chunks {
  readonly parts: Uint8Array[] = [];
  length = 0;
  push(...parts: Uint8Array[]): void {
    for (const p of parts) {
      this.parts.push(p);
      this.length += p.length;
    }
  }
  /** `inner` as length-delimited field `number` of this message */
  field(number: number, inner: Chunks): void {
    this.push(varint((number << 3) | LENGTH_DELIMITED), varint(inner.length));
    for (const p of inner.parts) this.push(p);
  }
}

/** what the rewrite found, checked against the model's layers, and what it needs */
interface Found {
  softmaxes: number;
  fused: string | null;
  /** an operator quantizing activations per pass, where the graph has one */
  dynamic: string | null;
  /** the element type of scores not produced by a Cast: the model's (its cache's) */
  elemType: number;
  /** whether an absent Softmax axis means the last */
  lastAxisDefault: boolean;
}

/** the op type of a node's fields */
const opTypeOf = (nodeFields: Field[]): string =>
  text(nodeFields.find((f) => f.number === NODE_OP_TYPE)?.payload ?? new Uint8Array());

/** a node's attributes by name, as their fields */
function attributes(nodeFields: Field[]): Map<string, Field[]> {
  const out = new Map<string, Field[]>();
  for (const f of nodeFields.filter((f) => f.number === NODE_ATTRIBUTE)) {
    const attr = fields(f.payload);
    out.set(text(attr.find((a) => a.number === ATTR_NAME)?.payload ?? new Uint8Array()), attr);
  }
  return out;
}

/** each Cast's output and the element type it casts to, in one graph */
function castTypes(graphFields: Field[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of graphFields.filter((f) => f.number === GRAPH_NODE)) {
    const nodeFields = fields(f.payload);
    if (opTypeOf(nodeFields) !== CAST) continue;
    const to = attributes(nodeFields)
      .get(ATTR_TO)
      ?.find((a) => a.number === ATTR_INT)?.int;
    const output = nodeFields.find((n) => n.number === NODE_OUTPUT);
    if (to !== undefined && output) out.set(text(output.payload), to);
  }
  return out;
}

/** A node, with its Softmax rewritten (and its bias nodes before it) or its subgraphs visited. */
function rewriteNode(
  field: Field,
  out: Chunks,
  found: Found,
  id: () => number,
  casts: Map<string, number>,
): void {
  const nodeFields = fields(field.payload);
  const opType = opTypeOf(nodeFields);
  if (FUSED_ATTENTION.has(opType)) found.fused ??= opType;
  if (DYNAMIC_QUANTIZATION.has(opType)) found.dynamic ??= opType;
  if (opType === 'Softmax') {
    const axis = attributes(nodeFields)
      .get('axis')
      ?.find((a) => a.number === ATTR_INT)?.int;
    if (axis === undefined ? !found.lastAxisDefault : axis !== -1 && axis !== 3)
      throw new NotMaskable(`a Softmax over axis ${axis ?? 1}, not attention's last`);
    const scores = text(nodeFields.find((f) => f.number === NODE_INPUT)!.payload);
    const n = id();
    const [cast, biased] = [`${TREE_BIAS}_as_${n}`, `${TREE_BIAS}_scores_${n}`];
    // scores cast before the Softmax (float16 models' float32 softmax) have the Cast's type
    const elemType = casts.get(scores) ?? found.elemType;
    const bias = elemType === FLOAT32 ? TREE_BIAS : cast;
    if (bias === cast) {
      const node = new Chunks();
      node.push(encodeNode({ opType: CAST, input: [TREE_BIAS], output: [cast], to: elemType }));
      out.field(GRAPH_NODE, node);
    }
    const add = new Chunks();
    add.push(encodeNode({ opType: 'Add', input: [scores, bias], output: [biased] }));
    out.field(GRAPH_NODE, add);
    const softmax = new Chunks();
    let first = true;
    for (const f of nodeFields) {
      if (f.number === NODE_INPUT && first) {
        first = false;
        const name = Buffer.from(biased, 'utf8');
        softmax.push(varint((NODE_INPUT << 3) | LENGTH_DELIMITED), varint(name.length), name);
      } else softmax.push(f.raw);
    }
    out.field(GRAPH_NODE, softmax);
    found.softmaxes++;
    return;
  }
  if (opType !== 'If' && opType !== 'Loop' && opType !== 'Scan') {
    out.push(field.raw);
    return;
  }
  // a branch (optimum's merged decoder) reads tree_bias from the outer graph's scope
  const node = new Chunks();
  for (const f of nodeFields) {
    if (f.number !== NODE_ATTRIBUTE) {
      node.push(f.raw);
      continue;
    }
    const attr = new Chunks();
    for (const a of fields(f.payload)) {
      if (a.number === ATTR_GRAPH)
        attr.field(ATTR_GRAPH, rewriteGraph(a.payload, found, id, false));
      else attr.push(a.raw);
    }
    node.field(NODE_ATTRIBUTE, attr);
  }
  out.field(GRAPH_NODE, node);
}

function rewriteGraph(bytes: Uint8Array, found: Found, id: () => number, outer: boolean): Chunks {
  const out = new Chunks();
  let inputsEnded = false;
  const fs = fields(bytes);
  const casts = castTypes(fs);
  const lastInput = fs.map((f) => f.number).lastIndexOf(GRAPH_INPUT);
  fs.forEach((f, i) => {
    if (f.number === GRAPH_NODE && f.wire === LENGTH_DELIMITED)
      rewriteNode(f, out, found, id, casts);
    else out.push(f.raw);
    if (outer && i === lastInput && !inputsEnded) {
      inputsEnded = true;
      const input = new Chunks();
      input.push(encodeValueInfo(TREE_BIAS, FLOAT32, [1, 1, 'sequence', 'total']));
      out.field(GRAPH_INPUT, input);
    }
  });
  if (outer && !inputsEnded) throw new NotMaskable('a graph without inputs');
  return out;
}

/** the default domain's opset the model imports */
function opsetOf(model: Field[]): number {
  for (const f of model.filter((f) => f.number === MODEL_OPSET)) {
    const entry = fields(f.payload);
    const domain = text(entry.find((e) => e.number === OPSET_DOMAIN)?.payload ?? new Uint8Array());
    if (domain === '' || domain === 'ai.onnx')
      return entry.find((e) => e.number === OPSET_VERSION)?.int ?? 0;
  }
  return 0;
}

/**
 * The export with a `tree_bias` input [1, 1, sequence, total] (float32) added to each
 * attention's scores, as chunks to write or concatenate (views of `bytes` where unchanged);
 * throws NotMaskable with the reason when the graph's attention is not one it can take it in.
 * `layers`: the model's layer count, which must equal the attention Softmaxes of each branch.
 */
export function withTreeBias(
  bytes: Uint8Array,
  layers: number,
  /** the model's element type (onnx.proto's: 1 float32, 10 float16), its cache's */
  elemType: number,
): Uint8Array[] {
  let model: Field[];
  try {
    model = fields(bytes);
  } catch (err) {
    throw new NotMaskable(`the file could not be read (${(err as Error).message})`);
  }
  const out = new Chunks();
  const found: Found = {
    softmaxes: 0,
    fused: null,
    dynamic: null,
    elemType,
    lastAxisDefault: opsetOf(model) >= SOFTMAX_LAST_AXIS_OPSET,
  };
  let next = 0;
  let graphs = 0;
  for (const f of model) {
    if (f.number !== MODEL_GRAPH) {
      out.push(f.raw);
      continue;
    }
    graphs++;
    out.field(
      MODEL_GRAPH,
      rewriteGraph(f.payload, found, () => next++, true),
    );
  }
  if (graphs !== 1) throw new NotMaskable('the file has no graph');
  if (found.fused)
    throw new NotMaskable(
      `its attention is onnxruntime's fused ${found.fused}, given no mask here`,
    );
  if (found.dynamic)
    throw new NotMaskable(
      `its activations are quantized over each whole pass (${found.dynamic}), so a node's logits would depend on the other nodes beside it`,
    );
  // a merged decoder has the layers twice: once per branch
  if (found.softmaxes === 0 || found.softmaxes % layers !== 0)
    throw new NotMaskable(
      `${found.softmaxes} Softmax nodes where ${layers} layers have ${layers} attentions`,
    );
  return out.parts;
}
