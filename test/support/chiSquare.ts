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
