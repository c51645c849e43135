/**
 * The example command lines `specdec --help` and `specdec sweep --help` end with: a first sweep
 * should be one copy-paste away.
 */

const examples = (lines: readonly (readonly [string, string])[]): string =>
  `\nExamples:\n${lines.map(([cmd, what]) => `  # ${what}\n  $ ${cmd}\n`).join('')}`;

export const TOP_EXAMPLES = examples([
  ['specdec sweep', 'the K sweep on the embedded pair (seconds, no download)'],
  ['specdec sweep --pair seed --k 1,2,3,4,5 --repeats 3', "the exercise's pair from the Hub"],
  ['specdec models', 'the Hub models on offer and which are cached'],
  ['specdec serve --port 5199', 'the app in a browser, the engine on this machine'],
  ['specdec sweep --help', 'every sweep flag'],
]);

export const SWEEP_EXAMPLES = examples([
  ['specdec sweep --k 1,2,4 --repeats 5', 'three draft lengths, five measured repeats each'],
  [
    'specdec sweep --pair seed --summary-csv table.csv --report report.md',
    "the exercise's table as CSV, and the analysis as Markdown",
  ],
  [
    'specdec sweep --policy fixed,heuristic --drafter model,prompt-lookup --wide',
    'strategies side by side, every column of the table',
  ],
  ['specdec sweep --temperature 0.8 --seed 1 --csv runs.csv', 'sampled, one CSV row per run'],
  ['specdec sweep --json > sweep.json', 'one JSON document for scripts'],
]);
