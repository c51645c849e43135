/**
 * The engine host's message protocol: requests from the UI, messages back. The same contract runs
 * over Electron IPC (renderer <-> main <-> utilityProcess) and over the `serve` WebSocket bridge
 * (browser <-> server <-> engine child process). Everything that crosses a boundary is parsed with
 * these schemas on arrival.
 */
import { z } from 'zod';
import { EngineEvent, DecodeMode } from './events';
import {
  DrafterKind,
  DraftPolicyName,
  KvLocation,
  ModelGraph,
  Q4ComputeRan,
  ProviderChoice,
  RepetitionParams,
  SamplingParams,
} from './decoding';
import { HistoryEntry, HistoryId, HistoryName, HistorySummary, RunRow } from './history';
import {
  LiveSettings,
  MeasuredCosts,
  PairChoice,
  SweepSettings,
  Theory,
  TreeVerifyChoice,
} from './settings';

/** MAX_K and MAX_PROMPTS live in ./limits; the engine and the app read them with the protocol */
export { MAX_K, MAX_PROMPTS } from './limits';
// the settings and the run/history schemas live in their own modules; importers read them here
export * from './settings';
export * from './history';

/** A model as loaded: what it is, where it came from, which execution provider runs it. */
export const LoadedModelInfo = z.object({
  name: z.string(),
  dir: z.string(),
  /** the Hub repo it was downloaded from; null for a local folder */
  repo: z.string().nullable(),
  provider: z.string(),
  /** how the provider was chosen: each one tried, its pass time or why it was skipped */
  providerChoice: ProviderChoice.nullable(),
  /** where its KV cache stays between passes */
  kvLocation: KvLocation.optional(),
  /** the graph it runs, and why the export runs as it is where a rebuild was tried */
  graph: ModelGraph.optional(),
  graphNote: z.string().nullable().optional(),
  /** the CPU provider's threads for one operator (1 on other providers) */
  threads: z.number().int().min(1).optional(),
  /** what its 4-bit MatMulNBits products ran in (int8, float...); null when it has none */
  q4Compute: Q4ComputeRan.nullable().optional(),
});
export type LoadedModelInfo = z.infer<typeof LoadedModelInfo>;

/** Download progress over all files of one request (both models). */
export const DownloadProgress = z.object({
  repo: z.string(),
  file: z.string(),
  loadedBytes: z.number(),
  /** bytes of all files still to fetch in this request; null while unknown */
  totalBytes: z.number().nullable(),
  bytesPerSecond: z.number(),
  /** null while unknown */
  etaS: z.number().nullable(),
});
export type DownloadProgress = z.infer<typeof DownloadProgress>;

/** the longest context a probe may send (GPT-2's is 1,024) */
export const MAX_PROBE_TOKENS = 8192;

export const HostRequest = z.discriminatedUnion('type', [
  z.object({ type: z.literal('sweep'), requestId: z.string(), settings: SweepSettings }),
  z.object({ type: z.literal('cancel'), requestId: z.string() }),
  z.object({ type: z.literal('live-start'), requestId: z.string(), settings: LiveSettings }),
  z.object({ type: z.literal('live-next'), requestId: z.string() }),
  z.object({ type: z.literal('history-list'), requestId: z.string() }),
  z.object({ type: z.literal('history-get'), requestId: z.string(), id: z.string() }),
  /** one saved run's event log, to replay it or export its steps */
  z.object({
    type: z.literal('history-run'),
    requestId: z.string(),
    id: HistoryId,
    runId: z.string().max(200),
  }),
  z.object({
    type: z.literal('history-rename'),
    requestId: z.string(),
    id: HistoryId,
    name: HistoryName,
  }),
  z.object({ type: z.literal('history-delete'), requestId: z.string(), id: HistoryId }),
  /**
   * the step detail view: both models' top tokens after `tokenIds` (a run's prompt and output
   * before one position), under the run's decoding; `token` is what stood there
   */
  z.object({
    type: z.literal('probe'),
    requestId: z.string(),
    pair: PairChoice,
    tokenIds: z.array(z.number().int().min(0)).min(1).max(MAX_PROBE_TOKENS),
    token: z.number().int().min(0).nullable(),
    sampling: SamplingParams.nullable(),
    repetition: RepetitionParams.nullable(),
  }),
  /** fetch (or find in the cache) both models of a pair without running anything */
  z.object({ type: z.literal('download'), requestId: z.string(), pair: PairChoice }),
  /** the sweep running now, if any (a window opened or reconnected while it runs shows it) */
  z.object({ type: z.literal('attach'), requestId: z.string() }),
]);
export type HostRequest = z.infer<typeof HostRequest>;

/** A request's JSON text at most (the WebSocket's frame limit too); the UI checks it before sending. */
export const MAX_REQUEST_BYTES = 1 << 20;
/** Requests nest about 4 deep; anything far deeper is refused before it is walked. */
export const MAX_REQUEST_DEPTH = 16;

/** What a request's prompts may take of it, as JSON text (the rest is settings, well under 16 kB). */
export const MAX_PROMPTS_JSON_BYTES = MAX_REQUEST_BYTES - (16 << 10);

/** Why prompts would not fit in one request, for the UI to say before sending; null if they do. */
export function promptsTooLarge(prompts: readonly string[]): string | null {
  const bytes = new TextEncoder().encode(JSON.stringify(prompts)).length;
  if (bytes <= MAX_PROMPTS_JSON_BYTES) return null;
  const mb = (n: number): string => `${(n / 1e6).toFixed(2)} MB`;
  return `The ${prompts.length > 1 ? 'prompt set' : 'prompt'} is ${mb(bytes)} as sent; the engine takes at most ${mb(MAX_PROMPTS_JSON_BYTES)}. Shorten it or split it over several sweeps.`;
}

/** Whether arrays/objects nest deeper than `max`, found without recursion (no stack to overflow). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

export type ParsedRequest =
  | { ok: true; request: HostRequest }
  /** requestId: the refused request's own id when it had a usable one, so its sender can tell */
  | { ok: false; message: string; requestId: string | null };

/** a refused request's id, when it is a short string */
function idOf(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || !('requestId' in value)) return null;
  const id = value.requestId;
  return typeof id === 'string' && id.length <= 200 ? id : null;
}

/** A request from outside (a renderer, a WebSocket client): bounded, then validated. */
export function parseHostRequest(value: unknown): ParsedRequest {
  if (nestsDeeperThan(value, MAX_REQUEST_DEPTH)) {
    return {
      ok: false,
      message: `Malformed request: nested deeper than ${MAX_REQUEST_DEPTH}.`,
      requestId: null,
    };
  }
  const parsed = HostRequest.safeParse(value);
  if (parsed.success) return { ok: true, request: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  return {
    ok: false,
    message: `Malformed request${where}: ${issue?.message ?? 'invalid'}`,
    requestId: idOf(value),
  };
}

/** The same, from a message's text: size first, then JSON, then the request. */
export function parseRequestText(text: string): ParsedRequest {
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_REQUEST_BYTES) {
    return {
      ok: false,
      message: `Request too large: ${bytes} bytes, at most ${MAX_REQUEST_BYTES}. Use a shorter prompt or a smaller prompt set.`,
      requestId: null,
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, message: 'Messages must be JSON.', requestId: null };
  }
  return parseHostRequest(value);
}

export const ProbeToken = z.object({
  tokenId: z.number().int(),
  text: z.string(),
  prob: z.number(),
});
/** what both models thought at one position (src/core/decoding/positionDetail.ts) */
export const ProbeResult = z.object({
  target: z.array(ProbeToken),
  draft: z.array(ProbeToken).nullable(),
  targetProb: z.number().nullable(),
  draftProb: z.number().nullable(),
});
export type ProbeResult = z.infer<typeof ProbeResult>;

/** which run of a sweep starts: sent as `sweep-progress` before its events */
export const SweepRunStart = z.object({
  /** 0-based index of the run, of `total` */
  index: z.number().int(),
  total: z.number().int(),
  mode: DecodeMode,
  k: z.number().int().nullable(),
  repeat: z.number().int(),
  promptIndex: z.number().int(),
  policy: DraftPolicyName.nullable(),
  drafter: DrafterKind.nullable(),
  /** controlled acceptance's target A for this run; absent for real drafting */
  acceptanceTarget: z.number().gt(0).lt(1).optional(),
  /** a token tree's shape or node budget and the verification asked; absent for chains */
  tree: z
    .object({
      shape: z.array(z.number().int()).optional(),
      budget: z.number().int().optional(),
      verify: TreeVerifyChoice,
    })
    .optional(),
});
export type SweepRunStart = z.infer<typeof SweepRunStart>;

/**
 * A sweep in progress as a client that did not start it needs it to follow on: its request id
 * (its messages carry it), its settings, the run under way and the rows finished so far, and the
 * events of the run under way that were sent before (from its run-start).
 */
export const RunningSweep = z.object({
  requestId: z.string(),
  settings: SweepSettings,
  progress: SweepRunStart.nullable(),
  rows: z.array(RunRow),
  events: z.array(EngineEvent),
});
export type RunningSweep = z.infer<typeof RunningSweep>;

export const HostMessage = z.discriminatedUnion('type', [
  /** the host is up; what the embedded pair is */
  z.object({
    type: z.literal('ready'),
    embeddedPair: z.object({
      target: z.string(),
      draft: z.string(),
      /** the tokens both embedded models hold (their config's n_positions), when readable */
      context: z.number().int().positive().nullable().optional(),
    }),
    /** where Hub downloads are cached */
    cacheDir: z.string(),
  }),
  /** the pair a request runs on, once loaded */
  z.object({
    type: z.literal('models-loaded'),
    requestId: z.string(),
    target: LoadedModelInfo,
    draft: LoadedModelInfo,
  }),
  z.object({
    type: z.literal('download-progress'),
    requestId: z.string(),
    progress: DownloadProgress,
  }),
  z.object({
    type: z.literal('download-done'),
    requestId: z.string(),
    /** bytes fetched over the network (0 when both models came from the cache) */
    downloadedBytes: z.number(),
  }),
  /** engine events of a run, batched (about one animation frame's worth per message) */
  z.object({ type: z.literal('events'), requestId: z.string(), events: z.array(EngineEvent) }),
  SweepRunStart.extend({ type: z.literal('sweep-progress'), requestId: z.string() }),
  z.object({ type: z.literal('sweep-row'), requestId: z.string(), row: RunRow }),
  z.object({
    type: z.literal('sweep-done'),
    requestId: z.string(),
    cancelled: z.boolean(),
    historyId: z.string(),
    /** null when the sweep had no K=1 model-drafted run or was cancelled */
    theory: Theory.nullable(),
    /** the pair's measured costs (c, verification cost per K): predicts controlled acceptance */
    costs: MeasuredCosts.nullable().optional(),
    /** why the sweep is not (fully) in the history: "not saved: disk full at <path>"; else null */
    notSaved: z.string().nullable().optional(),
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
  /**
   * a saved run's events, in `parts` messages of a bounded size (`part` counts from 0): a long
   * run never makes one message of many megabytes; the last part ends the request
   */
  z.object({
    type: z.literal('history-run'),
    requestId: z.string(),
    id: z.string(),
    runId: z.string(),
    events: z.array(EngineEvent),
    part: z.number().int().nonnegative(),
    parts: z.number().int().positive(),
  }),
  z.object({
    type: z.literal('probe-result'),
    requestId: z.string(),
    result: ProbeResult,
  }),
  z.object({
    type: z.literal('error'),
    requestId: z.string().nullable(),
    code: z.string(),
    message: z.string(),
    /** the settings it is about (SettingName in src/core/errors.ts), for the UI to point at */
    settings: z.array(z.string()).optional(),
  }),
  /**
   * the answer to `attach`, or to a `sweep` sent while a sweep runs (`refused`: that sweep was not
   * started; the running one is shown instead); `sweep` is null when none runs
   */
  z.object({
    type: z.literal('sweep-attach'),
    requestId: z.string(),
    sweep: RunningSweep.nullable(),
    refused: z.boolean(),
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
