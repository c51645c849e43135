/**
 * The one set of number formatters (src/shared/format.ts) that the report, the CLI and the app
 * share: each shape, a dash for what is unknown, and the pairs that differ on purpose.
 */
import { describe, expect, it } from 'vitest';
import {
  count,
  DASH,
  fixed,
  formatMs,
  megabytesPerSecond,
  milliseconds,
  percent,
  percentDone,
  probability,
  seconds,
  shownSeconds,
  times,
  wholePercent,
} from '../../src/shared/format';

describe('shared number formatters', () => {
  it('format plain numbers as the report and the app show them', () => {
    expect(fixed(0.4567, 2)).toBe('0.46');
    expect(count(12)).toBe('12');
    expect(count(12.5)).toBe('12.5');
    expect(probability(0.7142857)).toBe('0.714');
    expect(times(1.2329)).toBe('1.23x');
    expect(percent(0.4567)).toBe('45.7%');
    expect(wholePercent(0.4567)).toBe('46%');
    expect(seconds(1.23456)).toBe('1.235 s');
    expect(seconds(12.3456)).toBe('12.35 s');
    expect(shownSeconds(1.23456)).toBe(1.235);
    expect(shownSeconds(12.3456)).toBe(12.35);
  });

  it('show a dash for null, undefined and non-finite values', () => {
    for (const unknown of [null, undefined, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(fixed(unknown, 2)).toBe(DASH);
      expect(count(unknown)).toBe(DASH);
      expect(times(unknown)).toBe(DASH);
      expect(percent(unknown)).toBe(DASH);
      expect(wholePercent(unknown)).toBe(DASH);
      expect(percentDone(unknown)).toBe(DASH);
      expect(seconds(unknown)).toBe(DASH);
      expect(milliseconds(unknown)).toBe(DASH);
      expect(formatMs(unknown)).toBe(DASH);
      expect(megabytesPerSecond(unknown)).toBe(DASH);
    }
  });

  it('keep the pairs that differ on purpose apart', () => {
    // whole percents: prose rounds to nearest, progress rounds down (100% only when done)
    expect(wholePercent(0.999)).toBe('100%');
    expect(percentDone(0.999)).toBe('99%');
    // pass times: the report keeps one unit, a value on its own changes unit with its size
    expect(milliseconds(1.356)).toBe('1.36 ms');
    expect(formatMs(1.356)).toBe('1.4 ms');
    expect(milliseconds(742)).toBe('742.0 ms');
    expect(formatMs(742)).toBe('742 ms');
    expect(milliseconds(1520)).toBe('1520.0 ms');
    expect(formatMs(1520)).toBe('1.52 s');
  });
});
