/**
 * The stream's tokens as plain spans. A 400-token sweep draws about 1,800 of them; as one Svelte
 * component each (five deriveds and a dozen attribute effects apiece) creating and destroying
 * them was the largest script cost of a streaming frame, and a frame that swapped one run's
 * stream for the next was a long task. Here a token is a view (class, attributes, text: pure, see
 * tokenView) and SpanList draws a list of views into a container, reusing each key's span and
 * writing only what changed, so appending tokens touches the new spans alone, and moving the
 * roving tab stop or the current step rewrites two attributes instead of a chunk.
 */
import { visibleText } from './format';
import type { StreamLoop, StreamToken } from './stream';
import { TOKEN_KINDS } from './tokenKinds';

/** what the reader sees of one token; attributes set to null are absent */
export interface TokenView {
  readonly key: number;
  readonly className: string;
  readonly text: string;
  readonly attrs: Readonly<Record<string, string | null>>;
}

export interface TokenViewOptions {
  /** the one token reached with Tab (roving tabindex); the others by arrow keys */
  tabbable: boolean;
  /** the shared tooltip's id (it describes whichever token is hovered or focused) */
  describedBy: string;
  loop: StreamLoop | null;
  /** this rejected draft is the marker for this many folded ones (itself included), or null */
  folded: number | null;
  /** its step is the one on screen while stepping */
  current: boolean;
}

export function tokenView(token: StreamToken, index: number, o: TokenViewOptions): TokenView {
  // A loop is marked once, on its first token (the line above the stream names the cycle).
  const loopStart = o.loop !== null && token.outputIndex === o.loop.start;
  const meta = TOKEN_KINDS[token.kind];
  const folded = o.folded;
  let label: string;
  if (token.kind === 'prompt') label = `Prompt: ${token.text}`;
  else if (folded !== null)
    label = `${folded} rejected draft${folded === 1 ? '' : 's'} at step ${token.step ?? '?'}, folded: press Enter or click to show them`;
  else {
    const kind = token.unchecked ? 'Rejected (discarded, not checked)' : meta.label;
    const loop = loopStart ? ' (the loop begins here)' : '';
    label = `${kind}: ${visibleText(token.text)}${loop}`;
  }
  let className = `tok ${token.kind}`;
  if (token.unchecked && folded === null) className += ' unchecked';
  if (folded !== null) className += ' folded';
  if (o.current) className += ' current';
  if (loopStart) className += ' loop-start';
  const step = token.step === null ? null : String(token.step);
  return {
    key: token.key,
    className,
    text: folded !== null ? `\u2715${folded}` : token.text === '' ? '\u2205' : token.text,
    attrs: {
      role: 'option',
      'aria-selected': String(o.tabbable),
      'aria-label': label,
      'aria-describedby': o.describedBy,
      tabindex: o.tabbable ? '0' : '-1',
      'data-testid': folded !== null ? 'rejected-fold' : 'token',
      'data-kind': token.kind,
      'data-index': String(index),
      'data-step': step,
      'data-fold-step': folded !== null ? step : null,
      'data-loop': loopStart ? 'start' : null,
      'data-letter': meta.letter,
    },
  };
}

/** Draws views into one container: a span per key, reused while the key stays. */
export class SpanList {
  private drawn = new Map<number, { span: HTMLSpanElement; view: TokenView }>();

  draw(container: HTMLElement, views: readonly TokenView[]): void {
    const next = new Map<number, { span: HTMLSpanElement; view: TokenView }>();
    // Walk the container once: a span already in place stays put (moving a node would drop its
    // focus), a new or displaced one goes in before the cursor, what is left over goes.
    let cursor = container.firstChild;
    for (const view of views) {
      const old = this.drawn.get(view.key);
      const span = old?.span ?? document.createElement('span');
      apply(span, old?.view, view);
      next.set(view.key, { span, view });
      if (span === cursor) cursor = cursor.nextSibling;
      else container.insertBefore(span, cursor);
    }
    while (cursor) {
      const after = cursor.nextSibling;
      cursor.remove();
      cursor = after;
    }
    this.drawn = next;
  }
}

/** write what differs between the span's last view (none: a new span) and this one */
function apply(span: HTMLSpanElement, old: TokenView | undefined, view: TokenView): void {
  if (old === undefined || old.className !== view.className) span.className = view.className;
  if (old === undefined || old.text !== view.text) span.textContent = view.text;
  for (const [name, value] of Object.entries(view.attrs)) {
    if (old !== undefined && old.attrs[name] === value) continue;
    if (value === null) span.removeAttribute(name);
    else span.setAttribute(name, value);
  }
}
