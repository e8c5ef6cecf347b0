/**
 * The provider manager: the call loop that answers a turn under the routing (`./routing`),
 * retry (`./retry-policy`) and circuit-breaker (`./breaker-policy`) decisions, reading and
 * writing breaker state through a store. Providers only translate HTTP; clock, sleep and
 * randomness are injected so tests replay the loop exactly.
 */
import {
  type BreakerPolicy,
  type BreakerState,
  CLOSED,
  sameBreakerState,
} from "../resilience/breaker";
import {
  admitCallWithHealth,
  DEFAULT_BREAKER_POLICY,
  type ProviderCheck,
  type ProviderHealthSource,
  recordOutcome,
} from "./breaker-policy";
import { type BreakerStore, InMemoryBreakerStore } from "./breaker-store";
import { UNCONFIGURED_REASONS } from "./configured";
import { LlmError, toLlmError } from "./errors";
import type { ResolvedModel } from "./models";
import { callTimeoutMs, DEFAULT_RETRY_POLICY, decideRetry, type RetryPolicy } from "./retry-policy";
import { chooseDefaultModel, fallbackModels, planRoute } from "./routing";
import {
  type CompleteInput,
  type Completer,
  type Completion,
  DEFAULT_MAX_TOKENS,
  type LlmErrorKind,
  type LlmProvider,
  PROVIDER_IDS,
  type ProviderId,
} from "./types";

/** One call to a provider, for logs and tests. */
export interface AttemptRecord {
  provider: ProviderId;
  /** Concrete model id sent. */
  model: string;
  /** 1-based attempt number on this provider within one `complete`. */
  attempt: number;
  ok: boolean;
  /** Failure kind; absent on success. */
  kind?: LlmErrorKind;
  /** HTTP status of a failed call, when the provider answered. */
  status?: number;
  /** Ms waited before the next attempt on the same provider; absent when none followed. */
  delayMs?: number;
  /** Ms the call took by the injected clock. */
  durationMs: number;
}

/**
 * A breaker store operation, or a health read (`health`), that failed; the manager continued
 * on its in-memory copy (or without health).
 */
export interface StoreErrorInfo {
  provider: ProviderId;
  operation: "get" | "put" | "health";
  error: unknown;
}

/** Options of {@link createProviderManager}. */
export interface ProviderManagerOptions {
  /** Configured providers; an absent entry is an unconfigured provider. */
  providers: Partial<Record<ProviderId, LlmProvider>>;
  /** Human-readable reason per unconfigured provider, shown in the turn's notes. */
  unconfiguredReasons?: Partial<Record<ProviderId, string>>;
  /**
   * `DEFAULT_MODEL` (id or alias). Absent: Anthropic's default if Anthropic is configured,
   * else the OpenAI-compatible provider's.
   */
  defaultModel?: string;
  /** Where breaker state lives; default a fresh {@link InMemoryBreakerStore}. */
  breakerStore?: BreakerStore;
  /** Breaker thresholds; default 3 failures, 60 s. */
  breakerPolicy?: Partial<BreakerPolicy>;
  /**
   * Latest scheduled health check per provider; consulted only while a provider's breaker is
   * not closed (see `admitCallWithHealth`), so healthy turns pay no extra read. Absent: the
   * breaker alone decides.
   */
  healthSource?: ProviderHealthSource;
  /** Age in ms after which a failed check is ignored (default `DEFAULT_HEALTH_STALE_MS`). */
  healthStaleMs?: number;
  /** Epoch-ms clock; default `Date.now`. */
  now?: () => number;
  /** Waits `ms`; default a `setTimeout` promise. */
  sleep?: (ms: number) => Promise<void>;
  /** Uniform [0, 1) for jitter; default `Math.random`. */
  random?: () => number;
  /** Calls per provider per `complete`, first one included (default 3). */
  maxAttempts?: number;
  /** First backoff window in ms (default 500). */
  baseDelayMs?: number;
  /** Largest backoff window in ms (default 8000). */
  maxDelayMs?: number;
  /** Cap on a server's `retry-after`, in ms (default 20 000): we run inside a bounded Lambda. */
  maxRetryAfterMs?: number;
  /** HTTP timeout of each call in ms (default 30 000). */
  timeoutMs?: number;
  /**
   * Wall-time budget of one `complete`, in ms (default none). Set it below the Lambda timeout:
   * retries and the fallback that cannot start inside it are skipped, and each call's timeout
   * is trimmed to what remains.
   */
  budgetMs?: number;
  /** Called after every provider call (for structured logging). Must not throw. */
  onAttempt?: (info: AttemptRecord) => void;
  /** Called when the breaker store fails; the turn carries on. Must not throw. */
  onStoreError?: (info: StoreErrorInfo) => void;
}

/**
 * Outcome of {@link ProviderManager.complete}: errors are values here because a failed turn is
 * an expected state the chat worker answers politely, not an exception. `attempts` lists every
 * provider call in order; `notes` explains routing decisions (unknown model replaced by the
 * default, provider skipped as unconfigured or breaker-open, fallback taken).
 */
export type CompleteResult =
  | { ok: true; completion: Completion; attempts: AttemptRecord[]; notes: string[] }
  | { ok: false; error: LlmError; attempts: AttemptRecord[]; notes: string[] };

/** What {@link createProviderManager} returns. */
export interface ProviderManager extends Completer {
  /** The model used when a turn names none, with its provider. */
  readonly defaultModel: ResolvedModel;
  /**
   * Answers one turn under the retry/fallback/breaker policy. Never rejects: every failure,
   * including "nothing configured" (`kind: "unconfigured"`), comes back as `{ ok: false }`.
   * When several calls failed, `error` is the last real call's error; when no call was made,
   * it is the first skip's (`unconfigured` or `circuit_open`).
   */
  complete(input: CompleteInput): Promise<CompleteResult>;
}

type StepOutcome = { ok: true; completion: Completion } | { ok: false; error: LlmError };

/**
 * Builds the manager once per container.
 *
 * Policy of `complete`:
 * 1. Nothing configured → `{ ok: false, error.kind: "unconfigured" }` at once, naming
 *    `ANTHROPIC_API_KEY` and `MODEL_MANAGER_BASE_URL`.
 * 2. Resolve `input.model` (alias → id); an unroutable name is replaced by the default model
 *    (noted). The primary is the provider that routes it (`planRoute`).
 * 3. A provider that is unconfigured or whose breaker refuses the call is skipped (noted);
 *    so is one whose breaker is not closed and whose last health check failed with a counted
 *    kind, even after the breaker's cool-down (the check is the trial; see
 *    `admitCallWithHealth`).
 * 4. Transient failures (`rate_limit`, `server` incl. 529, `timeout`, `network`) are retried up
 *    to `maxAttempts` calls with full-jitter backoff, or the server's `retry-after` (capped at
 *    `maxRetryAfterMs`); `auth`, `invalid_request`, `model_not_found` never are (`decideRetry`).
 * 5. If the primary fails or is skipped, fall back once to the other provider's fallback model
 *    (`fallbackModels`), same rules.
 * 6. Each call's outcome updates that provider's breaker; once it opens, retries on that
 *    provider stop and the next turns skip straight to the fallback until the 60 s trial.
 *
 * @throws {Error} at construction when `defaultModel` names an unroutable model.
 */
export function createProviderManager(options: ProviderManagerOptions): ProviderManager {
  const now = options.now ?? Date.now;
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const store = options.breakerStore ?? new InMemoryBreakerStore();
  const policy: BreakerPolicy = { ...DEFAULT_BREAKER_POLICY, ...options.breakerPolicy };
  const retry: RetryPolicy = {
    maxAttempts: Math.max(1, options.maxAttempts ?? DEFAULT_RETRY_POLICY.maxAttempts),
    baseMs: options.baseDelayMs ?? DEFAULT_RETRY_POLICY.baseMs,
    maxMs: options.maxDelayMs ?? DEFAULT_RETRY_POLICY.maxMs,
    maxRetryAfterMs: options.maxRetryAfterMs ?? DEFAULT_RETRY_POLICY.maxRetryAfterMs,
  };
  const timeoutMs = options.timeoutMs ?? 30_000;
  const providers = options.providers;
  const reasons = { ...UNCONFIGURED_REASONS, ...options.unconfiguredReasons };
  const defaultModel = chooseDefaultModel(options.defaultModel, providers.anthropic !== undefined);
  const fallbacks = fallbackModels(defaultModel);

  // Last state seen or written per provider: what we act on when the store is unreachable.
  const mirror = new Map<ProviderId, BreakerState>();

  async function readBreaker(id: ProviderId): Promise<BreakerState> {
    try {
      const state = await store.get(id);
      mirror.set(id, state);
      return state;
    } catch (error) {
      options.onStoreError?.({ provider: id, operation: "get", error });
      return mirror.get(id) ?? { ...CLOSED };
    }
  }

  async function readHealth(id: ProviderId): Promise<ProviderCheck | undefined> {
    if (!options.healthSource) return undefined;
    try {
      return await options.healthSource.lastCheck(id);
    } catch (error) {
      options.onStoreError?.({ provider: id, operation: "health", error });
      return undefined;
    }
  }

  async function writeBreaker(id: ProviderId, state: BreakerState): Promise<void> {
    mirror.set(id, state);
    try {
      await store.put(id, state);
    } catch (error) {
      options.onStoreError?.({ provider: id, operation: "put", error });
    }
  }

  function report(attempts: AttemptRecord[], record: AttemptRecord): void {
    attempts.push(record);
    options.onAttempt?.(record);
  }

  /** Calls one provider until it answers or {@link decideRetry} says stop. */
  async function runProvider(
    provider: LlmProvider,
    model: string,
    input: CompleteInput,
    initial: BreakerState,
    deadline: number | undefined,
    attempts: AttemptRecord[],
    notes: string[],
  ): Promise<StepOutcome> {
    let state = initial;
    for (let attempt = 1; ; attempt++) {
      const started = now();
      let completion: Completion | undefined;
      let error: LlmError | undefined;
      try {
        completion = await provider.complete({
          model,
          system: input.system,
          messages: input.messages,
          maxTokens: input.maxTokens ?? DEFAULT_MAX_TOKENS,
          timeoutMs: callTimeoutMs(timeoutMs, deadline, started),
        });
      } catch (err) {
        error = toLlmError(provider.id, err, now());
      }
      const finished = now();
      const next = recordOutcome(state, error?.kind, finished, policy);
      if (!sameBreakerState(state, next)) await writeBreaker(provider.id, next);
      state = next;
      const record: AttemptRecord = {
        provider: provider.id,
        model,
        attempt,
        ok: error === undefined,
        durationMs: finished - started,
      };
      if (completion !== undefined) {
        report(attempts, record);
        return { ok: true, completion };
      }
      const failure = error as LlmError;
      record.kind = failure.kind;
      if (failure.status !== undefined) record.status = failure.status;
      const decision = decideRetry({
        provider: provider.id,
        failure,
        attempt,
        breaker: state,
        nowMs: now(),
        deadline,
        policy: retry,
        random,
      });
      if (!decision.retry) {
        if (decision.note) notes.push(decision.note);
        report(attempts, record);
        return { ok: false, error: failure };
      }
      record.delayMs = decision.delayMs;
      report(attempts, record);
      await sleep(decision.delayMs);
    }
  }

  /** Admits a call to `id` or says why not (a note plus the `circuit_open` error). */
  async function admit(
    id: ProviderId,
  ): Promise<{ state: BreakerState } | { note: string; error: LlmError }> {
    const state = await readBreaker(id);
    const check = state.state === "closed" ? undefined : await readHealth(id);
    const admission = admitCallWithHealth(state, check, now(), policy, options.healthStaleMs);
    if (admission.allowed) {
      if (!sameBreakerState(state, admission.next)) await writeBreaker(id, admission.next);
      return { state: admission.next };
    }
    const healthNote = admission.healthRefused ? "last health check failed and " : "";
    return {
      note: `${id}: ${healthNote}circuit breaker ${state.state}; skipped`,
      error: new LlmError({
        kind: "circuit_open",
        provider: id,
        message: admission.healthRefused
          ? `${id}: circuit breaker ${state.state} and the last health check failed`
          : `${id}: circuit breaker ${state.state} after repeated failures`,
      }),
    };
  }

  async function complete(input: CompleteInput): Promise<CompleteResult> {
    const attempts: AttemptRecord[] = [];
    if (PROVIDER_IDS.every((id) => providers[id] === undefined)) {
      const error = new LlmError({
        kind: "unconfigured",
        provider: defaultModel.provider,
        message:
          "No LLM provider is configured: set ANTHROPIC_API_KEY (Anthropic) or " +
          "MODEL_MANAGER_BASE_URL (an OpenAI-compatible endpoint).",
      });
      return { ok: false, error, attempts, notes: [] };
    }
    const deadline = options.budgetMs === undefined ? undefined : now() + options.budgetMs;
    const { steps, notes } = planRoute(input.model, defaultModel, fallbacks);

    let callError: LlmError | undefined;
    let skipError: LlmError | undefined;
    for (const [index, step] of steps.entries()) {
      if (index > 0) {
        if (deadline !== undefined && now() >= deadline) {
          notes.push(`${step.provider}: no time left in the budget for the fallback`);
          break;
        }
        notes.push(`falling back to ${step.provider} ${step.model}`);
      }
      const provider = providers[step.provider];
      if (!provider) {
        const message = `${step.provider}: not configured (${reasons[step.provider]})`;
        notes.push(message);
        skipError ??= new LlmError({ kind: "unconfigured", provider: step.provider, message });
        continue;
      }
      const admitted = await admit(step.provider);
      if (!("state" in admitted)) {
        notes.push(admitted.note);
        skipError ??= admitted.error;
        continue;
      }
      const outcome = await runProvider(
        provider,
        step.model,
        input,
        admitted.state,
        deadline,
        attempts,
        notes,
      );
      if (outcome.ok) return { ok: true, completion: outcome.completion, attempts, notes };
      callError = outcome.error;
    }
    const error =
      callError ??
      skipError ??
      new LlmError({ kind: "unknown", provider: steps[0].provider, message: "no provider tried" });
    return { ok: false, error, attempts, notes };
  }

  return { defaultModel, complete };
}
