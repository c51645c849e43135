/**
 * The run pickers' groups (the Run selector, the Race's two): one per configuration, so 21 runs
 * read as 7 groups of repeats instead of one flat list. Pure, so it can be unit-tested.
 */

/** what a picker groups a run by */
export interface PickerSource {
  /** where it ran: "Sweep 1 (14:02)", "Saved: <name>", "Step by step" */
  group: string;
  /** its configuration: "Baseline", "K=2", "K=2 model / heuristic" */
  config: string;
}

/**
 * The group a run is listed under: its configuration ("K=2"), after where it ran when the list
 * holds runs from more than one place, and always for a saved sweep's ("Saved: <name> · K=2");
 * step-by-step runs (whose group is their configuration) stay together.
 */
export function pickerSection(
  choice: PickerSource,
  severalSources: boolean,
  savedPrefix: string,
): string {
  if (choice.group === choice.config) return choice.group;
  return severalSources || choice.group.startsWith(savedPrefix)
    ? `${choice.group} · ${choice.config}`
    : choice.config;
}

/** Each choice with its picker group; groups list in the order of their first run. */
export function withSections<T extends PickerSource>(
  choices: readonly T[],
  savedPrefix: string,
): Array<T & { section: string }> {
  const severalSources = new Set(choices.map((c) => c.group)).size > 1;
  return choices.map((c) => ({ ...c, section: pickerSection(c, severalSources, savedPrefix) }));
}
