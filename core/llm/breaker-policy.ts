/**
 * How LLM call outcomes and the scheduled health check drive each provider's circuit breaker
 * (the pure state machine is `core/resilience/breaker.ts`; where the state lives is
 * `./breaker-store`). Thresholds and which error kinds count are LLM policy, so they live here.
 */
import {
  type Admission,
  admitCall,
  type BreakerPolicy,
  type BreakerState,
  recordFailure,
  recordInconclusive,
  recordSuccess,
} from "../resilience/breaker";
import type { LlmErrorKind, ProviderId } from "./types";

/** Provider breaker thresholds: open after 3 consecutive counted failures, half-open after 60 s. */
export const DEFAULT_BREAKER_POLICY: Readonly<BreakerPolicy> = {
  failureThreshold: 3,
  openMs: 60_000,
};

/**
 * How a call's outcome affects the breaker:
 * - `failure`: transient and server-side kinds (`rate_limit`, `server`, `timeout`, `network`)
 *   and `auth`. An invalid or revoked key fails every call from every container until an
 *   operator fixes it, exactly like an outage, so opening the breaker routes traffic to the
 *   other provider at once instead of paying a doomed round trip on every turn.
 * - `healthy`: `invalid_request`, `model_not_found`. The provider parsed our request and
 *   answered; the fault is in the request, and the provider is demonstrably up.
 * - `neutral`: `unknown`, `unconfigured`, `circuit_open`: says nothing about the provider's
 *   health (an unclassified error may be our own bug), so the state is left alone.
 */
export function breakerEffect(kind: LlmErrorKind): "failure" | "healthy" | "neutral" {
  switch (kind) {
    case "rate_limit":
    case "server":
    case "timeout":
    case "network":
    case "auth":
      return "failure";
    case "invalid_request":
    case "model_not_found":
      return "healthy";
    default:
      return "neutral";
  }
}

/**
 * Applies a call outcome (`undefined` = success, else the failure kind) via
 * {@link breakerEffect}: failures go to `recordFailure`, healthy answers to `recordSuccess`,
 * neutral ones to `recordInconclusive` (see `core/resilience/breaker.ts`).
 *
 * @param nowMs - epoch ms from the injected clock.
 */
export function recordOutcome(
  state: BreakerState,
  failureKind: LlmErrorKind | undefined,
  nowMs: number,
  policy: BreakerPolicy,
): BreakerState {
  if (failureKind === undefined) return recordSuccess(state);
  const effect = breakerEffect(failureKind);
  if (effect === "failure") return recordFailure(state, nowMs, policy);
  if (effect === "healthy") return recordSuccess(state);
  return recordInconclusive(state);
}

/** The part of a scheduled health check's result the breaker and the manager act on. */
export interface ProviderCheck {
  /** Whether the probe (a cheap authenticated call) succeeded. */
  ok: boolean;
  /** Epoch ms when the probe finished. */
  checkedAt: number;
  /** Failure kind of a failed provider probe (see {@link breakerEffect}); absent when ok. */
  kind?: LlmErrorKind;
}

/**
 * Where the provider manager reads the latest health check of a provider (the health check's
 * record store satisfies it). `lastCheck` may reject; the manager then ignores health.
 */
export interface ProviderHealthSource {
  /** The latest recorded check, or `undefined` when the provider was never checked. */
  lastCheck(provider: ProviderId): Promise<ProviderCheck | undefined>;
}

/**
 * Default age in ms after which a failed health check no longer keeps a provider out (three
 * 5-minute cron periods): if the check stops running, the breaker's own half-open trial
 * takes over again instead of refusing the provider forever on old news.
 */
export const DEFAULT_HEALTH_STALE_MS = 15 * 60_000;

/**
 * The breaker after a scheduled health check of its provider:
 * - probe passed → closed (the check is the half-open trial, done out of band);
 * - probe failed with a counted kind (see {@link breakerEffect}; a timeout of the check
 *   itself counts as `timeout`) → open now, whatever the state, so turns route to the other
 *   provider without first paying three failed user-facing calls; `openedAt` restarts the
 *   usual cool-down;
 * - any other failed probe (the provider answered, e.g. 404) → unchanged.
 *
 * @param nowMs - epoch ms from the injected clock.
 */
export function breakerAfterHealthCheck(
  state: BreakerState,
  check: Pick<ProviderCheck, "ok" | "kind">,
  nowMs: number,
): BreakerState {
  if (check.ok) return recordSuccess(state);
  if (breakerEffect(check.kind ?? "timeout") !== "failure") return state;
  return { state: "open", consecutiveFailures: state.consecutiveFailures + 1, openedAt: nowMs };
}

/**
 * `admitCall` with the latest health check taken into account: a provider whose breaker is
 * not closed and whose last check failed with a counted kind (see {@link breakerEffect}; a
 * failure without a kind counts, as in {@link breakerAfterHealthCheck}) less than `staleMs`
 * ago is refused, even when the breaker's cool-down has passed, because the check already is
 * the trial and said no. A closed breaker admits whatever the check said (a real call has
 * succeeded since, or the check's failure was not a counted kind). A check that failed with a
 * kind showing the provider answered (`model_not_found`, `invalid_request`) or an inconclusive
 * one (`unknown`), a stale check and a missing one all fall back to the breaker alone, so a
 * provider whose probe keeps failing for such a reason still gets its half-open trial.
 *
 * @param staleMs - age in ms after which a failed check is ignored.
 * @returns the admission plus `healthRefused` when the check, not the breaker, refused.
 */
export function admitCallWithHealth(
  state: BreakerState,
  check: ProviderCheck | undefined,
  nowMs: number,
  policy: BreakerPolicy,
  staleMs: number = DEFAULT_HEALTH_STALE_MS,
): Admission & { healthRefused: boolean } {
  const checkFailed =
    check !== undefined &&
    !check.ok &&
    nowMs - check.checkedAt < staleMs &&
    breakerEffect(check.kind ?? "timeout") === "failure";
  if (state.state !== "closed" && checkFailed) {
    return { allowed: false, next: state, healthRefused: true };
  }
  return { ...admitCall(state, nowMs, policy), healthRefused: false };
}
