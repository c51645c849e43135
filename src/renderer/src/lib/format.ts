/**
 * Labels, token text and dates for the app's table, tooltips and history. Numbers are formatted
 * by src/shared/format.ts, which the report and the CLI share.
 */
import type { DecodeMode } from '../../../shared/events';

/** "Baseline", "K=3", or "K=3 alpha 0.8" under controlled acceptance (as the summary labels it) */
export function modeLabel(
  mode: DecodeMode,
  k: number | null,
  acceptanceTarget: number | null = null,
): string {
  if (mode === 'baseline') return 'Baseline';
  if (mode === 'baseline-no-cache') return 'Baseline (no KV cache)';
  return acceptanceTarget === null ? `K=${k ?? '?'}` : `K=${k ?? '?'} alpha ${acceptanceTarget}`;
}

/** A token's text made visible: spaces and line breaks shown as symbols for tooltips. */
export function visibleText(text: string): string {
  if (text === '') return '(empty)';
  return JSON.stringify(text);
}

export function dateTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** A file-name-safe time stamp, e.g. 2025-01-31T10-42-07. */
export function fileStamp(date = new Date()): string {
  return date.toISOString().slice(0, 19).replace(/:/g, '-');
}

/** hours and minutes of an epoch time, e.g. 14:02 */
export function clockTime(epochMs: number): string {
  return new Date(epochMs).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}
