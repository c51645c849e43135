/** The run pickers group runs by configuration (src/renderer/src/lib/runPicker.ts). */
import { describe, expect, it } from 'vitest';
import { groupBy } from '../../src/renderer/src/lib/groupBy';
import { withSections } from '../../src/renderer/src/lib/runPicker';

const SAVED = 'Saved: ';
const configs = ['Baseline', 'K=1', 'K=2'];
/** a sweep's runs as they start: interleaved, one of each configuration per repeat */
const sweep = (group: string, repeats: number) =>
  Array.from({ length: repeats }, (_, r) =>
    configs.map((config) => ({ group, config, label: `${config}, repeat ${r + 1}` })),
  ).flat();

describe('run pickers', () => {
  it('list one group per configuration, in order, the repeats inside', () => {
    const groups = groupBy(withSections(sweep('Sweep 1 (14:02)', 3), SAVED), (c) => c.section);
    expect(groups.map(([name]) => name)).toEqual(['Baseline', 'K=1', 'K=2']);
    expect(groups[2]![1].map((c) => c.label)).toEqual([
      'K=2, repeat 1',
      'K=2, repeat 2',
      'K=2, repeat 3',
    ]);
  });

  it('name the sweep when runs of several are listed, and a saved sweep always', () => {
    const two = withSections([...sweep('Sweep 1', 1), ...sweep('Sweep 2', 1)], SAVED);
    expect(new Set(two.map((c) => c.section)).size).toBe(6);
    expect(two[0]!.section).toBe('Sweep 1 · Baseline');
    const saved = withSections(sweep(`${SAVED}short run`, 2), SAVED);
    expect([...new Set(saved.map((c) => c.section))]).toEqual([
      'Saved: short run · Baseline',
      'Saved: short run · K=1',
      'Saved: short run · K=2',
    ]);
  });

  it('keep step-by-step runs together', () => {
    const live = { group: 'Step by step', config: 'Step by step', label: 'Step by step, K=2' };
    const listed = withSections([...sweep('Sweep 1', 1), live, live], SAVED);
    expect(listed.filter((c) => c.section === 'Step by step')).toHaveLength(2);
  });
});
