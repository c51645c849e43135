/**
 * The architectures the engine runs, by config.json's model_type: adding a family is adding an
 * entry here. A model_type without an entry is read by GPT-2's rules, as every folder was before
 * there were entries (configs of other families that share GPT-2's fields load as they did); one
 * whose config does not read so is refused naming its model_type and the entries.
 */
import { SpecDecError } from '../../errors';
import type { Architecture, ModelConfig } from './architecture';
import { gpt2 } from './gpt2';
import { llama } from './llama';
import { phi3 } from './phi3';
import { qwen2 } from './qwen2';

export const ARCHITECTURES: Readonly<Record<string, Architecture>> = { gpt2, llama, qwen2, phi3 };

/** What a model_type without an entry is read as. */
const FALLBACK: Architecture = gpt2;

/** The entry for a model_type (the GPT-2 entry for one without its own). */
export function architectureOf(modelType: string): Architecture {
  return Object.hasOwn(ARCHITECTURES, modelType) ? ARCHITECTURES[modelType]! : FALLBACK;
}

/** config.json's model_type, or null when it has none (or not a string) */
function modelTypeOf(raw: unknown): string | null {
  const value =
    typeof raw === 'object' && raw !== null && 'model_type' in raw ? raw.model_type : null;
  return typeof value === 'string' ? value : null;
}

/** config.json's contents, normalised by its family's entry; throws MODEL_FOLDER_INVALID. */
export function readModelConfig(raw: unknown, configPath: string): ModelConfig {
  const modelType = modelTypeOf(raw);
  // without a model_type, GPT-2's rules say what is missing, as they always did
  if (modelType === null || Object.hasOwn(ARCHITECTURES, modelType))
    return architectureOf(modelType ?? FALLBACK.modelType).readConfig(raw, configPath);
  try {
    return FALLBACK.readConfig(raw, configPath);
  } catch (err) {
    if (!(err instanceof SpecDecError)) throw err;
    // "is not a GPT-2 config: <field> <why>. Expected ...", without the path said first
    const gpt2Reason = err.message.startsWith(`${configPath} `)
      ? err.message.slice(configPath.length + 1)
      : err.message;
    throw new SpecDecError(
      err.code,
      `${configPath}: model_type "${modelType}" is not a family the engine runs (it runs ${Object.keys(ARCHITECTURES).join(', ')}); read by GPT-2's rules, as a model_type without an entry is, it ${gpt2Reason}`,
      err.settings,
    );
  }
}
