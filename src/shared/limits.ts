/**
 * The bounds of a sweep's settings, once: the zod schemas, the app's form checks and the CLI's
 * flag parsers read them here (messages that name a bound take it from here too).
 */

/** a draft length (K) at most */
export const MAX_K = 64;
/** K values in one sweep from the app (SweepSettings) */
export const MAX_KS = 16;
/** controlled acceptance targets (A) in one sweep from the app (SweepSettings) */
export const MAX_ACCEPTANCE_TARGETS = 16;
/** measured repeats of every run from the app (SweepSettings) */
export const MAX_REPEATS = 20;
/** prompts in a prompt set */
export const MAX_PROMPTS = 200;
/** max new tokens as the app's form takes it before the pair's context is known */
export const MAX_NEW_TOKENS_TYPED = 100_000;
/** sampling: the highest temperature, and top-k as the app's form takes it */
export const MAX_TEMPERATURE = 10;
export const MAX_TOP_K = 1_000_000;
/** Hugging Face's repetition controls: repetition_penalty and no_repeat_ngram_size at most */
export const MAX_REPETITION_PENALTY = 10;
export const MAX_NO_REPEAT_NGRAM = 20;
/** the CPU provider's threads for one operator (`--threads`) at most */
export const MAX_CPU_THREADS = 256;
/**
 * A sampling seed: the generator (mulberry32) keeps 32 bits, so 0 to 2^32 - 1 are the distinct
 * seeds; a larger or negative one would silently give another seed's output.
 */
export const MAX_SEED = 2 ** 32 - 1;
/** warm-up runs before the measured ones (`--warmup`) at most */
export const MAX_WARMUP = 20;
/** the highest TCP port `serve` may listen on (0 picks a free one) */
export const MAX_PORT = 65_535;
