/**
 * When the provider manager retries a failed call on the same provider, and how long each call
 * may take: pure decisions, kept apart from the call loop in `./manager`. The delay schedule
 * itself is `core/resilience/backoff.ts`.
 */
import { type BackoffWindow, retryDelayMs } from "../resilience/backoff";
import type { BreakerState } from "../resilience/breaker";
import type { ProviderId } from "./types";

/** Retry settings of one provider within one `complete`. */
export interface RetryPolicy extends BackoffWindow {
  /** Calls per provider, first one included. */
  maxAttempts: number;
  /**
   * Longest server `retry-after` honoured, in ms: the manager runs inside a Lambda with a
   * bounded timeout, so a server asking for minutes gets this instead.
   */
  maxRetryAfterMs: number;
}

/** 3 calls per provider; full-jitter windows of 0.5, 1, 2 … 8 s; `retry-after` capped at 20 s. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  maxAttempts: 3,
  baseMs: 500,
  maxMs: 8_000,
  maxRetryAfterMs: 20_000,
};

/** Result of {@link decideRetry}. */
export type RetryDecision =
  | { retry: true; delayMs: number }
  | {
      retry: false;
      /** Why a retryable failure was not retried (for the turn's notes); absent otherwise. */
      note?: string;
    };

/** Inputs of {@link decideRetry}. */
export interface RetryInput {
  provider: ProviderId;
  /** The failure of the attempt that just ended (an `LlmError`). */
  failure: { retryable: boolean; retryAfterMs?: number | undefined };
  /** 1-based number of the attempt that just failed. */
  attempt: number;
  /** The provider's breaker after that failure was recorded. */
  breaker: BreakerState;
  /** Epoch ms from the injected clock. */
  nowMs: number;
  /** Epoch ms by which the whole `complete` must be done; absent = no budget. */
  deadline: number | undefined;
  policy: RetryPolicy;
  /** Uniform [0, 1) for the backoff's jitter. */
  random: () => number;
}

/**
 * Whether to call the same provider again, and after how many ms. Permanent failures
 * (`retryable: false`) and the last allowed attempt stop silently. A retryable failure also
 * stops when it opened the breaker (the next turns skip the provider anyway) or when the wait
 * would reach the deadline; those stops carry a note. The wait checked against the deadline is
 * the longer of our delay and the server's own `retry-after`, uncapped: a server that will not
 * serve us before the deadline would only refuse a retry sent earlier (after the capped wait),
 * so the fallback gets the time instead.
 */
export function decideRetry(input: RetryInput): RetryDecision {
  const { provider, failure, attempt, policy } = input;
  if (!failure.retryable || attempt >= policy.maxAttempts) return { retry: false };
  if (input.breaker.state === "open") {
    return { retry: false, note: `${provider}: circuit breaker opened; no further retries` };
  }
  const delayMs = retryDelayMs(failure, attempt, { ...policy, random: input.random });
  const asked = Math.max(delayMs, failure.retryAfterMs ?? 0);
  if (input.deadline !== undefined && input.nowMs + asked >= input.deadline) {
    return {
      retry: false,
      note:
        asked > delayMs
          ? `${provider}: retry-after ${Math.ceil(asked / 1000)} s is past the budget; not retried`
          : `${provider}: no time left in the budget for another retry`,
    };
  }
  return { retry: true, delayMs };
}

/**
 * Timeout of one call, in ms: `timeoutMs`, trimmed to what is left before `deadline` (at least
 * 1 ms, so an exhausted budget still yields a valid, immediately expiring request).
 */
export function callTimeoutMs(
  timeoutMs: number,
  deadline: number | undefined,
  nowMs: number,
): number {
  return deadline === undefined ? timeoutMs : Math.max(1, Math.min(timeoutMs, deadline - nowMs));
}
