/**
 * Bounded wait for a freshly created gateway to answer its health route: exponential backoff
 * with a cap, inside a total time budget. `now` and `sleep` are injected so tests need no time.
 */
import type { HealthProbe } from "./admin";

/**
 * Waits `ms` milliseconds. When `signal` is given and fires first, it may reject early (as
 * `timers/promises` `setTimeout(ms, undefined, {signal})` does); callers check the signal.
 */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Budget and backoff of {@link waitForHealthy}, all in ms. */
export interface HealthWaitOptions {
  /** Give up once this much time has passed since the first probe. */
  budgetMs: number;
  /** Pause after the first failed probe. */
  initialDelayMs: number;
  /** Longest pause between two probes. */
  maxDelayMs: number;
  /**
   * Timeout of a single probe. The budget bounds when the last probe starts, so the whole
   * wait lasts at most `budgetMs + probeTimeoutMs`.
   */
  probeTimeoutMs: number;
}

/**
 * Defaults for a droplet that is still running cloud-init: 5 min in total (Docker install plus
 * image pull), first retry after 1 s, pauses doubling up to 15 s, 10 s per probe.
 */
export const DEFAULT_HEALTH_WAIT: HealthWaitOptions = {
  budgetMs: 300_000,
  initialDelayMs: 1_000,
  maxDelayMs: 15_000,
  probeTimeoutMs: 10_000,
};

/**
 * Pause before the next probe, or `undefined` when the budget is spent. The pause is
 * `min(maxDelayMs, initialDelayMs · 2^(failedProbes−1))`, cut to what is left of the budget so
 * the last probe happens at the deadline; never below 1 ms. No jitter: one operator, one gateway.
 *
 * @param failedProbes - probes so far, all failed (≥ 1).
 * @param elapsedMs - time since the first probe started.
 */
export function nextProbeDelayMs(
  failedProbes: number,
  elapsedMs: number,
  options: Pick<HealthWaitOptions, "budgetMs" | "initialDelayMs" | "maxDelayMs">,
): number | undefined {
  const remaining = options.budgetMs - elapsedMs;
  if (remaining <= 0) return undefined;
  const exponent = Math.max(0, failedProbes - 1);
  const backoff = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** exponent);
  // At least 1 ms, so a zero initial delay cannot spin without time moving.
  return Math.max(1, Math.min(backoff, remaining));
}

/**
 * Outcome of {@link waitForHealthy}; `elapsedMs` is measured with the injected `now`. A wait
 * cancelled through its signal has `interrupted: true`.
 */
export type HealthWaitResult =
  | { ok: true; probes: number; elapsedMs: number }
  | { ok: false; interrupted?: false; probes: number; elapsedMs: number; lastReason: string }
  | { ok: false; interrupted: true; probes: number; elapsedMs: number };

/**
 * Probes until healthy, the budget is spent, or `deps.signal` fires (checked before each probe,
 * after a failed probe, and during the pause). Never rejects unless `probe` or `sleep` does for
 * another reason than the signal.
 *
 * @param probe - one probe with its timeout in ms and the signal (e.g. `GatewayAdmin.health`).
 * @param deps.now - the current time, epoch ms (`Date.now` in production).
 */
export async function waitForHealthy(
  probe: (timeoutMs: number, signal?: AbortSignal) => Promise<HealthProbe>,
  options: HealthWaitOptions,
  deps: { now: () => number; sleep: Sleep; signal?: AbortSignal },
): Promise<HealthWaitResult> {
  const { signal } = deps;
  const start = deps.now();
  let probes = 0;
  const interrupted = () => ({
    ok: false as const,
    interrupted: true as const,
    probes,
    elapsedMs: deps.now() - start,
  });
  for (;;) {
    if (signal?.aborted) return interrupted();
    const result = await probe(options.probeTimeoutMs, signal);
    probes += 1;
    const elapsedMs = deps.now() - start;
    if (result.healthy) return { ok: true, probes, elapsedMs };
    if (signal?.aborted) return interrupted();
    const delay = nextProbeDelayMs(probes, elapsedMs, options);
    if (delay === undefined) return { ok: false, probes, elapsedMs, lastReason: result.reason };
    try {
      await deps.sleep(delay, signal);
    } catch (error) {
      if (signal?.aborted) return interrupted();
      throw error;
    }
  }
}
