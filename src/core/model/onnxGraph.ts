/**
 * Two small ONNX graphs built for each model at load time, so that on a GPU provider the KV
 * cache and the verdicts stay on the device (kvCache.ts and deviceGraphs.ts,
 * `kvLocation: 'device'`):
 *
 * - crop: every cache slot sliced to its first n positions, on the device. The cache is
 *   [1, kvHeads, len, headDim]; dropping rejected drafts is a Slice on axis 2.
 * - head: what greedy decoding needs from a pass's logits [1, rows, vocab], computed where they
 *   are: the argmax of each row (the first on ties, like the CPU path), the top two values (the
 *   tie margin), the log-sum-exp (the argmax's probability), and the logit of one chosen token
 *   per row (a draft's probability under the target). A few bytes per row come back instead of
 *   the row; the rows themselves are an output too, fetched only when sampling or asked for.
 *
 * Why graphs and not masking: slicing keeps the cache exactly what the CPU path keeps (same
 * lengths, same positions), so the two paths cannot drift apart, and it needs nothing from the
 * export (explicit position ids, a mask honoured in every attention kernel).
 *
 * The models are encoded with protobufjs from the few fields of onnx.proto (proto2) they use.
 */
import protobuf from 'protobufjs';

const ELEM = { float32: 1, int64: 7, float16: 10 } as const;
export type GraphFloat = 'float32' | 'float16';

/** AttributeProto.AttributeType */
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

const unpacked = { options: { packed: false } };
const schema = protobuf.Root.fromJSON({
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
          },
        },
        OperatorSetIdProto: {
          fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            domain: { type: 'string', id: 7 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            g: { type: 'GraphProto', id: 6 },
            ints: { rule: 'repeated', type: 'int64', id: 8, ...unpacked },
            type: { type: 'int32', id: 20 },
          },
        },
        ValueInfoProto: {
          fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } },
        },
        TypeProto: { fields: { tensorType: { type: 'TensorTypeProto', id: 1 } } },
        TensorTypeProto: {
          fields: {
            elemType: { type: 'int32', id: 1 },
            shape: { type: 'TensorShapeProto', id: 2 },
          },
        },
        TensorShapeProto: { fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } } },
        Dimension: {
          fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 } },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1, ...unpacked },
            dataType: { type: 'int32', id: 2 },
            floatData: { rule: 'repeated', type: 'float', id: 4 },
            int64Data: { rule: 'repeated', type: 'int64', id: 7, ...unpacked },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
            externalData: { rule: 'repeated', type: 'StringStringEntryProto', id: 13 },
            dataLocation: { type: 'int32', id: 14 },
          },
        },
        StringStringEntryProto: {
          fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } },
        },
      },
    },
  },
});
const ModelProto = schema.lookupType('onnx.ModelProto');

type Dim = number | string;
type Attr = { name: string; i?: number; f?: number; ints?: number[] };

export const value = (name: string, elemType: number, dims: readonly Dim[]) => ({
  name,
  type: {
    tensorType: {
      elemType,
      shape: {
        dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
      },
    },
  },
});
export const int64s = (name: string, values: number[]) => ({
  name,
  dataType: ELEM.int64,
  dims: [values.length],
  int64Data: values,
});
export const node = (
  opType: string,
  input: string[],
  output: string[],
  attrs: Attr[] = [],
  domain?: 'com.microsoft',
) => ({
  opType,
  input,
  output,
  attribute: attrs.map((a) => ({
    ...a,
    type: a.ints ? ATTR_INTS : a.f !== undefined ? ATTR_FLOAT : ATTR_INT,
  })),
  ...(domain ? { domain } : {}),
});

/** A model of one graph, at opset 17 (and onnxruntime's contrib operators when `contrib`). */
export function encode(graph: object, contrib = false): Uint8Array {
  const model = {
    irVersion: 8,
    producerName: 'specdec-studio',
    opsetImport: [{ version: 17 }, ...(contrib ? [{ domain: 'com.microsoft', version: 1 }] : [])],
    graph,
  };
  const err = ModelProto.verify(model);
  if (err) throw new Error(`internal ONNX graph: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** inputs `n` (int64 [1]) and `in0..in{slots-1}`; outputs `out{i}` = in{i}[:, :, :n, :] */
export function cropGraph(slots: number, kvHeads: number, headDim: number, type: GraphFloat) {
  const elem = ELEM[type];
  const ids = Array.from({ length: slots }, (_, i) => i);
  return encode({
    name: 'kv-crop',
    node: ids.map((i) => node('Slice', [`in${i}`, 'zero', 'n', 'axis'], [`out${i}`])),
    initializer: [int64s('zero', [0]), int64s('axis', [2])],
    input: [
      value('n', ELEM.int64, [1]),
      ...ids.map((i) => value(`in${i}`, elem, [1, kvHeads, 'len', headDim])),
    ],
    output: ids.map((i) => value(`out${i}`, elem, [1, kvHeads, 'n', headDim])),
  });
}

/** The head graph's outputs, by what they are for (see the file comment). */
/** TensorProto.DataType */
export const FLOAT32 = ELEM.float32;
export const INT64 = ELEM.int64;
export const FLOAT16 = ELEM.float16;

/** The parts of a decoded ONNX model that fusedGpt2.ts reads (onnx.proto's field names). */
export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  rawData?: Uint8Array;
  floatData?: number[];
  externalData?: unknown[];
  dataLocation?: number;
}
export interface OnnxNode {
  opType: string;
  input: string[];
  output: string[];
  domain?: string;
  attribute: { name: string; f?: number; i?: number; g?: OnnxGraph }[];
}
export interface OnnxGraph {
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: { name: string }[];
  output: { name: string }[];
}

/** Decode a model file's graph; tensors' raw bytes stay views of `bytes` (nothing is copied). */
export function decodeGraph(bytes: Uint8Array): OnnxGraph {
  const message = ModelProto.decode(bytes);
  const model = ModelProto.toObject(message, { longs: Number, arrays: true }) as {
    graph?: OnnxGraph;
  };
  if (!model.graph) throw new Error('the file has no graph');
  return model.graph;
}

export const HEAD_OUTPUTS = ['ids', 'top2', 'lse', 'picked'] as const;

/**
 * inputs `logits` [1, rows, vocab] (or [batch, rows, vocab], whose `rows` output alone is read)
 * and `pick` (int64 [1, rows, 1]); outputs `ids` [1, rows],
 * `top2` [1, rows, 2], `lse` and `picked` [1, rows, 1], and `rows` (the logits as float32). With
 * `width`, every output reads the logits' first `width` ids only (a pair's shared ids).
 */
export function headGraph(vocab: number | string, type: GraphFloat, width: number | null = null) {
  const cut = width === null ? 'logits' : 'cut';
  const x = type === 'float32' ? cut : 'x';
  const last = { name: 'axis', i: 2 };
  return encode({
    name: 'greedy-head',
    node: [
      ...(width === null ? [] : [node('Slice', ['logits', 'zero', 'width', 'last_axis'], ['cut'])]),
      ...(type === 'float32' ? [] : [node('Cast', [cut], ['x'], [{ name: 'to', i: 1 }])]),
      node('ArgMax', [x], ['ids'], [last, { name: 'keepdims', i: 0 }]),
      node('TopK', [x, 'two'], ['top2', 'top2_index'], [last]),
      node(
        'ReduceMax',
        [x],
        ['max'],
        [
          { name: 'axes', ints: [2] },
          { name: 'keepdims', i: 1 },
        ],
      ),
      node('Sub', [x, 'max'], ['shifted']),
      node('Exp', ['shifted'], ['exp']),
      node('ReduceSum', ['exp', 'last_axis'], ['sum'], [{ name: 'keepdims', i: 1 }]),
      node('Log', ['sum'], ['log_sum']),
      node('Add', ['log_sum', 'max'], ['lse']),
      node('GatherElements', [x, 'pick'], ['picked'], [last]),
      node('Identity', [x], ['rows']),
    ],
    initializer: [
      int64s('two', [2]),
      int64s('last_axis', [2]),
      ...(width === null ? [] : [int64s('zero', [0]), int64s('width', [width])]),
    ],
    // batch: 1, but for a token tree's rows, whose passes read `rows` only
    input: [
      value('logits', ELEM[type], ['batch', 'rows', vocab]),
      value('pick', ELEM.int64, [1, 'rows', 1]),
    ],
    output: [
      value('ids', ELEM.int64, ['batch', 'rows']),
      value('top2', ELEM.float32, ['batch', 'rows', 2]),
      value('lse', ELEM.float32, ['batch', 'rows', 1]),
      value('picked', ELEM.float32, [1, 'rows', 1]),
      value('rows', ELEM.float32, ['batch', 'rows', width ?? vocab]),
    ],
  });
}

const NodeProto = schema.lookupType('onnx.NodeProto');
const ValueInfoProto = schema.lookupType('onnx.ValueInfoProto');

/** One NodeProto's bytes (treeMaskGraph.ts splices nodes into an export's graph). */
export function encodeNode(n: {
  opType: string;
  input: string[];
  output: string[];
  /** a Cast's target element type */
  to?: number;
}): Uint8Array {
  const attrs = n.to === undefined ? [] : [{ name: 'to', i: n.to }];
  return NodeProto.encode(NodeProto.fromObject(node(n.opType, n.input, n.output, attrs))).finish();
}

/** One ValueInfoProto's bytes: a graph input or output of `elemType` and `dims`. */
export function encodeValueInfo(name: string, elemType: number, dims: readonly Dim[]): Uint8Array {
  return ValueInfoProto.encode(ValueInfoProto.fromObject(value(name, elemType, dims))).finish();
}
