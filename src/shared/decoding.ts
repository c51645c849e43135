/**
 * Names shared by the engine, the CLI and the UI: draft-length policies, drafters, sampling
 * settings and execution providers. The engine's implementations live in src/core.
 */
import { z } from 'zod';
import { formatMs } from './format';
import {
  MAX_NO_REPEAT_NGRAM,
  MAX_REPETITION_PENALTY,
  MAX_SEED,
  MAX_TEMPERATURE,
  MAX_TOP_K,
} from './limits';

export const DRAFT_POLICIES = ['fixed', 'heuristic', 'confidence'] as const;
export const DraftPolicyName = z.enum(DRAFT_POLICIES);
export type DraftPolicyName = z.infer<typeof DraftPolicyName>;

export const DRAFTERS = ['model', 'prompt-lookup'] as const;
export const DrafterKind = z.enum(DRAFTERS);
export type DrafterKind = z.infer<typeof DrafterKind>;

/** what a speculative run uses when its settings do not say: the draft model, a fixed K */
export const DEFAULT_DRAFTER: DrafterKind = 'model';
export const DEFAULT_POLICY: DraftPolicyName = 'fixed';

/** Sampling instead of greedy decoding; the same seed is used for every run of a sweep. */
export const SamplingParams = z.object({
  /** above 0 (greedy decoding is "no sampling", not temperature 0) */
  temperature: z.number().gt(0).max(MAX_TEMPERATURE),
  /** keep the k most likely tokens (0 = off) */
  topK: z.number().int().min(0).max(MAX_TOP_K),
  /** keep the smallest set of tokens whose probability reaches p (1 = off) */
  topP: z.number().gt(0).max(1),
  /** 0 to MAX_SEED: the generator keeps 32 bits, so a larger seed would alias a smaller one */
  seed: z.number().int().min(0).max(MAX_SEED),
});
export type SamplingParams = z.infer<typeof SamplingParams>;

export const EXECUTION_PROVIDERS = ['cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];
export const ExecutionProviderChoice = z.enum(['auto', ...EXECUTION_PROVIDERS]);
export type ExecutionProviderChoice = z.infer<typeof ExecutionProviderChoice>;

/**
 * Where a model's KV cache (and its logits) stay between passes: `device` keeps them in the
 * GPU provider's memory and reads back only what decoding needs; `host` copies them to
 * JavaScript memory every pass (the only place the CPU provider has). `auto`: device where
 * onnxruntime-node can keep outputs there (WebGPU), host elsewhere.
 */
export const KV_LOCATIONS = ['auto', 'host', 'device'] as const;
export const KvLocationChoice = z.enum(KV_LOCATIONS);
export type KvLocationChoice = z.infer<typeof KvLocationChoice>;
export const KvLocation = z.enum(['host', 'device']);
export type KvLocation = z.infer<typeof KvLocation>;

/**
 * Which graph a model runs: `fused`, the export rebuilt with onnxruntime's fused attention,
 * layer-norm and GELU operators (src/core/model/fusedGpt2.ts; CPU provider, float32 GPT-2s,
 * checked against the export at load), or the file as `exported`. `auto` (the default) chooses
 * fused where it can.
 */
export const GRAPHS = ['auto', 'exported'] as const;
export const GraphChoice = z.enum(GRAPHS);
export type GraphChoice = z.infer<typeof GraphChoice>;
export const ModelGraph = z.enum(['fused', 'exported']);
export type ModelGraph = z.infer<typeof ModelGraph>;

/**
 * How the CPU provider computes a 4-bit file's MatMulNBits products (`--q4-compute`): `int8`
 * rounds each block of 32 activations to 8 bits and multiplies in integers (MatMulNBits
 * `accuracy_level` 4, set at load where the file sets none: onnxruntime-genai's CPU default and
 * what llama.cpp's Q4_0 does); `exported` runs the file's own level (the Hub's q4 files set none:
 * each weight block dequantized to float32).
 */
export const Q4_COMPUTES = ['int8', 'exported'] as const;
export const Q4Compute = z.enum(Q4_COMPUTES);
export type Q4Compute = z.infer<typeof Q4Compute>;
/**
 * What a model's 4-bit products ran in: `int8` (accuracy_level 4 on every one), `float` (no level
 * 4: float32), `mixed` (a file that sets 4 on some only), `exported` (a provider other than the
 * CPU, which reads the file's levels itself).
 */
export const Q4ComputeRan = z.enum(['int8', 'float', 'mixed', 'exported']);
export type Q4ComputeRan = z.infer<typeof Q4ComputeRan>;

/** what a model's 4-bit products ran in, in words ("4-bit products with int8 activations"); null without any */
export function q4ComputeWords(ran: Q4ComputeRan | null | undefined): string | null {
  switch (ran) {
    case 'int8':
      return '4-bit products with int8 activations';
    case 'float':
      return '4-bit products in float32 (as exported)';
    case 'mixed':
      return '4-bit products partly with int8 activations (the file sets some levels)';
    case 'exported':
      return '4-bit products as the provider reads the file';
    default:
      return null;
  }
}

/**
 * Bytes that crossed between JavaScript memory and the provider's device per model pass
 * (medians over a run's passes): the KV cache (past in, present out; 0 on the CPU provider,
 * which has no device, and with a device-resident cache), and what was read back besides it
 * (logits rows, or the few bytes of greedy verdicts per row).
 */
export const PassTransfer = z.object({
  cacheBytesPerPass: z.number(),
  readBytesPerPass: z.number(),
});
export type PassTransfer = z.infer<typeof PassTransfer>;

/**
 * ONNX weight variants, by transformers.js' names: each is the file `onnx/model{suffix}.onnx`
 * (catalog.ts' DTYPE_SUFFIX): q8 `_quantized` (dynamic int8), int8 `_int8`, uint8 `_uint8`, q4
 * `_q4` and q4f16 `_q4f16` (4-bit MatMulNBits, float32 or float16 around it), bnb4 `_bnb4`.
 */
export const DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'] as const;
export const Dtype = z.enum(DTYPES);
export type Dtype = z.infer<typeof Dtype>;

/** One execution provider as the provider probe found it for one model. */
export const ProviderTrial = z.object({
  provider: z.enum(EXECUTION_PROVIDERS),
  /** median time of a one-token pass on it, in ms; null when it did not start or was not timed */
  medianPassMs: z.number().nullable(),
  /** why it is not the one in use, in a few words ("no usable adapter"); null for the one in use */
  reason: z.string().nullable(),
  /** the full message behind the reason (onnxruntime's, a loader's), for the log and details */
  detail: z.string().nullable(),
});
export type ProviderTrial = z.infer<typeof ProviderTrial>;

/** Which provider runs a model, and why: what was asked, what was tried, what each cost. */
export const ProviderChoice = z.object({
  requested: ExecutionProviderChoice,
  provider: z.enum(EXECUTION_PROVIDERS),
  trials: z.array(ProviderTrial),
  /** one line for people: "cpu (webgpu: no usable adapter; cuda: not installed)" */
  summary: z.string(),
  /** the verdict came from the probe cache (no process was started) */
  cached: z.boolean(),
});
export type ProviderChoice = z.infer<typeof ProviderChoice>;

/** every trial in a line, for a CSV cell: "cpu 1.21 ms; webgpu 742 ms; cuda: not installed" */
export function trialsText(choice: ProviderChoice | null): string | null {
  if (!choice || choice.trials.length === 0) return null;
  return choice.trials
    .map((t) =>
      t.medianPassMs !== null
        ? `${t.provider} ${formatMs(t.medianPassMs)}`
        : `${t.provider}: ${t.reason}`,
    )
    .join('; ');
}

/**
 * Hugging Face's repetition controls, applied to the target's and the draft's scores alike:
 * `penalty` divides a seen token's positive logit (multiplies a negative one) by it, 1 = off;
 * `noRepeatNgram` bans the token that would repeat an n-gram already in the text, 0 = off.
 */
export const RepetitionParams = z.object({
  penalty: z.number().min(1).max(MAX_REPETITION_PENALTY),
  noRepeatNgram: z.number().int().min(0).max(MAX_NO_REPEAT_NGRAM),
});
export type RepetitionParams = z.infer<typeof RepetitionParams>;
