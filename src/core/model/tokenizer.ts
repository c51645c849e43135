/** The model folder's tokenizer through transformers.js, strictly offline. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import { SpecDecError, describeError } from '../errors';
import { TOKENIZER_CONFIG_MAX_BYTES, TOKENIZER_MAX_BYTES, regularFileSize } from './modelFiles';

export interface TextTokenizer {
  /** a prompt's ids (a pair's prompt tokenizer renders it in the chat template first: chatTemplate.ts) */
  encode(text: string): number[];
  /** the ids' text; `keepSpecial`: with special tokens (a rendered chat turn's markers) */
  decode(ids: readonly number[], keepSpecial?: boolean): string;
  /** the text of one token as it would print after the tokens before it */
  tokenText(id: number): string;
  vocab(): Map<string, number>;
  readonly eosTokenId: number | null;
  /** tokenizer_config.json has a chat_template (one, or a set with a default), or chat_template.jinja one */
  readonly hasChatTemplate: boolean;
  /**
   * `text` as a user's turn rendered by the chat template, the assistant's turn opened
   * (add_generation_prompt), as ids; TOKENIZER_INVALID when the template cannot render it
   */
  encodeChat(text: string): number[];
}

/**
 * Set on every load: the Hub loader (src/core/hub/hub.ts) switches transformers.js' shared env to
 * remote-only while it downloads, so a flag set once would leave every later folder load refused.
 */
function configureOffline(): void {
  // Model folders are local paths; never reach for the Hub here (the Hub loader is separate).
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = '/';
}

/**
 * The files transformers.js reads whole, and how large each may be: a FIFO would hang its read
 * (and the engine with it), a device or a huge file fill memory.
 */
const TOKENIZER_FILES = [
  ['tokenizer.json', TOKENIZER_MAX_BYTES],
  ['tokenizer_config.json', TOKENIZER_CONFIG_MAX_BYTES],
] as const;

/**
 * Newer exports keep the chat template in its own file beside tokenizer_config.json; transformers.js'
 * AutoTokenizer reads only the config's, so the file's is read here (bounded as the config is).
 */
const CHAT_TEMPLATE_FILE = 'chat_template.jinja';

function chatTemplateFile(dir: string): string | null {
  const path = join(dir, CHAT_TEMPLATE_FILE);
  if (!existsSync(path)) return null;
  regularFileSize(dir, path, TOKENIZER_CONFIG_MAX_BYTES);
  return readFileSync(path, 'utf8');
}

/** Throws MODEL_FOLDER_INVALID when a tokenizer file present in `dir` is not one to read. */
function checkTokenizerFiles(dir: string): void {
  for (const [name, maxBytes] of TOKENIZER_FILES) {
    const path = join(dir, name);
    // a missing one: transformers.js says what is missing
    if (existsSync(path)) regularFileSize(dir, path, maxBytes);
  }
}

export async function loadTokenizer(dir: string): Promise<TextTokenizer> {
  checkTokenizerFiles(resolve(dir));
  configureOffline();
  let tok: PreTrainedTokenizer;
  try {
    tok = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  } catch (err) {
    throw new SpecDecError(
      'TOKENIZER_INVALID',
      `Could not load the tokenizer in ${dir}: ${describeError(err)}. Check tokenizer.json and tokenizer_config.json.`,
    );
  }
  // tokenizer_config.json's template wins, as in transformers
  tok.chat_template ??= chatTemplateFile(resolve(dir));
  const textCache = new Map<number, string>();
  return {
    encode: (text) => tok.encode(text, { add_special_tokens: false }),
    decode: (ids, keepSpecial = false) =>
      tok.decode([...ids], { skip_special_tokens: !keepSpecial }),
    tokenText(id) {
      let text = textCache.get(id);
      if (text === undefined) {
        text = tok.decode([id], { skip_special_tokens: false });
        textCache.set(id, text);
      }
      return text;
    },
    vocab: () => tok.get_vocab() as Map<string, number>,
    eosTokenId: tok.eos_token_id ?? null,
    hasChatTemplate: tok.chat_template !== null && tok.chat_template !== undefined,
    encodeChat(text) {
      try {
        return tok.apply_chat_template([{ role: 'user', content: text }], {
          add_generation_prompt: true,
          tokenize: true,
          return_tensor: false,
          return_dict: false,
        }) as number[];
      } catch (err) {
        throw new SpecDecError(
          'TOKENIZER_INVALID',
          `The chat template in ${join(dir, 'tokenizer_config.json')} could not render the prompt: ${describeError(err)}. Fix the template, or turn the chat template off to feed the prompt as it is.`,
          ['chatTemplate'],
        );
      }
    },
  };
}
