/**
 * How the CLI and the report say which families ran and what the prompts went through (the
 * chat template), in one sentence from what every run records.
 */
import type { ChatTemplateUse, RunRow } from '../shared/protocol';

const TEMPLATE_WORDS: Record<ChatTemplateUse, string> = {
  applied: "each prompt rendered as a user's turn in the target's chat template",
  off: 'prompts as written (chat template off)',
  none: 'prompts as written (the target has no chat template)',
};

/** "Families: target llama, draft llama; prompts as written (...)." or null for older rows */
export function pairSentence(
  row: Pick<RunRow, 'targetFamily' | 'draftFamily' | 'chatTemplate'>,
): string | null {
  if (row.targetFamily === undefined && row.chatTemplate === undefined) return null;
  const parts = [
    ...(row.targetFamily !== undefined
      ? [
          `Families: target ${row.targetFamily}${row.draftFamily ? `, draft ${row.draftFamily}` : ''}`,
        ]
      : []),
    ...(row.chatTemplate !== undefined ? [TEMPLATE_WORDS[row.chatTemplate]] : []),
  ];
  const text = parts.join('; ');
  return `${text[0]!.toUpperCase()}${text.slice(1)}.`;
}
