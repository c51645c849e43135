/** What a benchmarked pair's 4-bit products ran in, for the benchmarks' pair line (bench, tree bench). */
import { q4ComputeWords, type Q4ComputeRan } from '../shared/decoding';

/** ", target: 4-bit products with int8 activations"; empty for a pair without 4-bit products */
export function q4Notes(target: Q4ComputeRan | null, draft: Q4ComputeRan | null): string {
  const t = q4ComputeWords(target);
  const d = q4ComputeWords(draft);
  return `${t ? `, target: ${t}` : ''}${d ? `, draft: ${d}` : ''}`;
}
