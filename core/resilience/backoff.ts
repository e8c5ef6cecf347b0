/**
 * Exponential backoff with jitter: the one delay schedule behind model-call retries
 * (`core/llm`) and broker reconnects (`core/kadi`). Pure; randomness is passed in so tests can
 * pin it. Jitter variants follow the AWS Architecture Blog, "Exponential Backoff and Jitter"
 * (2015, https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
 */

/**
 * How a delay is drawn from its exponential window `w`:
 * - `full`: uniform in `[0, w)`, floored to whole ms. Spreads many callers that failed together
 *   (e.g. Lambda containers hitting one rate limit) as widely as possible.
 * - `equal`: uniform in `[w/2, w]`, rounded. Keeps a floor of half the window, for callers that
 *   must not hammer a peer that is still restarting (a broker dropping every agent at once).
 * - `none`: exactly `w`, rounded.
 */
export type Jitter = "full" | "equal" | "none";

/** The exponential window: `min(maxMs, baseMs · 2^(attempt−1))`. */
export interface BackoffWindow {
  /** Window of the first attempt, in ms. */
  baseMs: number;
  /** Upper bound of any window, in ms. */
  maxMs: number;
}

/**
 * Inputs of {@link backoffDelayMs}. `jitter` defaults to `full`; the jittered variants need
 * `random`, a uniform source in [0, 1) such as `Math.random`.
 */
export type BackoffOptions = BackoffWindow &
  ({ jitter?: "full" | "equal"; random: () => number } | { jitter: "none" });

/**
 * The window of 1-based attempt `attempt`, in ms (not rounded; never negative).
 * `2^exponent` overflows to Infinity long after `maxMs` caps it; `min()` keeps that harmless.
 */
export function backoffWindowMs(attempt: number, window: BackoffWindow): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  return Math.max(0, Math.min(window.maxMs, window.baseMs * 2 ** exponent));
}

/**
 * Delay before the attempt after number `attempt` (1-based: 1 → window `baseMs`), in whole ms,
 * drawn from the window as {@link Jitter} describes. Under `full` jitter the delay is strictly
 * below the window (0 when the window is 0); otherwise at most the window.
 */
export function backoffDelayMs(attempt: number, opts: BackoffOptions): number {
  const window = backoffWindowMs(attempt, opts);
  if (opts.jitter === "none") return Math.round(window);
  const r = Math.min(Math.max(opts.random(), 0), 1);
  if (opts.jitter === "equal") return Math.round(window / 2 + (r * window) / 2);
  return Math.min(Math.floor(r * window), Math.max(0, window - 1));
}

/** Inputs of {@link retryDelayMs}: full-jitter backoff plus the cap on server-requested waits. */
export interface RetryDelayOptions extends BackoffWindow {
  /** Uniform source in [0, 1) for the jitter. */
  random: () => number;
  /**
   * Longest server-requested wait we accept, in ms. A caller running under a deadline (a
   * Lambda with a bounded timeout) gets this instead of a server asking for minutes.
   */
  maxRetryAfterMs: number;
}

/**
 * Delay before retrying a failed call, in ms. A server-requested wait (HTTP `Retry-After`,
 * RFC 9110 §10.2.3, already converted to ms as `retryAfterMs`) wins, capped at
 * `maxRetryAfterMs`; otherwise {@link backoffDelayMs} with full jitter.
 *
 * @param error - anything with an optional `retryAfterMs` (e.g. an `LlmError`).
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
  return backoffDelayMs(attempt, { ...opts, jitter: "full" });
}

/** Inputs of {@link reconnectDelayMs}. */
export interface ReconnectDelayOptions {
  /** Delay after the first failed attempt, in ms (the backoff's `baseMs`). */
  initialMs: number;
  /** Ceiling of any delay, in ms. */
  maxMs: number;
  /**
   * Uniform source in [0, 1). When given, delays use `equal` jitter (see {@link Jitter}) so
   * clients dropped together by a server restart do not all reconnect in the same instant;
   * when omitted the schedule is exact (1, 2, 4 … for `initialMs` 1).
   */
  random?: () => number;
}

/**
 * Delay before reconnect attempt number `attempt` (1-based), in whole ms: the window
 * `min(maxMs, initialMs · 2^(attempt−1))`, equal-jittered when `random` is given, exact
 * otherwise.
 */
export function reconnectDelayMs(attempt: number, opts: ReconnectDelayOptions): number {
  const window = { baseMs: opts.initialMs, maxMs: opts.maxMs };
  return opts.random === undefined
    ? backoffDelayMs(attempt, { ...window, jitter: "none" })
    : backoffDelayMs(attempt, { ...window, jitter: "equal", random: opts.random });
}
