/**
 * Circuit breaker as a pure state machine (the pattern as described in Martin Fowler,
 * "CircuitBreaker", https://martinfowler.com/bliki/CircuitBreaker.html). Callers own where the
 * state is stored and what counts as a failure; this module owns only the transitions.
 *
 * closed ──failureThreshold failures in a row──▶ open ──openMs──▶ half-open (one trial)
 *   ▲                                              ▲                   │
 *   └────────────── trial succeeds ────────────────┼───────────────────┤
 *                                                  └── trial fails ────┘
 */

/** State of one breaker, as stored and as reported. */
export interface BreakerState {
  state: "closed" | "open" | "half-open";
  /** Failures since the last success. */
  consecutiveFailures: number;
  /** Epoch ms when the breaker last opened; set while `open` and `half-open`. */
  openedAt?: number;
  /** Epoch ms when the current half-open trial was granted; set only while `half-open`. */
  trialStartedAt?: number;
}

/** Thresholds of a breaker. */
export interface BreakerPolicy {
  /** Consecutive failures that open a closed breaker. */
  failureThreshold: number;
  /**
   * Ms an open breaker refuses calls before allowing one trial. Also how long a granted trial
   * may stay unresolved before another caller may try: the process running it can die
   * mid-call, and a breaker stuck half-open would refuse the callee forever.
   */
  openMs: number;
}

/** A fresh, healthy breaker. */
export const CLOSED: Readonly<BreakerState> = { state: "closed", consecutiveFailures: 0 };

/** Result of {@link admitCall}. */
export interface Admission {
  allowed: boolean;
  /** State to store when `allowed` flipped it to half-open; otherwise the input. */
  next: BreakerState;
}

/**
 * Whether a call may go out now. Closed admits. Open refuses until `openMs` has passed since
 * `openedAt`, then admits one trial and moves to half-open. Half-open refuses while a trial is
 * in flight, unless that trial is older than `openMs` (its caller presumably died), in which
 * case a new trial is granted.
 *
 * @param nowMs - current epoch ms from the injected clock.
 */
export function admitCall(state: BreakerState, nowMs: number, policy: BreakerPolicy): Admission {
  if (state.state === "closed") return { allowed: true, next: state };
  const since = state.state === "open" ? state.openedAt : state.trialStartedAt;
  if (since === undefined || nowMs - since >= policy.openMs) {
    return {
      allowed: true,
      next: {
        state: "half-open",
        consecutiveFailures: state.consecutiveFailures,
        openedAt: state.openedAt ?? nowMs,
        trialStartedAt: nowMs,
      },
    };
  }
  return { allowed: false, next: state };
}

/** A successful call closes the breaker and clears the count. */
export function recordSuccess(_state: BreakerState): BreakerState {
  return { ...CLOSED };
}

/**
 * A counted failure: increments the count; a failed half-open trial reopens at once, a closed
 * breaker opens when the count reaches `failureThreshold`. `openedAt` restarts the cool-down.
 *
 * @param nowMs - current epoch ms from the injected clock.
 */
export function recordFailure(
  state: BreakerState,
  nowMs: number,
  policy: BreakerPolicy,
): BreakerState {
  const consecutiveFailures = state.consecutiveFailures + 1;
  if (state.state !== "closed" || consecutiveFailures >= policy.failureThreshold) {
    return { state: "open", consecutiveFailures, openedAt: nowMs };
  }
  return { state: "closed", consecutiveFailures };
}

/**
 * A call whose outcome says nothing about the callee's health. A closed or open breaker stays
 * as it is. A half-open trial that ended this way hands the trial to the next caller at once
 * (`openedAt` is already older than `openMs`) instead of blocking everyone for another `openMs`.
 */
export function recordInconclusive(state: BreakerState): BreakerState {
  if (state.state !== "half-open") return state;
  const reopened: BreakerState = { state: "open", consecutiveFailures: state.consecutiveFailures };
  if (state.openedAt !== undefined) reopened.openedAt = state.openedAt;
  return reopened;
}

/** Field-by-field equality, so callers skip writes that would change nothing. */
export function sameBreakerState(a: BreakerState, b: BreakerState): boolean {
  return (
    a.state === b.state &&
    a.consecutiveFailures === b.consecutiveFailures &&
    a.openedAt === b.openedAt &&
    a.trialStartedAt === b.trialStartedAt
  );
}
