/**
 * Per-provider circuit breaker: pure state transitions plus the stores that share the state
 * across Lambda containers (DynamoDB table, cached briefly in memory) or keep it in-process.
 *
 * closed ──3 consecutive counted failures──▶ open ──60 s──▶ half-open (one trial call)
 *   ▲                                          ▲                 │
 *   └──────────── trial succeeds ──────────────┼─────────────────┤
 *                                              └─ trial fails ───┘
 */
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { LlmErrorKind, ProviderId } from "./types";

/** Breaker state of one provider, as stored and as reported by `/health`. */
export interface BreakerState {
  state: "closed" | "open" | "half-open";
  /** Counted failures since the last success (see {@link breakerEffect}). */
  consecutiveFailures: number;
  /** Epoch ms when the breaker last opened; set while `open` and `half-open`. */
  openedAt?: number;
  /** Epoch ms when the current half-open trial was granted; set only while `half-open`. */
  trialStartedAt?: number;
}

/** Thresholds of the breaker. */
export interface BreakerPolicy {
  /** Consecutive counted failures that open a closed breaker. */
  failureThreshold: number;
  /**
   * Ms an open breaker refuses calls before allowing one trial. Also how long a granted trial
   * may stay unresolved before another caller may try: the container running it can die
   * mid-call, and a breaker stuck half-open would refuse the provider forever.
   */
  openMs: number;
}

/** Design defaults: open after 3 consecutive failures, half-open after 60 s. */
export const DEFAULT_BREAKER_POLICY: Readonly<BreakerPolicy> = {
  failureThreshold: 3,
  openMs: 60_000,
};

/** A fresh, healthy breaker. */
export const CLOSED: Readonly<BreakerState> = { state: "closed", consecutiveFailures: 0 };

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

/** Result of {@link admitCall}. */
export interface Admission {
  allowed: boolean;
  /** State to store when `allowed` flipped it to half-open; otherwise the input. */
  next: BreakerState;
}

/**
 * Whether a call may go to the provider now. Closed admits. Open refuses until `openMs` has
 * passed since `openedAt`, then admits one trial and moves to half-open. Half-open refuses
 * while a trial is in flight, unless that trial is older than `openMs` (its caller presumably
 * died), in which case a new trial is granted.
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

/** A successful (or provider-healthy) call closes the breaker and clears the count. */
export function recordSuccess(_state: BreakerState): BreakerState {
  return { ...CLOSED };
}

/**
 * A counted failure: increments the count; a failed half-open trial reopens at once, a closed
 * breaker opens when the count reaches `failureThreshold`. `openedAt` restarts the 60 s.
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
 * Applies a call outcome (`undefined` = success, else the failure kind) via
 * {@link breakerEffect}: failures go to {@link recordFailure}, healthy answers to
 * {@link recordSuccess}, neutral ones leave a closed or open breaker as it is.
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
  // A half-open trial that ended inconclusively hands the trial to the next caller at once
  // (openedAt is already older than openMs) instead of blocking everyone for another openMs.
  if (state.state === "half-open") {
    const reopened: BreakerState = {
      state: "open",
      consecutiveFailures: state.consecutiveFailures,
    };
    if (state.openedAt !== undefined) reopened.openedAt = state.openedAt;
    return reopened;
  }
  return state;
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
 * {@link admitCall} with the latest health check taken into account: a provider whose breaker
 * is not closed and whose last check failed with a counted kind (see {@link breakerEffect};
 * a failure without a kind counts, as in {@link breakerAfterHealthCheck}) less than `staleMs`
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

/** Field-by-field equality, so callers skip writes that would change nothing. */
export function sameBreakerState(a: BreakerState, b: BreakerState): boolean {
  return (
    a.state === b.state &&
    a.consecutiveFailures === b.consecutiveFailures &&
    a.openedAt === b.openedAt &&
    a.trialStartedAt === b.trialStartedAt
  );
}

/**
 * Where breaker state lives. Both methods may reject (e.g. DynamoDB unreachable); the
 * provider manager reports that through its `onStoreError` option and carries on with its
 * in-memory copy, because a chat turn must not fail over bookkeeping.
 */
export interface BreakerStore {
  /** Current state; {@link CLOSED} for a provider never recorded. */
  get(provider: ProviderId): Promise<BreakerState>;
  put(provider: ProviderId, state: BreakerState): Promise<void>;
}

/** Process-local store: for tests, the local stack, and single-container use. */
export class InMemoryBreakerStore implements BreakerStore {
  private readonly states = new Map<ProviderId, BreakerState>();

  async get(provider: ProviderId): Promise<BreakerState> {
    return { ...(this.states.get(provider) ?? CLOSED) };
  }

  async put(provider: ProviderId, state: BreakerState): Promise<void> {
    this.states.set(provider, { ...state });
  }
}

/**
 * The slice of `DynamoDBDocumentClient` this store uses, so tests can pass a fake `send`.
 * A real `DynamoDBDocumentClient` satisfies it.
 */
export interface BreakerDocumentClient {
  send(command: GetCommand | PutCommand): Promise<unknown>;
}

/** Constructor options of {@link DynamoBreakerStore}. */
export interface DynamoBreakerStoreOptions {
  /** Document client built once per container (the composition function owns endpoint/region). */
  client: BreakerDocumentClient;
  /** The single table (`MEMORY_TABLE_NAME`), keys `pk`/`sk`. */
  tableName: string;
  /**
   * How long a read is reused before DynamoDB is asked again, in ms (default 5000). Every chat
   * turn consults the breaker; a few seconds of staleness is harmless next to a 60 s open
   * window and saves a read per call.
   */
  cacheMs?: number;
  /** Epoch-ms clock (default `Date.now`). */
  clock?: () => number;
}

/**
 * Breaker state shared across Lambda containers in the memory table: item
 * `{ pk: "HEALTH#<provider>", sk: "BREAKER", state, consecutiveFailures, openedAt?,
 * trialStartedAt?, updatedAt }`. Writes are last-writer-wins: two containers racing can lose
 * one failure count, which only delays opening by a call, so no conditional write is used.
 * `get`/`put` reject with the SDK's error when DynamoDB fails.
 */
export class DynamoBreakerStore implements BreakerStore {
  private readonly client: BreakerDocumentClient;
  private readonly tableName: string;
  private readonly cacheMs: number;
  private readonly clock: () => number;
  private readonly cache = new Map<ProviderId, { state: BreakerState; at: number }>();

  constructor(options: DynamoBreakerStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.cacheMs = options.cacheMs ?? 5_000;
    this.clock = options.clock ?? Date.now;
  }

  /** Item key of a provider's breaker. */
  static key(provider: ProviderId): { pk: string; sk: string } {
    return { pk: `HEALTH#${provider}`, sk: "BREAKER" };
  }

  async get(provider: ProviderId): Promise<BreakerState> {
    const now = this.clock();
    const cached = this.cache.get(provider);
    if (cached && now - cached.at < this.cacheMs) return { ...cached.state };
    const out = (await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: DynamoBreakerStore.key(provider) }),
    )) as { Item?: Record<string, unknown> } | undefined;
    const state = parseBreakerItem(out?.Item);
    this.cache.set(provider, { state, at: now });
    return { ...state };
  }

  async put(provider: ProviderId, state: BreakerState): Promise<void> {
    // Cache first: if the write fails this container still acts on what it just learned.
    this.cache.set(provider, { state: { ...state }, at: this.clock() });
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...DynamoBreakerStore.key(provider), ...state, updatedAt: this.clock() },
      }),
    );
  }
}

/**
 * Reads a stored breaker item defensively: a missing or malformed item (hand-edited, older
 * schema) reads as {@link CLOSED}, since failing open toward trying the provider is safer
 * than refusing it on bad data.
 */
export function parseBreakerItem(item: Record<string, unknown> | undefined): BreakerState {
  if (!item) return { ...CLOSED };
  const { state, consecutiveFailures, openedAt, trialStartedAt } = item;
  if (state !== "closed" && state !== "open" && state !== "half-open") return { ...CLOSED };
  const out: BreakerState = {
    state,
    consecutiveFailures:
      typeof consecutiveFailures === "number" && consecutiveFailures >= 0 ? consecutiveFailures : 0,
  };
  if (typeof openedAt === "number") out.openedAt = openedAt;
  if (typeof trialStartedAt === "number") out.trialStartedAt = trialStartedAt;
  if (state !== "closed" && out.openedAt === undefined) return { ...CLOSED };
  return out;
}
