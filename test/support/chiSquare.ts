/**
 * The chi-square goodness-of-fit test the sampling tests use: does a sampler's output follow a
 * given distribution, at a false-alarm rate of 0.1%.
 */

/** Wilson-Hilferty approximation of the chi-square quantile for a 0.1% false-alarm rate. */
export function chiSquareCritical(df: number): number {
  const z = 3.0902; // standard normal quantile at 0.999
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

/** chi-square statistic of observed counts against expected probabilities (small bins pooled) */
export function chiSquare(
  counts: Map<number, number>,
  p: Float64Array,
  n: number,
): { stat: number; df: number } {
  let stat = 0;
  let bins = 0;
  let restObs = 0;
  let restExp = 0;
  for (let t = 0; t < p.length; t++) {
    const exp = p[t]! * n;
    const obs = counts.get(t) ?? 0;
    if (exp >= 5) {
      stat += (obs - exp) ** 2 / exp;
      bins++;
    } else {
      restObs += obs;
      restExp += exp;
    }
  }
  if (restExp > 0) {
    stat += (restObs - restExp) ** 2 / restExp;
    bins++;
  }
  return { stat, df: bins - 1 };
}

/**
 * The p-value of a chi-square statistic (the chance of one at least as large when the counts do
 * follow the distribution), by the same Wilson-Hilferty approximation: for reporting.
 */
export function chiSquarePValue(stat: number, df: number): number {
  const a = 2 / (9 * df);
  const z = (Math.cbrt(stat / df) - (1 - a)) / Math.sqrt(a);
  return normalUpperTail(z);
}

/** P(Z > z) for a standard normal Z (Abramowitz and Stegun 7.1.26, error under 1.5e-7) */
function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}
