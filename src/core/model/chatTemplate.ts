/**
 * How a pair turns a prompt into ids: as it is, or rendered by the target's chat template (an
 * instruct model's prompts are chat turns). A draft with a template of its own must render every
 * prompt to the same ids, or the pair is refused naming where they part.
 */
import { SpecDecError } from '../errors';
import type { ChatTemplateUse } from '../../shared/history';
import type { TextTokenizer } from './tokenizer';

/** auto: the target's chat template where its tokenizer has one; off: the prompt as it is */
export type ChatTemplateChoice = 'auto' | 'off';
export const CHAT_TEMPLATE_CHOICES: readonly ChatTemplateChoice[] = ['auto', 'off'];

/** one model's tokenizer and the folder it came from (for messages) */
interface Side {
  dir: string;
  tokenizer: TextTokenizer;
}

/** what the pair does with a prompt: 'applied', 'off' (asked), 'none' (the target has no template) */
export function chatTemplateUse(
  target: TextTokenizer,
  choice: ChatTemplateChoice,
): ChatTemplateUse {
  if (choice === 'off') return 'off';
  return target.hasChatTemplate ? 'applied' : 'none';
}

const shown = (tokenizer: TextTokenizer, id: number | undefined): string =>
  id === undefined ? 'the end' : `id ${id} ${JSON.stringify(tokenizer.tokenText(id))}`;

/** Throws PAIR_MISMATCH naming the first position where the draft's rendering parts. */
function checkSameRendering(target: Side, draft: Side, ids: number[], other: number[]): void {
  const n = Math.max(ids.length, other.length);
  for (let i = 0; i < n; i++) {
    if (ids[i] === other[i]) continue;
    throw new SpecDecError(
      'PAIR_MISMATCH',
      `The chat templates of the target ${target.dir} and the draft ${draft.dir} render the prompt differently: at token ${i + 1} of ${ids.length}, the target's has ${shown(target.tokenizer, ids[i])} and the draft's ${shown(target.tokenizer, other[i])}. Give a draft whose tokenizer_config.json has the target's chat_template, or turn the chat template off to feed the prompt as it is.`,
      ['chatTemplate'],
    );
  }
}

/**
 * The pair's prompt tokenizer: the target's, whose `encode` renders a prompt in its chat template
 * when `use` is 'applied' (checked against the draft's rendering where the draft has a template;
 * a draft without one is fed the target's ids as every draft is).
 */
export function promptTokenizer(
  target: Side,
  draft: Side | null,
  use: ChatTemplateUse,
): TextTokenizer {
  if (use !== 'applied') return target.tokenizer;
  const encode = (text: string): number[] => {
    const ids = target.tokenizer.encodeChat(text);
    if (draft?.tokenizer.hasChatTemplate)
      checkSameRendering(target, draft, ids, draft.tokenizer.encodeChat(text));
    return ids;
  };
  return { ...target.tokenizer, encode };
}
