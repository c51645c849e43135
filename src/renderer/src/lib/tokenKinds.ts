/**
 * How each token kind is named and marked. Each kind has its colour and at most one mark (none
 * for the common accepted and target-only text, so it reads as text); colour is never the only
 * signal: every kind has a name (aria-label, tooltip, legend) and an optional superscript letter.
 */
import type { TokenKind } from './stream';

export interface KindMeta {
  label: string;
  letter: string;
  /** the colour and the one mark, in words, for the legend */
  pattern: string;
  description: string;
}

export const TOKEN_KINDS: Record<TokenKind, KindMeta> = {
  prompt: {
    label: 'Prompt',
    letter: 'P',
    pattern: 'italic',
    description: 'the text you gave',
  },
  draft: {
    label: 'Pending draft',
    letter: 'D',
    pattern: 'grey, dashed box',
    description: 'proposed by the draft model, not verified yet',
  },
  accepted: {
    label: 'Accepted',
    letter: 'A',
    pattern: 'green, no mark',
    description: 'a draft token the target agreed with',
  },
  rejected: {
    label: 'Rejected',
    letter: 'R',
    pattern: 'red, struck through',
    description: 'a draft token the target disagreed with (faded: discarded after it)',
  },
  correction: {
    label: 'Correction',
    letter: 'C',
    pattern: 'amber, underlined',
    description: "the target's own token at the first mismatch",
  },
  bonus: {
    label: 'Bonus',
    letter: 'B',
    pattern: 'blue, dotted underline',
    description: "the target's extra token when every draft was accepted",
  },
  target: {
    label: 'Target only',
    letter: 'T',
    pattern: 'dark on grey, no mark',
    description: 'made by the target alone (the baseline, or no room left to draft)',
  },
};

export const KIND_ORDER: readonly TokenKind[] = [
  'prompt',
  'draft',
  'accepted',
  'rejected',
  'correction',
  'bonus',
  'target',
];
