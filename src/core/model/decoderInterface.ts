/**
 * Whether an ONNX session is a decoder the engine can drive: the inputs and outputs its
 * architecture names (the pass inputs, the cache slots, logits), no input it would not feed, and
 * their element types.
 */
import type * as ort from 'onnxruntime-node';
import { SpecDecError } from '../errors';
import { cacheSlots, type Architecture, type CacheSlot } from './architectures/architecture';
import type { CacheType } from './kvCache';
import type { ModelFolder } from './modelFolder';
import { PassFeeds } from './passFeeds';

export interface DecoderInterface {
  slots: CacheSlot[];
  cacheType: CacheType;
  logitsType: CacheType;
}

/** The session's cache slots and element types; throws ONNX_INTERFACE naming what is missing. */
export function readDecoderInterface(
  session: ort.InferenceSession,
  folder: ModelFolder,
  architecture: Architecture,
): DecoderInterface {
  const inputs = new Set(session.inputNames);
  const outputs = new Set(session.outputNames);
  const missing: string[] = PassFeeds.missing(architecture.inputs, session.inputNames);
  if (!outputs.has('logits')) missing.push('logits');
  // slot by slot, stopping once the message has its names: the layer count is config.json's,
  // checked against the file's cache inputs only where the file has some (configCheck.ts)
  for (let layer = 0; layer < folder.config.nLayer && missing.length <= 3; layer++) {
    for (const role of ['key', 'value'] as const) {
      const past = architecture.cache.pastName(layer, role);
      const present = architecture.cache.presentName(layer, role);
      if (!inputs.has(past)) missing.push(past);
      if (!outputs.has(present)) missing.push(present);
    }
  }
  if (missing.length > 0) {
    throw new SpecDecError(
      'ONNX_INTERFACE',
      `${folder.onnxPath} does not have the ${architecture.modelType}-with-past interface (missing ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}). Export it with past key/values (e.g. optimum's "text-generation-with-past").`,
    );
  }
  const slots = cacheSlots(architecture, folder.config);
  // an input the engine would not feed fails the first pass in onnxruntime's words: say it here
  const fed = new Set<string>([
    ...architecture.inputs.required,
    ...architecture.inputs.optional,
    ...slots.map((slot) => slot.past),
  ]);
  const unfed = session.inputNames.filter((name) => !fed.has(name));
  if (unfed.length > 0) {
    const feeds = [...architecture.inputs.required, ...architecture.inputs.optional].join(', ');
    throw new SpecDecError(
      'ONNX_INTERFACE',
      `${folder.onnxPath} takes ${unfed.length === 1 ? 'an input' : 'inputs'} the engine does not feed: ${unfed.slice(0, 3).join(', ')}${unfed.length > 3 ? ', ...' : ''}. A ${architecture.displayName} pass feeds ${feeds} and the cache (${architecture.cache.pastName(0, 'key')} ...); export the model without ${unfed.length === 1 ? 'it' : 'them'}.`,
    );
  }
  return {
    slots,
    cacheType: floatType(session.inputMetadata, slots[0]!.past, folder, architecture),
    logitsType: floatType(session.outputMetadata, 'logits', folder, architecture),
  };
}

/** a tensor input's or output's element type, which must be float32 or float16 */
export function floatType(
  metadata: readonly ort.InferenceSession.ValueMetadata[],
  name: string,
  folder: ModelFolder,
  architecture: Architecture,
): CacheType {
  const meta = metadata.find((m) => m.name === name);
  const type = meta?.isTensor ? meta.type : undefined;
  if (type === 'float32' || type === 'float16') return type;
  throw new SpecDecError(
    'ONNX_INTERFACE',
    `${folder.onnxPath}: ${name} is ${type ?? 'not a tensor'}; the engine runs float32 and float16 ${architecture.displayName} exports (fp32, fp16 and q8 files).`,
  );
}
