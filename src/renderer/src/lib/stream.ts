/**
 * Folds a run's engine events into the tokens the stream shows. Pure TypeScript, no Svelte: the
 * live view applies new events as they arrive, the replay re-folds a prefix of the event list.
 *
 * Token objects are never mutated: a verdict or an emit replaces the token with a new object, so
 * a view holding an older copy of `tokens` stays consistent and keyed lists see what changed.
 */
import type { EngineEvent } from '../../../shared/events';
import { detectRepetition, type Repetition } from '../../../results/loops';

export type TokenKind =
  'prompt' | 'draft' | 'accepted' | 'rejected' | 'correction' | 'bonus' | 'target';

export interface StreamToken {
  /** unique within the run, stable across verdicts */
  readonly key: number;
  readonly kind: TokenKind;
  readonly text: string;
  /** null for the prompt, which is shown as one block */
  readonly tokenId: number | null;
  readonly step: number | null;
  readonly position: number | null;
  readonly draftProb: number | null;
  readonly targetProb: number | null;
  /** a rejected draft the target never judged, because an earlier draft was already rejected */
  readonly unchecked: boolean;
  /** prompt block only: how many tokens the prompt has */
  readonly promptTokens?: number;
  /** prompt block only, with a chat template applied: the template's text around the prompt */
  readonly template?: PromptTemplate;
  /** its index among the run's new tokens (0 = the first), once emitted; null before */
  readonly outputIndex: number | null;
}

/**
 * The chat template's text before and after the typed prompt in what the models read; `found`
 * false when the typed text is not inside it as written (then `before` is the whole rendering).
 */
export interface PromptTemplate {
  before: string;
  after: string;
  found: boolean;
}

/** the template's parts around `typed` in `rendered` (its last occurrence: the user's turn) */
export function templateParts(rendered: string, typed: string): PromptTemplate {
  const at = typed === '' ? -1 : rendered.lastIndexOf(typed);
  if (at < 0) return { before: rendered, after: '', found: false };
  return { before: rendered.slice(0, at), after: rendered.slice(at + typed.length), found: true };
}

export class StreamBuilder {
  readonly tokens: StreamToken[] = [];
  /** the step of the last event applied (0 before the first step) */
  step = 0;
  done = false;
  private nextKey = 0;
  /** new tokens emitted so far */
  private emitted = 0;
  /** indices into `tokens` of the current step's drafts, by draft index */
  private drafts: number[] = [];

  reset(): void {
    this.tokens.length = 0;
    this.step = 0;
    this.done = false;
    this.nextKey = 0;
    this.emitted = 0;
    this.drafts = [];
  }

  apply(event: EngineEvent): void {
    switch (event.type) {
      case 'run-start':
        this.reset();
        this.push({
          kind: 'prompt',
          text: event.promptText,
          tokenId: null,
          step: null,
          position: null,
          draftProb: null,
          targetProb: null,
          unchecked: false,
          promptTokens: event.promptTokenIds.length,
          outputIndex: null,
          ...(event.renderedPrompt !== undefined && {
            template: templateParts(event.renderedPrompt, event.promptText),
          }),
        });
        return;
      case 'draft':
        this.step = event.step;
        this.drafts[event.index] = this.tokens.length;
        this.push({
          kind: 'draft',
          text: event.text,
          tokenId: event.tokenId,
          step: event.step,
          position: event.position,
          draftProb: event.draftProb,
          targetProb: null,
          unchecked: false,
          outputIndex: null,
        });
        return;
      case 'verify':
        this.step = event.step;
        event.verdicts.forEach((verdict, i) => {
          const at = this.drafts[i];
          const token = at === undefined ? undefined : this.tokens[at];
          if (at === undefined || !token) return;
          this.tokens[at] = {
            ...token,
            kind: verdict === 'accepted' ? 'accepted' : 'rejected',
            unchecked: verdict === 'unchecked',
            targetProb: event.targetProbs?.[i] ?? null,
          };
        });
        return;
      case 'emit': {
        this.step = event.step;
        if (event.kind === 'accepted') {
          // The accepted draft is already on screen: give it the emit's probabilities. A token
          // tree drafts siblings at one position: the accepted one is the verdict's, not the first.
          const at = this.drafts.find((i) => {
            const t = this.tokens[i];
            return t?.position === event.position && t.kind !== 'rejected';
          });
          const token = at === undefined ? undefined : this.tokens[at];
          if (at !== undefined && token) {
            this.tokens[at] = {
              ...token,
              kind: 'accepted',
              draftProb: event.draftProb ?? token.draftProb,
              targetProb: event.targetProb ?? token.targetProb,
              outputIndex: this.emitted++,
            };
            return;
          }
        }
        this.push({
          kind: event.kind,
          text: event.text,
          tokenId: event.tokenId,
          step: event.step,
          position: event.position,
          draftProb: event.draftProb,
          targetProb: event.targetProb,
          unchecked: false,
          outputIndex: this.emitted++,
        });
        return;
      }
      case 'step-end':
        this.step = event.step;
        this.drafts = [];
        return;
      case 'run-end':
        this.done = true;
        this.drafts = [];
        return;
    }
  }

  private push(token: Omit<StreamToken, 'key'>): void {
    this.tokens.push({ key: this.nextKey++, ...token });
  }
}

/** The tokens after the first `count` events, folded from scratch. */
export function tokensAt(events: readonly EngineEvent[], count: number): StreamToken[] {
  const builder = new StreamBuilder();
  for (let i = 0; i < Math.min(count, events.length); i++) builder.apply(events[i]!);
  return builder.tokens;
}

/**
 * Where the stream's new tokens fall into a repeating cycle (the same detection as the results,
 * src/results/loops.ts), with the cycle's text; null while they do not. `previous` is returned
 * as is when the loop did not change, so views keyed on it do not redraw.
 */
export interface StreamLoop extends Repetition {
  /** the text of one cycle, as first seen */
  cycleText: string;
}

export function streamLoop(
  tokens: readonly StreamToken[],
  previous: StreamLoop | null = null,
): StreamLoop | null {
  const output: StreamToken[] = [];
  for (const t of tokens) if (t.outputIndex !== null) output[t.outputIndex] = t;
  const ids = output.map((t) => t?.tokenId ?? -1);
  const found = detectRepetition(ids);
  if (!found) return null;
  if (previous && previous.start === found.start && previous.period === found.period) {
    return previous;
  }
  const cycleText = output
    .slice(found.start, found.start + found.period)
    .map((t) => t?.text ?? '')
    .join('');
  return { ...found, cycleText };
}

/** A token's place in the loop: the first token of a cycle, a later one, or outside it. */
export function loopRole(
  token: StreamToken,
  loop: Repetition | null,
): 'cycle-start' | 'in-loop' | null {
  if (!loop || token.outputIndex === null || token.outputIndex < loop.start) return null;
  return (token.outputIndex - loop.start) % loop.period === 0 ? 'cycle-start' : 'in-loop';
}
