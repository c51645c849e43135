/**
 * What a sweep's settings are when nobody says otherwise: one place for the CLI's flag
 * defaults, the app's set-up form and the engine (the exercise's seed prompt and K list).
 */

/** the exercise's prompt */
export const SEED_PROMPT = 'Artificial intelligence is rapidly transforming our world by';

/** the exercise's draft lengths */
export const DEFAULT_KS: readonly number[] = [1, 2, 3, 4, 5, 8];

export const DEFAULT_MAX_NEW_TOKENS = 100;

/**
 * Measured repeats of every run, by default: one timing per K is noise, and the best K is only
 * named when it beats the runner-up beyond the spread of its repeats.
 */
export const DEFAULT_REPEATS = 3;

/** runs before measuring, not counted (a sweep's; a live step-through has none) */
export const DEFAULT_WARMUP = 1;

/** the confidence policy's threshold: drafting stops below this draft probability */
export const DEFAULT_P_MIN = 0.5;

/**
 * how the CPU provider computes 4-bit MatMulNBits products (`--q4-compute`): as the file sets it.
 * int8 activations are faster but row-dependent: at real size a K+1-token verification parted from
 * the one-token baseline (SmolLM2-360M q4, K=2..8, 2 of 3 prompts), so speculation was no longer
 * lossless; the default keeps it lossless (decoding.ts Q4_COMPUTES)
 */
export const DEFAULT_Q4_COMPUTE = 'exported' as const;
