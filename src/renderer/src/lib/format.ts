/** Number and label formatting shared by the table, the tooltips and the progress line. */
import type { DecodeMode } from '../../../shared/events';

export const DASH = '-';

export function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? DASH
    : value.toFixed(digits);
}

/** Whole numbers as such, medians of two counts with one decimal. */
export function count(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

export function percent(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? DASH
    : `${(value * 100).toFixed(1)}%`;
}

export function probability(value: number | null | undefined): string {
  return fixed(value, 3);
}

export function times(value: number | null | undefined): string {
  const text = fixed(value, 2);
  return text === DASH ? text : `${text}x`;
}

export function modeLabel(mode: DecodeMode, k: number | null): string {
  if (mode === 'baseline') return 'Baseline';
  if (mode === 'baseline-no-cache') return 'Baseline (no KV cache)';
  return `K=${k ?? '?'}`;
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
