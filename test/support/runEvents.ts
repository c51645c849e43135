/**
 * A run's events collected to the end, and the invariants every run's events satisfy (as
 * engine.test.ts checks them on GPT-2, and the family tests on theirs): each output token emitted once at its position, the
 * emitted kinds adding up to the metrics, one target pass per verification or target-only token.
 */
import { expect } from 'vitest';
import type { BaselineRun } from '../../src/core/decoding/baseline';
import type { RunResult } from '../../src/core/decoding/decodeRun';
import type { SpeculativeRun } from '../../src/core/decoding/speculative';
import type { EngineEvent } from '../../src/shared/events';

export async function collect(
  run: BaselineRun | SpeculativeRun,
): Promise<{ events: EngineEvent[]; result: RunResult }> {
  const events: EngineEvent[] = [];
  for await (const ev of run.events()) events.push(ev);
  return { events, result: await run.runToEnd() };
}

export function checkEvents(events: EngineEvent[], result: RunResult): void {
  expect(events[0]!.type).toBe('run-start');
  expect(events.at(-1)!.type).toBe('run-end');
  const emits = events.filter((e) => e.type === 'emit');
  // every output token exactly once, in order, at consecutive positions
  expect(emits.map((e) => e.tokenId)).toEqual(result.outputTokenIds);
  const start = (events[0] as Extract<EngineEvent, { type: 'run-start' }>).promptTokenIds.length;
  expect(emits.map((e) => e.position)).toEqual(result.outputTokenIds.map((_, i) => start + i));
  const count = (kind: string): number => emits.filter((e) => e.kind === kind).length;
  const m = result.metrics;
  expect(count('accepted')).toBe(m.acceptedTokens);
  expect(count('correction')).toBe(m.corrections);
  expect(count('bonus')).toBe(m.bonuses);
  expect(count('target')).toBe(m.targetOnlyTokens);
  expect(m.newTokens).toBe(m.acceptedTokens + m.corrections + m.bonuses + m.targetOnlyTokens);
  // every target pass either verified drafts or made a token on its own
  expect(m.targetPasses).toBe(m.verificationSteps + m.targetOnlyTokens);
  expect(events.filter((e) => e.type === 'draft').length).toBe(m.draftedTokens);
  // every step emits at least one token
  const steps = events.filter((e) => e.type === 'step-end').map((e) => e.step);
  for (const s of steps) expect(emits.some((e) => e.step === s)).toBe(true);
}
