/**
 * `--json`: the sweep as one JSON document (what ran, on what, every run, the summary, and the
 * K x alpha grid when acceptance was controlled).
 */
import { sweepAcceptanceGrid } from '../../results/acceptanceGrid';
import {
  bestOf,
  summarizeByPrompt,
  summarizeRows,
  variantLabel,
  type SummaryRow,
} from '../../results/summary';
import {
  expectedSpeedup,
  expectedSpeedupMeasuredCost,
  predictedMeasuredCost,
} from '../../results/theory';
import type { SweepRun } from '../../core/experiment/sweep';
import type { SweepOutcome } from './outcome';

/** `best` in the JSON: the verdict (results/summary bestOf), as the table, the app and the report tell it. */
function bestJson(summary: readonly SummaryRow[]) {
  const best = bestOf(summary);
  if (!best) return null;
  return {
    label: variantLabel(best.row, true),
    k: best.row.k,
    // a token tree's shape or budget and how it was verified (K is then its depth)
    ...(best.row.tree ? { tree: best.row.tree } : {}),
    speedup: best.row.speedup!.median,
    tiedWith: best.tiedWith.map((r) => variantLabel(r, true)),
    beatBaseline: best.beatBaseline,
    noiseMeasured: best.noiseMeasured,
    rule: best.rule,
  };
}

export function sweepJsonDocument(outcome: SweepOutcome) {
  const { prompts, config, opened, providers, result } = outcome;
  const { pair } = opened;
  const { rows, theory } = result;
  const { costs } = result;
  // a controlled run is predicted at its own alpha, the target, with the pair's measured costs
  // a token tree has no chain prediction (Leviathan's formulas are for chains)
  const predicted = (r: SweepRun): number | null => {
    if (r.mode !== 'speculative' || r.k === null || r.tree) return null;
    if (r.acceptanceTarget !== null)
      return costs && expectedSpeedup(r.acceptanceTarget, costs.c, r.k);
    return theory && r.drafter === 'model' ? expectedSpeedup(theory.alpha, theory.c, r.k) : null;
  };
  const predictedMeasured = (r: SweepRun): number | null => {
    if (r.mode !== 'speculative' || r.k === null || r.tree) return null;
    if (r.acceptanceTarget !== null) {
      const v = costs?.verifyCost[String(r.k)];
      return costs && v !== undefined
        ? expectedSpeedupMeasuredCost(r.acceptanceTarget, costs.c, r.k, v)
        : null;
    }
    return r.drafter === 'model' ? predictedMeasuredCost(theory, r.k) : null;
  };
  return {
    config: {
      ...config,
      target: opened.target.repo ?? pair.target.folder.dir,
      draft: opened.draft?.repo ?? pair.draft?.folder.dir ?? null,
      executionProviders: { target: providers.target, draft: providers.draft },
      kvLocations: { target: providers.targetKv, draft: providers.draftKv },
      graphs: { target: providers.targetGraph, draft: providers.draftGraph },
      // what each model's 4-bit MatMulNBits products ran in (int8, float, mixed, exported; null:
      // none in the file), as --q4-compute asked (q4ComputeChoice)
      q4Compute: { target: pair.target.lm.q4Compute, draft: pair.draft?.lm.q4Compute ?? null },
      q4ComputeChoice: outcome.opts.q4Compute,
      // each model's config.json model_type, and what every prompt went through
      family: {
        target: pair.target.folder.config.modelType,
        draft: pair.draft?.folder.config.modelType ?? null,
      },
      chatTemplate: pair.chatTemplate,
      // a pair whose logit widths differ is compared over the ids both have: {compared, target, draft}
      logitWidths: pair.logitWidths,
      // the CPU provider's threads for one operator (a count: 0 asked for one per physical core)
      threads: { target: pair.target.lm.threads, draft: pair.draft?.lm.threads ?? null },
      providerChoice: {
        target: pair.target.lm.providerChoice,
        draft: pair.draft?.lm.providerChoice ?? null,
      },
    },
    cancelled: result.cancelled,
    theory,
    runs: result.runs.map((r, i) => ({
      ...rows[i]!,
      predictedSpeedup: predicted(r),
      predictedSpeedupMeasuredCost: predictedMeasured(r),
      executionProviders: { target: providers.target, draft: providers.draft },
    })),
    summary: summarizeRows(rows),
    best: bestJson(summarizeRows(rows)),
    // the K x alpha picture the report and the CLI's sentences are written from; null without --acceptance
    acceptanceGrid: sweepAcceptanceGrid(rows, costs, theory),
    ...(prompts.length > 1 ? { byPrompt: summarizeByPrompt(rows) } : {}),
  };
}
