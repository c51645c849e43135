/**
 * What the terminal shows while a sweep works: a progress bar over the runs on stderr, so stdout
 * stays the results alone (Ctrl+C and the other stop signals: stopSignals.ts).
 */
import { SingleBar, Presets } from 'cli-progress';
import { variantLabel } from '../../results/summary';
import type { ExperimentHooks } from '../../lab/experiment';

export interface RunProgress {
  /** the experiment's hooks that move the bar */
  hooks: ExperimentHooks;
  stop(): void;
}

/**
 * "{bar} 3/14 runs | K=2 (repeat 1/3, prompt 2/5) | 40 tokens": the run, its repeat and prompt,
 * and the tokens it has made so far. `strategies`: runs are labelled with policy and drafter.
 */
export function runProgressBar(
  promptCount: number,
  repeats: number,
  strategies: boolean,
): RunProgress {
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: '{bar} {value}/{total} runs | {label} | {tokens} tokens',
      hideCursor: true,
      clearOnComplete: true,
    },
    Presets.shades_classic,
  );
  let tokens = 0;
  return {
    hooks: {
      onRunStart: (run) => {
        if (run.index === 0) bar.start(run.total, 0, { label: '', tokens: 0 });
        tokens = 0;
        const where = promptCount > 1 ? `, prompt ${run.promptIndex + 1}/${promptCount}` : '';
        const label = `${variantLabel(run, strategies)} (repeat ${run.repeat + 1}/${repeats}${where})`;
        bar.update(run.index, { label, tokens });
      },
      onEvent: (ev) => {
        if (ev.type === 'step-end') {
          tokens = ev.metrics.newTokens;
          bar.update({ tokens });
        }
      },
      onRunEnd: () => bar.increment(),
    },
    stop: () => bar.stop(),
  };
}
