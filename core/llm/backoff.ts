/**
 * Pure retry-delay arithmetic. Randomness is passed in so tests can pin it.
 */

/** Inputs of {@link backoffDelayMs}. */
export interface BackoffOptions {
  /** Ceiling of the first retry's delay window, in ms. */
  baseMs: number;
  /** Upper bound of any window, in ms. */
  maxMs: number;
  /** Uniform source in [0, 1), e.g. `Math.random`. */
  random: () => number;
}

/**
 * Exponential backoff with "full jitter" (AWS Architecture Blog, "Exponential Backoff and
 * Jitter", 2015): the delay is uniform in `[0, min(maxMs, baseMs · 2^(attempt−1)))`. Full
 * jitter spreads the retries of many Lambda containers that failed together, which a fixed
 * schedule would re-synchronise into another burst.
 *
 * @param attempt - 1-based number of the attempt that just failed (1 → window `baseMs`).
 * @returns whole milliseconds, `0 ≤ delay < window` (0 when the window is 0).
 */
export function backoffDelayMs(attempt: number, opts: BackoffOptions): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // 2^exponent overflows to Infinity long after maxMs caps it; min() keeps that harmless.
  const window = Math.max(0, Math.min(opts.maxMs, opts.baseMs * 2 ** exponent));
  const r = Math.min(Math.max(opts.random(), 0), 1);
  return Math.min(Math.floor(r * window), Math.max(0, window - 1));
}

/** Inputs of {@link retryDelayMs}: backoff settings plus the cap on server-requested waits. */
export interface RetryDelayOptions extends BackoffOptions {
  /**
   * Longest `retry-after` we are willing to wait, in ms. The chat worker runs inside a Lambda
   * with a bounded timeout, so a server asking for minutes gets this instead.
   */
  maxRetryAfterMs: number;
}

/**
 * Delay before the next attempt, in ms. A server-requested `retryAfterMs` (see
 * `parseRetryAfterMs` in `./errors`) wins over backoff, capped at `maxRetryAfterMs`; otherwise
 * {@link backoffDelayMs}.
 *
 * @param error - anything with an optional `retryAfterMs` (an `LlmError`).
 * @param attempt - 1-based number of the attempt that just failed.
 */
export function retryDelayMs(
  error: { retryAfterMs?: number | undefined },
  attempt: number,
  opts: RetryDelayOptions,
): number {
  if (error.retryAfterMs !== undefined && Number.isFinite(error.retryAfterMs)) {
    return Math.min(Math.max(0, Math.round(error.retryAfterMs)), opts.maxRetryAfterMs);
  }
  return backoffDelayMs(attempt, opts);
}

/** Default backoff settings used by the provider manager: 500 ms first window, 8 s ceiling. */
export const DEFAULT_BACKOFF = { baseMs: 500, maxMs: 8_000, maxRetryAfterMs: 20_000 } as const;
