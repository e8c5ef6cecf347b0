/**
 * Reconnect delays of the KĀDI client (design.md: "reconnect with backoff 1, 2, 4, 8 … 60 s").
 * Pure; randomness is passed in.
 */

/** Inputs of {@link reconnectDelayMs}. */
export interface ReconnectBackoffOptions {
  /** Delay after the first failed attempt, in ms (1000 in production). */
  initialMs: number;
  /** Ceiling of any delay, in ms (60000 in production). */
  maxMs: number;
  /**
   * Uniform source in [0, 1). When given, the delay is drawn from `[d/2, d]` ("equal jitter",
   * AWS Architecture Blog, "Exponential Backoff and Jitter", 2015) so agents dropped together by a
   * broker restart do not all reconnect in the same instant; when omitted the delay is exactly `d`.
   */
  random?: () => number;
}

/**
 * Delay before reconnect attempt number `attempt` (1-based): `d = min(maxMs, initialMs · 2^(attempt−1))`,
 * jittered as described in {@link ReconnectBackoffOptions.random}. Whole ms, never negative.
 */
export function reconnectDelayMs(attempt: number, opts: ReconnectBackoffOptions): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // 2^exponent overflows to Infinity long after maxMs caps it; min() keeps that harmless.
  const d = Math.max(0, Math.min(opts.maxMs, opts.initialMs * 2 ** exponent));
  if (opts.random === undefined) return Math.round(d);
  const r = Math.min(Math.max(opts.random(), 0), 1);
  return Math.round(d / 2 + (r * d) / 2);
}
