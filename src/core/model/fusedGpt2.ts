/**
 * A GPT-2 export, rebuilt for onnxruntime's CPU provider from the same weights: about 10 nodes a
 * layer instead of over 100 (the embedded target's file: 459 nodes, rebuilt: 41).
 *
 * An exporter (torch.onnx, optimum) writes attention as the framework computes it: reshapes,
 * transposes, a concat per cache slot, a causal mask built from Range and Where, a masked softmax,
 * GELU as eight element-wise nodes. onnxruntime's own load-time fusions join a few of them
 * (LayerNormalization, MatMul+scale) but not the attention or the GELU. On a small model each
 * node's dispatch and output allocation cost about as much as its arithmetic: the embedded target
 * spends a quarter of a decode pass between its matrix products. The rebuilt graph uses
 * onnxruntime's contrib operators, the ones its transformer optimizer would produce:
 *
 *   Gather(wte) + Gather(wpe) -> LayerNormalization
 *   per layer: MatMul(qkv) -> Split -> MultiHeadAttention (bias, past and present key/value,
 *   causal) -> MatMul(out) -> SkipLayerNormalization (adds the bias and the residual, returns the
 *   sum too) -> MatMul(up) -> FastGelu or BiasGelu (adds the bias) -> MatMul(down) ->
 *   SkipLayerNormalization (the next layer's norm, or the final one)
 *   MatMul(head)
 *
 * The inputs and outputs keep the export's names and shapes (input_ids, attention_mask,
 * position_ids, past_key_values.i.key/value -> logits, present.i.key/value), so the decoding loops
 * and the KV-cache handling do not change. attention_mask is accepted and not read: a run is one
 * unpadded sequence, so it is all ones, and causality is the attention's own.
 *
 * The weights are found the way tools/export_gguf.py finds them, by where each initializer sits
 * (names are not to be trusted: exporters fold weights into constants with generated names): in
 * node order a layer has four weight MatMuls, each followed by an Add of its bias, and two layer
 * norms; then the final norm and, when it is not left to a Transpose of the embedding, the LM
 * head. Anything else (8-bit or 16-bit weights, external data, another architecture) is not
 * rebuilt, with the reason. rebuiltGraph.ts checks a rebuilt graph against the export
 * (a load-time agreement check) before using it; the GPT-2 architecture entry names this rebuild.
 */
import {
  FLOAT32,
  INT64,
  decodeGraph,
  encode,
  int64s,
  node,
  value,
  type OnnxGraph,
  type OnnxNode,
  type OnnxTensor,
} from './onnxGraph';
import type { ModelConfig } from './architectures/architecture';

/** Why a model file is not rebuilt: it is then run as exported. */
export class NotFusable extends Error {}

interface Linear {
  weight: OnnxTensor;
  bias: OnnxTensor;
}
interface Norm {
  scale: OnnxTensor;
  bias: OnnxTensor;
  epsilon: number;
}

/** What a rebuild may add beyond the export's interface. */
export interface RebuildOptions {
  /**
   * a `tree_bias` input [1, 1, sequence, total] added to every attention's scores (onnxruntime's
   * attention_bias): a token tree's mask, each node attending to its ancestors only
   */
  treeBias?: boolean;
}

/** The rebuilt model, encoded; throws NotFusable when the file is not a float32 GPT-2 graph. */
export function fuseGpt2(
  bytes: Uint8Array,
  config: ModelConfig,
  options: RebuildOptions = {},
): Uint8Array {
  let outer: OnnxGraph;
  try {
    outer = decodeGraph(bytes);
  } catch (err) {
    throw new NotFusable(`the file could not be decoded (${(err as Error).message})`);
  }
  let graph = outer;
  // optimum's merged decoder: one If whose then-branch is the with-past graph
  if (outer.node.length === 1 && outer.node[0]!.opType === 'If') {
    const branch = outer.node[0]!.attribute.find((a) => a.name === 'then_branch')?.g;
    if (!branch) throw new NotFusable('an If node without a then_branch');
    graph = branch;
  }
  const nodes = graph.node;
  const inits = new Map<string, OnnxTensor>();
  for (const t of [...outer.initializer, ...graph.initializer]) inits.set(t.name, t);
  for (const n of [...outer.node, ...nodes]) {
    const source = n.opType === 'Identity' ? inits.get(n.input[0]!) : undefined;
    if (source) inits.set(n.output[0]!, source); // equal initializers exported once, aliased
  }
  const consumers = new Map<string, OnnxNode[]>();
  for (const n of nodes)
    for (const i of n.input) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const producer = new Map<string, OnnxNode>();
  for (const n of nodes) for (const o of n.output) producer.set(o, n);
  const init = (name: string | undefined, rank: number): OnnxTensor | undefined => {
    const t = name === undefined ? undefined : inits.get(name);
    return t && t.dims.length === rank ? t : undefined;
  };
  const constInput = (n: OnnxNode | undefined, rank: number): OnnxTensor | undefined =>
    n?.input.map((i) => init(i, rank)).find((t) => t !== undefined);
  const addAfter = (n: OnnxNode): OnnxNode | undefined =>
    consumers.get(n.output[0]!)?.find((c) => c.opType === 'Add');

  const { nLayer, nEmbd: C, nHead, vocabSize: V, nPositions } = config;
  let wte: OnnxTensor | undefined;
  let wpe: OnnxTensor | undefined;
  for (const n of nodes) {
    const w = n.opType === 'Gather' ? init(n.input[0], 2) : undefined;
    if (w && w.dims[0] === V) wte = w;
    else if (w && w.dims[0]! >= nPositions) wpe = w;
  }
  if (!wte || !wpe) throw new NotFusable('no token and position embedding Gathers');

  const linears: { weight: OnnxTensor; bias: OnnxTensor | undefined }[] = [];
  for (const n of nodes) {
    const weight = n.opType === 'MatMul' ? init(n.input[1], 2) : undefined;
    if (weight) linears.push({ weight, bias: constInput(addAfter(n), 1) });
  }
  const norms: Norm[] = [];
  for (const n of nodes) {
    if (n.opType === 'LayerNormalization') {
      const [scale, bias] = [init(n.input[1], 1), init(n.input[2], 1)];
      if (!scale || !bias) throw new NotFusable('a LayerNormalization without constant weights');
      const epsilon = n.attribute.find((a) => a.name === 'epsilon')?.f ?? 1e-5;
      norms.push({ scale, bias, epsilon });
    } else if (n.opType === 'Mul' && producer.get(n.input[0]!)?.opType === 'Div') {
      // a layer norm written out (opset < 17): (x - mean) / sqrt(var + eps) * scale + bias
      const scale = constInput(n, 1);
      const bias = constInput(addAfter(n), 1);
      if (scale && bias) norms.push({ scale, bias, epsilon: 1e-5 });
    }
  }
  const ops = new Set(nodes.map((n) => n.opType));
  if (ops.has('MatMulInteger') || ops.has('MatMulNBits'))
    throw new NotFusable('quantized weights (the rebuilt graph is for float32 ones)');
  if (linears.length !== 4 * nLayer && linears.length !== 4 * nLayer + 1)
    throw new NotFusable(
      `${linears.length} weight MatMuls where ${nLayer} layers have ${4 * nLayer}`,
    );
  if (norms.length !== 2 * nLayer + 1)
    throw new NotFusable(
      `${norms.length} layer norms where ${nLayer} layers have ${2 * nLayer + 1}`,
    );
  const gelu = ops.has('Erf') ? 'BiasGelu' : ops.has('Tanh') ? 'FastGelu' : null;
  if (!gelu) throw new NotFusable('no GELU (Tanh or Erf) in the MLP');

  const layers = Array.from({ length: nLayer }, (_, i) => {
    const [qkv, out, up, down] = [0, 1, 2, 3].map((j) => {
      const l = linears[4 * i + j]!;
      if (!l.bias) throw new NotFusable(`layer ${i} has a weight MatMul without a bias`);
      return l as Linear;
    }) as [Linear, Linear, Linear, Linear];
    const inner = up.weight.dims[1]!;
    const shapes: [OnnxTensor, number[]][] = [
      [qkv.weight, [C, 3 * C]],
      [qkv.bias, [3 * C]],
      [out.weight, [C, C]],
      [out.bias, [C]],
      [up.weight, [C, inner]],
      [up.bias, [inner]],
      [down.weight, [inner, C]],
      [down.bias, [C]],
    ];
    for (const [t, dims] of shapes)
      if (t.dims.join() !== dims.join())
        throw new NotFusable(
          `layer ${i}: a weight of shape [${t.dims}] where [${dims}] was expected`,
        );
    return { qkv, out, up, down, ln1: norms[2 * i]!, ln2: norms[2 * i + 1]! };
  });
  const lnF = norms[2 * nLayer]!;
  const head = linears.length === 4 * nLayer + 1 ? linears[4 * nLayer]!.weight : null;
  if (head && head.dims.join() !== [C, V].join())
    throw new NotFusable(`an LM head of shape [${head.dims}]`);

  // every tensor once, under one name (aliases and shared constants resolve to the same object)
  const used = new Map<OnnxTensor, string>();
  const ref = (t: OnnxTensor): string => {
    if (t.dataType !== FLOAT32) throw new NotFusable('weights that are not float32');
    if (t.dataLocation === 1 || (t.externalData?.length ?? 0) > 0)
      throw new NotFusable('weights in an external data file');
    if (!used.has(t)) used.set(t, `w${used.size}`);
    return used.get(t)!;
  };
  const eps = (n: Norm) => ({ name: 'epsilon', f: n.epsilon });
  const g: ReturnType<typeof node>[] = [
    node('Gather', [ref(wte), 'input_ids'], ['tok']),
    node('Gather', [ref(wpe), 'position_ids'], ['pos']),
    node('Add', ['tok', 'pos'], ['x0']),
    node(
      'LayerNormalization',
      ['x0', ref(layers[0]!.ln1.scale), ref(layers[0]!.ln1.bias)],
      ['h0'],
      [{ name: 'axis', i: -1 }, eps(layers[0]!.ln1)],
    ),
  ];
  layers.forEach((l, i) => {
    const next = layers[i + 1]?.ln1 ?? lnF;
    const [x, h, xNext, hNext] = [`x${i}`, `h${i}`, `x${i + 1}`, `h${i + 1}`];
    g.push(
      node('MatMul', [h, ref(l.qkv.weight)], [`qkv${i}`]),
      node('Split', [`qkv${i}`, 'split'], [`q${i}`, `k${i}`, `v${i}`], [{ name: 'axis', i: 2 }]),
      node(
        'MultiHeadAttention',
        [
          `q${i}`,
          `k${i}`,
          `v${i}`,
          ref(l.qkv.bias),
          '',
          options.treeBias ? 'tree_bias' : '',
          `past_key_values.${i}.key`,
          `past_key_values.${i}.value`,
        ],
        [`a${i}`, `present.${i}.key`, `present.${i}.value`],
        [
          { name: 'num_heads', i: nHead },
          { name: 'unidirectional', i: 1 },
        ],
        'com.microsoft',
      ),
      node('MatMul', [`a${i}`, ref(l.out.weight)], [`o${i}`]),
      node(
        'SkipLayerNormalization',
        [`o${i}`, x, ref(l.ln2.scale), ref(l.ln2.bias), ref(l.out.bias)],
        [`m${i}`, '', '', `r${i}`],
        [eps(l.ln2)],
        'com.microsoft',
      ),
      node('MatMul', [`m${i}`, ref(l.up.weight)], [`u${i}`]),
      node(gelu, [`u${i}`, ref(l.up.bias)], [`gelu${i}`], [], 'com.microsoft'),
      node('MatMul', [`gelu${i}`, ref(l.down.weight)], [`d${i}`]),
      node(
        'SkipLayerNormalization',
        [`d${i}`, `r${i}`, ref(next.scale), ref(next.bias), ref(l.down.bias)],
        [hNext, '', '', xNext],
        [eps(next)],
        'com.microsoft',
      ),
    );
  });
  const last = `h${nLayer}`;
  if (head) g.push(node('MatMul', [last, ref(head)], ['logits']));
  else
    g.push(
      // the tied head: onnxruntime folds the Transpose of the constant at load
      node('Transpose', [ref(wte)], ['wte_t'], [{ name: 'perm', ints: [1, 0] }]),
      node('MatMul', [last, 'wte_t'], ['logits']),
    );

  const D = C / nHead;
  const cache = (name: string, len: string) => value(name, FLOAT32, ['batch', nHead, len, D]);
  const slots = Array.from({ length: nLayer }, (_, i) => i).flatMap((i) => [
    [`past_key_values.${i}.key`, `present.${i}.key`],
    [`past_key_values.${i}.value`, `present.${i}.value`],
  ]);
  return encode(
    {
      name: 'gpt2-fused',
      node: g,
      initializer: [...[...used].map(([t, name]) => ({ ...t, name })), int64s('split', [C, C, C])],
      input: [
        value('input_ids', INT64, ['batch', 'sequence']),
        value('attention_mask', INT64, ['batch', 'total']),
        value('position_ids', INT64, ['batch', 'sequence']),
        ...slots.map(([past]) => cache(past!, 'past')),
        ...(options.treeBias ? [value('tree_bias', FLOAT32, [1, 1, 'sequence', 'total'])] : []),
      ],
      output: [
        value('logits', FLOAT32, ['batch', 'sequence', V]),
        ...slots.map(([, present]) => cache(present!, 'total')),
      ],
    },
    true,
  );
}
