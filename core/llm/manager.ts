/**
 * The provider manager: the one place that decides which model answers a turn, how often a
 * failing call is retried, when to fall back to the other provider, and when a provider is
 * skipped because its circuit breaker is open. Providers only translate HTTP; this module
 * holds the policy, with clock, sleep and randomness injected so tests replay it exactly.
 */
import { DEFAULT_BACKOFF, retryDelayMs } from "./backoff";
import {
  admitCallWithHealth,
  type BreakerPolicy,
  type BreakerState,
  type BreakerStore,
  CLOSED,
  DEFAULT_BREAKER_POLICY,
  InMemoryBreakerStore,
  type ProviderCheck,
  type ProviderHealthSource,
  recordOutcome,
  sameBreakerState,
} from "./breaker";
import { UNCONFIGURED_REASONS } from "./configured";
import { LlmError, toLlmError } from "./errors";
import { DEFAULT_MODELS, MODEL_ALIASES, type ResolvedModel, resolveModel } from "./models";
import type { ChatMessage, Completion, LlmErrorKind, LlmProvider, ProviderId } from "./types";

/** Every provider the manager knows, in the order `status()` reports them. */
export const PROVIDER_IDS: readonly ProviderId[] = ["anthropic", "model-manager"];

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
  /** Human-readable reason per unconfigured provider, shown by `status()` and in notes. */
  unconfiguredReasons?: Partial<Record<ProviderId, string>>;
  /**
   * `DEFAULT_MODEL` (id or alias). Absent: Anthropic's default if Anthropic is configured,
   * else the model manager's.
   */
  defaultModel?: string;
  /** Per-provider fallback targets (id or alias routing to that provider); default the table's. */
  providerDefaults?: Partial<Record<ProviderId, string>>;
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
  clock?: () => number;
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
  /** `maxTokens` when the caller gives none (default 1024). */
  defaultMaxTokens?: number;
  /** Called after every provider call (for structured logging). Must not throw. */
  onAttempt?: (info: AttemptRecord) => void;
  /** Called when the breaker store fails; the turn carries on. Must not throw. */
  onStoreError?: (info: StoreErrorInfo) => void;
}

/** Input of {@link ProviderManager.complete}. */
export interface CompleteInput {
  /** Id or alias from a `[model]` directive or user preference; absent = the default model. */
  model?: string;
  /** System prompt; may be empty. */
  system: string;
  /** Oldest first; the last one is the new user message. */
  messages: ChatMessage[];
  /** Output token limit; default `defaultMaxTokens`. */
  maxTokens?: number;
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

/** One provider's health, as served by `/health`. */
export interface ProviderStatus {
  id: ProviderId;
  configured: boolean;
  /** Why it is unconfigured; absent when configured. */
  reason?: string;
  /** The model a fallback to this provider uses. */
  defaultModel: string;
  breaker: BreakerState;
}

/** What {@link createProviderManager} returns. */
export interface ProviderManager {
  /** The model used when a turn names none, with its provider. */
  readonly defaultModel: ResolvedModel;
  /**
   * Answers one turn under the retry/fallback/breaker policy. Never rejects: every failure,
   * including "nothing configured" (`kind: "unconfigured"`), comes back as `{ ok: false }`.
   * When several calls failed, `error` is the last real call's error; when no call was made,
   * it is the first skip's (`unconfigured` or `circuit_open`).
   */
  complete(input: CompleteInput): Promise<CompleteResult>;
  /** Per-provider configuration, default model and breaker state, in {@link PROVIDER_IDS} order. */
  status(): Promise<ProviderStatus[]>;
}

function otherProvider(id: ProviderId): ProviderId {
  return id === "anthropic" ? "model-manager" : "anthropic";
}

function describeNames(): string {
  return `an alias (${Object.keys(MODEL_ALIASES).join(", ")}) or a claude*, gpt* or o<digit>* id`;
}

/**
 * The default model: `configured` (from `DEFAULT_MODEL`) when given, else Anthropic's default
 * when Anthropic is configured, else the model manager's.
 *
 * @throws {Error} when `configured` names no routable model: a bad `DEFAULT_MODEL` should stop
 *   the container at start-up rather than degrade every turn.
 */
export function chooseDefaultModel(
  configured: string | undefined,
  anthropicConfigured: boolean,
  providerDefaults: Readonly<Record<ProviderId, string>> = DEFAULT_MODELS,
): ResolvedModel {
  if (configured !== undefined && configured.trim() !== "") {
    const resolved = resolveModel(configured);
    if (!resolved) {
      throw new Error(`DEFAULT_MODEL "${configured}" is not ${describeNames()}`);
    }
    return resolved;
  }
  return anthropicConfigured
    ? { model: providerDefaults.anthropic, provider: "anthropic" }
    : { model: providerDefaults["model-manager"], provider: "model-manager" };
}

function resolveProviderDefaults(options: ProviderManagerOptions): Record<ProviderId, string> {
  const out: Record<ProviderId, string> = { ...DEFAULT_MODELS };
  for (const id of PROVIDER_IDS) {
    const given = options.providerDefaults?.[id];
    if (given === undefined) continue;
    const resolved = resolveModel(given);
    if (resolved?.provider !== id) {
      throw new Error(`default model "${given}" for ${id} does not route to ${id}`);
    }
    out[id] = resolved.model;
  }
  return out;
}

/**
 * Builds the manager once per container.
 *
 * Policy of `complete`:
 * 1. Nothing configured → `{ ok: false, error.kind: "unconfigured" }` at once, naming
 *    `ANTHROPIC_API_KEY` and `MODEL_MANAGER_BASE_URL`.
 * 2. Resolve `input.model` (alias → id); an unroutable name is replaced by the default model
 *    (noted). The primary is the provider that routes it.
 * 3. A provider that is unconfigured or whose breaker refuses the call is skipped (noted);
 *    so is one whose breaker is not closed and whose last health check failed with a counted
 *    kind, even after the breaker's cool-down (the check is the trial; see
 *    `admitCallWithHealth`).
 * 4. Transient failures (`rate_limit`, `server` incl. 529, `timeout`, `network`) are retried up
 *    to `maxAttempts` calls with full-jitter backoff, or the server's `retry-after` (capped at
 *    `maxRetryAfterMs`); `auth`, `invalid_request`, `model_not_found` never are.
 * 5. If the primary fails or is skipped, fall back once to the other provider's default model,
 *    same rules.
 * 6. Each call's outcome updates that provider's breaker; once it opens, retries on that
 *    provider stop and the next turns skip straight to the fallback until the 60 s trial.
 *
 * @throws {Error} at construction when `defaultModel` or `providerDefaults` name an
 *   unroutable model.
 */
export function createProviderManager(options: ProviderManagerOptions): ProviderManager {
  const clock = options.clock ?? Date.now;
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const store = options.breakerStore ?? new InMemoryBreakerStore();
  const policy: BreakerPolicy = { ...DEFAULT_BREAKER_POLICY, ...options.breakerPolicy };
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const delays = {
    baseMs: options.baseDelayMs ?? DEFAULT_BACKOFF.baseMs,
    maxMs: options.maxDelayMs ?? DEFAULT_BACKOFF.maxMs,
    maxRetryAfterMs: options.maxRetryAfterMs ?? DEFAULT_BACKOFF.maxRetryAfterMs,
    random,
  };
  const timeoutMs = options.timeoutMs ?? 30_000;
  const defaultMaxTokens = options.defaultMaxTokens ?? 1024;
  const providers = options.providers;
  const reasons = { ...UNCONFIGURED_REASONS, ...options.unconfiguredReasons };
  const tableDefaults = resolveProviderDefaults(options);
  const globalDefault = chooseDefaultModel(
    options.defaultModel,
    providers.anthropic !== undefined,
    tableDefaults,
  );
  const providerDefaults = { ...tableDefaults };
  // DEFAULT_MODEL is the operator's choice for its provider, so a fallback there uses it too
  // (unless a per-provider default was given explicitly).
  if (options.providerDefaults?.[globalDefault.provider] === undefined) {
    providerDefaults[globalDefault.provider] = globalDefault.model;
  }

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

  type StepOutcome = { ok: true; completion: Completion } | { ok: false; error: LlmError };

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
    let lastError: LlmError | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const started = clock();
      const callTimeout =
        deadline === undefined ? timeoutMs : Math.max(1, Math.min(timeoutMs, deadline - started));
      let completion: Completion | undefined;
      let error: LlmError | undefined;
      try {
        completion = await provider.complete({
          model,
          system: input.system,
          messages: input.messages,
          maxTokens: input.maxTokens ?? defaultMaxTokens,
          timeoutMs: callTimeout,
        });
      } catch (err) {
        error = toLlmError(provider.id, err, clock());
      }
      const finished = clock();
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
        attempts.push(record);
        options.onAttempt?.(record);
        return { ok: true, completion };
      }
      const failure = error as LlmError;
      lastError = failure;
      record.kind = failure.kind;
      if (failure.status !== undefined) record.status = failure.status;
      let stop = !failure.retryable || attempt === maxAttempts;
      if (!stop && state.state === "open") {
        notes.push(`${provider.id}: circuit breaker opened; no further retries`);
        stop = true;
      }
      let delay = 0;
      if (!stop) {
        delay = retryDelayMs(failure, attempt, delays);
        if (deadline !== undefined && clock() + delay >= deadline) {
          notes.push(`${provider.id}: no time left in the budget for another retry`);
          stop = true;
        }
      }
      if (!stop) record.delayMs = delay;
      attempts.push(record);
      options.onAttempt?.(record);
      if (stop) break;
      await sleep(delay);
    }
    return { ok: false, error: lastError as LlmError };
  }

  async function complete(input: CompleteInput): Promise<CompleteResult> {
    const attempts: AttemptRecord[] = [];
    const notes: string[] = [];
    if (PROVIDER_IDS.every((id) => providers[id] === undefined)) {
      return {
        ok: false,
        error: new LlmError({
          kind: "unconfigured",
          provider: globalDefault.provider,
          message:
            "No LLM provider is configured: set ANTHROPIC_API_KEY (Anthropic) or " +
            "MODEL_MANAGER_BASE_URL (an OpenAI-compatible model manager).",
        }),
        attempts,
        notes,
      };
    }
    const deadline = options.budgetMs === undefined ? undefined : clock() + options.budgetMs;

    let primary = globalDefault;
    const requested = input.model?.trim();
    if (requested) {
      const resolved = resolveModel(requested);
      if (resolved) primary = resolved;
      else notes.push(`model "${requested}" is not ${describeNames()}; using ${primary.model}`);
    }
    const fallbackId = otherProvider(primary.provider);
    const plan: ResolvedModel[] = [
      primary,
      { provider: fallbackId, model: providerDefaults[fallbackId] },
    ];

    let callError: LlmError | undefined;
    let skipError: LlmError | undefined;
    for (const [index, step] of plan.entries()) {
      if (index > 0) {
        if (deadline !== undefined && clock() >= deadline) {
          notes.push(`${step.provider}: no time left in the budget for the fallback`);
          break;
        }
        notes.push(`falling back to ${step.provider} ${step.model}`);
      }
      const provider = providers[step.provider];
      if (!provider) {
        const reason = reasons[step.provider];
        notes.push(`${step.provider}: not configured (${reason})`);
        skipError ??= new LlmError({
          kind: "unconfigured",
          provider: step.provider,
          message: `${step.provider}: not configured (${reason})`,
        });
        continue;
      }
      const state = await readBreaker(step.provider);
      const check = state.state === "closed" ? undefined : await readHealth(step.provider);
      const admission = admitCallWithHealth(state, check, clock(), policy, options.healthStaleMs);
      if (!admission.allowed) {
        notes.push(
          admission.healthRefused
            ? `${step.provider}: last health check failed and circuit breaker ${state.state}; skipped`
            : `${step.provider}: circuit breaker ${state.state}; skipped`,
        );
        skipError ??= new LlmError({
          kind: "circuit_open",
          provider: step.provider,
          message: admission.healthRefused
            ? `${step.provider}: circuit breaker ${state.state} and the last health check failed`
            : `${step.provider}: circuit breaker ${state.state} after repeated failures`,
        });
        continue;
      }
      if (!sameBreakerState(state, admission.next)) {
        await writeBreaker(step.provider, admission.next);
      }
      const outcome = await runProvider(
        provider,
        step.model,
        input,
        admission.next,
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
      new LlmError({ kind: "unknown", provider: primary.provider, message: "no provider tried" });
    return { ok: false, error, attempts, notes };
  }

  async function status(): Promise<ProviderStatus[]> {
    const out: ProviderStatus[] = [];
    for (const id of PROVIDER_IDS) {
      const configured = providers[id] !== undefined;
      const entry: ProviderStatus = {
        id,
        configured,
        defaultModel: providerDefaults[id],
        breaker: await readBreaker(id),
      };
      if (!configured) entry.reason = reasons[id];
      out.push(entry);
    }
    return out;
  }

  return { defaultModel: globalDefault, complete, status };
}
