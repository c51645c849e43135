/**
 * A config.json checked against its own ONNX file before anything is sized from it: a config
 * that claims a billion positions or a hundred million layers is refused at load, naming the
 * field, both values and what to do, instead of exhausting memory or failing at token 512.
 */
import { SpecDecError } from '../errors';
import type { Architecture, CheckedField, ModelConfig } from './architectures/architecture';
import type { OnnxDim, OnnxLayout } from './onnxLayout';

/** one disagreement: the config's field, and what the model file holds instead, in words */
interface Mismatch {
  field: CheckedField;
  /** "the position table wpe.weight in onnx/model.onnx has 64 rows" */
  fact: string;
}

const dimsText = (dims: readonly OnnxDim[]): string =>
  `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;

/** the layers the graph's cache inputs name: past slots 0, 1, ... for as long as they exist */
function layersOf(architecture: Architecture, inputs: ReadonlySet<string>): number {
  let layers = 0;
  while (inputs.has(architecture.cache.pastName(layers, 'key'))) layers++;
  return layers;
}

/** The first disagreement between the config and the model file, or null. */
function firstMismatch(
  config: ModelConfig,
  layout: OnnxLayout,
  architecture: Architecture,
  onnxName: string,
): Mismatch | null {
  const inputs = new Set(layout.inputs.map((i) => i.name));
  // without past inputs the file is not a with-past export: the interface check says so
  const layers = layersOf(architecture, inputs);
  if (layers > 0 && layers !== config.nLayer)
    return {
      field: 'nLayer',
      fact: `${onnxName} has ${layers} (its cache inputs ${architecture.cache.pastName(0, 'key')} to ${architecture.cache.pastName(layers - 1, 'key')})`,
    };
  const positions = layout.positionTable;
  // a config may use fewer positions than the table holds, never more
  if (positions && config.nPositions > positions.dims[0]!)
    return {
      field: 'nPositions',
      fact: `the position table ${positions.name} in ${onnxName} has ${positions.dims[0]} rows`,
    };
  const tokens = layout.tokenTable;
  if (tokens && tokens.dims[0] !== config.vocabSize)
    return {
      field: 'vocabSize',
      fact: `the token table ${tokens.name} in ${onnxName} has ${tokens.dims[0]} rows`,
    };
  if (tokens && tokens.dims[1] !== config.nEmbd)
    return {
      field: 'nEmbd',
      fact: `the token table ${tokens.name} in ${onnxName} has ${tokens.dims[1]} columns`,
    };
  const logits = layout.outputs.find((o) => o.name === 'logits');
  const vocab = logits?.dims[2];
  if (typeof vocab === 'number' && vocab !== config.vocabSize)
    return { field: 'vocabSize', fact: `the logits of ${onnxName} have ${vocab} columns` };
  // a cache slot is [batch, kv heads, positions, head dim]; exports give heads and size statically
  const slot = layout.inputs.find((i) => i.name === architecture.cache.pastName(0, 'key'));
  if (slot && typeof slot.dims[1] === 'number' && slot.dims[1] !== config.nKvHeads)
    return {
      field: 'nKvHeads',
      fact: `the cache input ${slot.name} of ${onnxName} is ${dimsText(slot.dims)}: ${slot.dims[1]} heads`,
    };
  if (slot && typeof slot.dims[3] === 'number' && slot.dims[3] !== config.headDim)
    return {
      field: 'headDim',
      fact: `the cache input ${slot.name} of ${onnxName} is ${dimsText(slot.dims)}: heads of size ${slot.dims[3]}`,
    };
  return null;
}

/**
 * Throws MODEL_FOLDER_INVALID when config.json (at `configPath`) says the model is another size
 * than its ONNX file (`onnxName`, as the folder names it) holds.
 */
export function checkConfigAgainstOnnx(
  config: ModelConfig,
  layout: OnnxLayout,
  architecture: Architecture,
  configPath: string,
  onnxName: string,
): void {
  const mismatch = firstMismatch(config, layout, architecture, onnxName);
  if (!mismatch) return;
  const name = architecture.configFields[mismatch.field];
  throw new SpecDecError(
    'MODEL_FOLDER_INVALID',
    `${configPath} says ${name} ${config[mismatch.field]} but ${mismatch.fact}: fix config.json or re-export the model.`,
  );
}
