/**
 * The heat map's colour scale for speedups: 1x (the baseline) is near white, faster shades to
 * green and slower to red, each as far as the grid reaches, so the eye finds where speculation
 * pays. Text on a cell turns white where the shade is dark. Pure presentation.
 */

export interface HeatScale {
  /** the slowest speedup the scale reaches (at most 0.9) */
  min: number;
  /** the fastest (at least 1.1) */
  max: number;
}

/** the scale over every value drawn (measured and predicted alike, so both grids compare) */
export function heatScale(values: ReadonlyArray<number | null>): HeatScale {
  const drawn = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return {
    min: Math.min(0.9, ...drawn),
    max: Math.max(1.1, ...drawn),
  };
}

/** lightness of a cell: 96% at 1x down to 38% (green) or 55% (red) at the scale's ends */
function shade(value: number, scale: HeatScale): { hue: number; sat: number; light: number } {
  if (value >= 1) {
    const t = Math.min(1, (value - 1) / (scale.max - 1));
    return { hue: 142, sat: 55 + 15 * t, light: 96 - 58 * t };
  }
  const t = Math.min(1, (1 - value) / (1 - scale.min));
  return { hue: 0, sat: 60 + 15 * t, light: 96 - 41 * t };
}

export interface CellColours {
  background: string;
  text: string;
}

/** a cell's background and its text colour; a cell without a value is grey */
export function heatColours(value: number | null, scale: HeatScale): CellColours {
  if (value === null || !Number.isFinite(value)) return { background: '#f3f4f6', text: '#6b7280' };
  const { hue, sat, light } = shade(value, scale);
  return {
    background: `hsl(${hue} ${sat.toFixed(0)}% ${light.toFixed(0)}%)`,
    text: light < 58 ? '#ffffff' : '#111827',
  };
}

/** the legend's gradient from min through 1x to max, as CSS */
export function legendGradient(scale: HeatScale): string {
  const stops = [scale.min, (scale.min + 1) / 2, 1, (1 + scale.max) / 2, scale.max];
  const at = (v: number): number => ((v - scale.min) / (scale.max - scale.min)) * 100;
  return `linear-gradient(to right, ${stops
    .map((v) => `${heatColours(v, scale).background} ${at(v).toFixed(1)}%`)
    .join(', ')})`;
}

/** where 1x sits on the legend, 0..100 */
export function legendOnePercent(scale: HeatScale): number {
  return ((1 - scale.min) / (scale.max - scale.min)) * 100;
}
