/**
 * The engine host's message protocol: requests from the UI, messages back. The same contract runs
 * over Electron IPC (renderer <-> main <-> utilityProcess) and over the `serve` WebSocket bridge
 * (browser <-> server <-> worker thread). Everything that crosses a boundary is parsed with these
 * schemas on arrival.
 */
import { z } from 'zod';
import { EngineEvent, DecodeMode, RunMetrics, StopReason } from './events';

export const MAX_K = 64;

/** A model pair chosen in the UI: null folders mean the embedded pair. */
export const PairChoice = z.object({
  targetDir: z.string().min(1).nullable(),
  draftDir: z.string().min(1).nullable(),
});
export type PairChoice = z.infer<typeof PairChoice>;

export const SweepSettings = z.object({
  pair: PairChoice,
  prompt: z.string(),
  maxNewTokens: z.number().int(),
  ks: z.array(z.number().int()).min(1).max(16),
  repeats: z.number().int().min(1).max(20),
});
export type SweepSettings = z.infer<typeof SweepSettings>;

export const LiveSettings = z.object({
  pair: PairChoice,
  prompt: z.string(),
  maxNewTokens: z.number().int(),
  k: z.number().int(),
});
export type LiveSettings = z.infer<typeof LiveSettings>;

export const HostRequest = z.discriminatedUnion('type', [
  z.object({ type: z.literal('sweep'), requestId: z.string(), settings: SweepSettings }),
  z.object({ type: z.literal('cancel'), requestId: z.string() }),
  z.object({ type: z.literal('live-start'), requestId: z.string(), settings: LiveSettings }),
  z.object({ type: z.literal('live-next'), requestId: z.string() }),
  z.object({ type: z.literal('history-list'), requestId: z.string() }),
  z.object({ type: z.literal('history-get'), requestId: z.string(), id: z.string() }),
]);
export type HostRequest = z.infer<typeof HostRequest>;

/** One finished run of a sweep: its metrics (see events.ts) and what it was compared with. */
export const RunRow = RunMetrics.omit({ targetOnlyTokens: true }).extend({
  runId: z.string(),
  mode: DecodeMode,
  k: z.number().int().nullable(),
  repeat: z.number().int(),
  /** baseline time of the same repeat / this run's time */
  speedup: z.number().nullable(),
  /** output token ids equal the baseline's of the same repeat */
  identical: z.boolean(),
  stopReason: StopReason,
  /** draft length policy and drafter (null for baselines) */
  policy: z.string().nullable().optional(),
  drafter: z.string().nullable().optional(),
  /** tokens drafted at each step */
  kPerStep: z.array(z.number().int()).optional(),
  /** how often the i-th drafted token of a step was accepted */
  acceptanceByPosition: z.array(z.number()).optional(),
  outputText: z.string(),
  outputTokenIds: z.array(z.number().int()),
});
export type RunRow = z.infer<typeof RunRow>;

export const HistoryEntry = z.object({
  id: z.string(),
  createdAt: z.string(),
  settings: SweepSettings,
  models: z.object({ target: z.string(), draft: z.string() }),
  rows: z.array(RunRow),
  /** finished | cancelled | failed (host died or an error) */
  status: z.enum(['running', 'finished', 'cancelled', 'failed']),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

export const HistorySummary = HistoryEntry.pick({
  id: true,
  createdAt: true,
  status: true,
  models: true,
}).extend({
  prompt: z.string(),
  ks: z.array(z.number().int()),
  runs: z.number().int(),
});
export type HistorySummary = z.infer<typeof HistorySummary>;

export const HostMessage = z.discriminatedUnion('type', [
  /** the host is up; what the embedded pair is */
  z.object({
    type: z.literal('ready'),
    embeddedPair: z.object({ target: z.string(), draft: z.string() }),
  }),
  /** engine events of a run, batched (about one animation frame's worth per message) */
  z.object({ type: z.literal('events'), requestId: z.string(), events: z.array(EngineEvent) }),
  z.object({
    type: z.literal('sweep-progress'),
    requestId: z.string(),
    index: z.number().int(),
    total: z.number().int(),
    mode: DecodeMode,
    k: z.number().int().nullable(),
    repeat: z.number().int(),
  }),
  z.object({ type: z.literal('sweep-row'), requestId: z.string(), row: RunRow }),
  z.object({
    type: z.literal('sweep-done'),
    requestId: z.string(),
    cancelled: z.boolean(),
    historyId: z.string(),
  }),
  z.object({
    type: z.literal('live-step'),
    requestId: z.string(),
    events: z.array(EngineEvent),
    done: z.boolean(),
  }),
  z.object({
    type: z.literal('history-list'),
    requestId: z.string(),
    entries: z.array(HistorySummary),
  }),
  z.object({ type: z.literal('history-entry'), requestId: z.string(), entry: HistoryEntry }),
  z.object({
    type: z.literal('error'),
    requestId: z.string().nullable(),
    code: z.string(),
    message: z.string(),
  }),
  /** sent by the bridge (not the host) when the engine host died; a fresh one is starting */
  z.object({ type: z.literal('host-exit'), message: z.string() }),
]);
export type HostMessage = z.infer<typeof HostMessage>;

/** What the renderer talks to: Electron's preload API or the serve mode's WebSocket bridge. */
export interface EngineBridge {
  send(request: HostRequest): void;
  /** returns a function that unsubscribes */
  onMessage(listener: (message: HostMessage) => void): () => void;
  /** a local folder picked by the user (Electron: a dialog); null when not available or cancelled */
  chooseModelFolder(): Promise<string | null>;
  /** save text to a file the user picks (Electron: a save dialog; browser: a download) */
  saveText(suggestedName: string, text: string): Promise<boolean>;
}
