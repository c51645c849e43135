/**
 * Every run's event list, kept in memory so any finished run can be replayed or exported.
 * The event arrays are plain (not reactive): they grow by thousands of events per run and only
 * the views derived from them need to update, once per frame. `choices` is the reactive list
 * the run pickers show, grouped by configuration (`selectable`).
 */
import type { EngineEvent, RunEndEvent, RunMetrics, RunStartEvent } from '../../../shared/events';
import { modeLabel } from '../lib/format';
import type { DraftPolicyName, DrafterKind } from '../../../shared/decoding';
import { strategyName } from '../../../results/strategy';
import { treeName } from '../../../results/summary';
import { withSections } from '../lib/runPicker';

export interface RunLog {
  readonly runId: string;
  readonly start: RunStartEvent;
  readonly events: EngineEvent[];
  /** selector label, e.g. "K=3, repeat 2" */
  readonly label: string;
  /** where it ran, e.g. "Sweep 1 (14:02)" */
  readonly group: string;
  /** its configuration, e.g. "K=3" or "Baseline" (the pickers' groups) */
  readonly config: string;
  /** controlled acceptance's target A (an oracle run); null for real drafting */
  readonly acceptanceTarget: number | null;
  end: RunEndEvent | null;
  /** metrics of the last step-end (tokens so far) */
  lastMetrics: RunMetrics | null;
}

export interface RunChoice {
  runId: string;
  label: string;
  /** where it ran: "Sweep 1 (14:02)", "Saved: <name>", "Step by step" */
  group: string;
  /** its configuration: "Baseline", "K=2", "K=2 model / heuristic" */
  config: string;
  finished: boolean;
  /** a run of a saved sweep whose events are fetched from the engine when it is chosen */
  savedIn?: string;
  /** controlled acceptance's target A; null or absent for real drafting */
  acceptanceTarget?: number | null;
}

/** how the groups of saved runs start ("Saved: <its name>") */
export const SAVED = 'Saved: ';

export interface RunLabel {
  label: string;
  group: string;
  config: string;
  /** controlled acceptance's target A, kept on the log (the tree panel names the oracle) */
  acceptanceTarget?: number | null;
}

/** a choice with the picker group it is listed under */
export type PickerChoice = RunChoice & { section: string };

export class RunStore {
  choices = $state.raw<readonly RunChoice[]>([]);
  /** the saved sweep on show's runs (History): replayable once their events are fetched */
  saved = $state.raw<readonly RunChoice[]>([]);
  // Plain on purpose: thousands of events per run must not each notify the UI; `choices` and the
  // replay's per-frame sync are the reactive surface.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly logs = new Map<string, RunLog>();
  private dirty = false;

  get(runId: string | null): RunLog | null {
    return runId === null ? null : (this.logs.get(runId) ?? null);
  }

  /**
   * what the run pickers list: this window's runs, then the saved sweep's in its own order
   * (a saved run fetched for replay is listed there, not among this window's), each under its
   * configuration (lib/runPicker.ts)
   */
  get selectable(): PickerChoice[] {
    const saved = new Set(this.saved.map((c) => c.runId)); // eslint-disable-line svelte/prefer-svelte-reactivity -- a lookup, discarded at once
    const own = this.choices.filter((c) => !(saved.has(c.runId) && c.group.startsWith(SAVED)));
    return withSections([...own, ...this.saved], SAVED);
  }

  savedChoice(runId: string): RunChoice | null {
    return this.saved.find((c) => c.runId === runId) ?? null;
  }

  /**
   * Store a batch of events; a run-start opens a new log named by `name`. Returns the ids of
   * runs that started in this batch, in order.
   */
  append(events: readonly EngineEvent[], name: (start: RunStartEvent) => RunLabel): string[] {
    const started: string[] = [];
    for (const event of events) {
      let log = this.logs.get(event.runId);
      if (event.type === 'run-start') {
        const { label, group, config, acceptanceTarget } = name(event);
        log = {
          runId: event.runId,
          start: event,
          events: [],
          label,
          group,
          config,
          acceptanceTarget: acceptanceTarget ?? null,
          end: null,
          lastMetrics: null,
        };
        this.logs.set(event.runId, log);
        started.push(event.runId);
        this.dirty = true;
      }
      if (!log) {
        console.warn(`Dropped a ${event.type} event of an unknown run ${event.runId}`);
        continue;
      }
      log.events.push(event);
      if (event.type === 'step-end') log.lastMetrics = event.metrics;
      else if (event.type === 'run-end') {
        log.end = event;
        log.lastMetrics = event.metrics;
        this.dirty = true;
      }
    }
    return started;
  }

  /** Refresh the selector's list (once per frame, only when a run started or ended). */
  publish(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.choices = [...this.logs.values()].map((log) => ({
      runId: log.runId,
      label: log.label,
      group: log.group,
      config: log.config,
      finished: log.end !== null,
    }));
  }
}

export interface RunLabelParts {
  /** 0-based; null when unknown */
  repeat: number | null;
  repeats: number;
  /** named when the sweep compares policies or drafters */
  strategy: { policy: DraftPolicyName | null; drafter: DrafterKind | null } | null;
  /** 0-based; named when the sweep has several prompts */
  promptIndex: number | null;
  /** controlled acceptance's target A ("K=3 alpha 0.8"); null or absent for real drafting */
  acceptanceTarget?: number | null;
  /** a token tree's shape or budget and its verification ("tree 3,2,1"); null or absent for chains */
  tree?: RunTreeLabel | null;
}

/** what names a token tree's run: its shape or node budget, and how it was verified */
export interface RunTreeLabel {
  shape?: readonly number[];
  budget?: number;
  verify: string;
}

/**
 * "Baseline" / "K=3" ("K=3 alpha 0.8" when controlled; "tree 3,2,1 alpha 0.8" as the summary
 * names a controlled tree), with the drafter and policy when the sweep compares them
 */
export function runConfig(
  start: Pick<RunStartEvent, 'mode' | 'k'>,
  strategy: RunLabelParts['strategy'],
  acceptanceTarget: number | null = null,
  tree: RunTreeLabel | null = null,
): string {
  // as the summary labels trees: "tree 3,2,1", "tree 3,2,1 rows" when verified as rows
  if (start.mode === 'speculative' && tree) {
    const alpha = acceptanceTarget === null ? '' : ` alpha ${acceptanceTarget}`;
    return `tree ${treeName(tree)}${tree.verify === 'rows' ? ' rows' : ''}${alpha}`;
  }
  const config = modeLabel(start.mode, start.k, acceptanceTarget);
  return start.mode === 'speculative' && strategy ? `${config} ${strategyName(strategy)}` : config;
}

/**
 * The run's configuration (runConfig), the prompt when there are several and the repeat when
 * there are several: "K=3 model / heuristic, prompt 2, repeat 1".
 */
export function runLabel(start: Pick<RunStartEvent, 'mode' | 'k'>, parts: RunLabelParts): string {
  let label = runConfig(start, parts.strategy, parts.acceptanceTarget ?? null, parts.tree ?? null);
  if (parts.promptIndex !== null) label += `, prompt ${parts.promptIndex + 1}`;
  if (parts.repeat !== null && parts.repeats > 1) label += `, repeat ${parts.repeat + 1}`;
  return label;
}
