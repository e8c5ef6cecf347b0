/**
 * The call loop of the provider manager (`./manager`), shared by `complete` and `stream`: plan
 * the route (`./routing`), skip unconfigured or breaker-refused providers (`./breaker-policy`),
 * retry with backoff (`./retry-policy`), fall back once, and record every outcome on the
 * provider's breaker. What one call does is a parameter ({@link ProviderCall}), so the plain and
 * the streamed call cannot drift apart in policy.
 */
import {
  type BreakerPolicy,
  type BreakerState,
  CLOSED,
  sameBreakerState,
} from "../resilience/breaker";
import {
  admitCallWithHealth,
  type ProviderCheck,
  type ProviderHealthSource,
  recordOutcome,
} from "./breaker-policy";
import type { BreakerStore } from "./breaker-store";
import { LlmError, toLlmError } from "./errors";
import type { ResolvedModel } from "./models";
import { callTimeoutMs, decideRetry, type RetryPolicy } from "./retry-policy";
import { planRoute } from "./routing";
import {
  type CompleteInput,
  type Completion,
  type CompletionRequest,
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
  /** 1-based attempt number on this provider within one `complete` or `stream`. */
  attempt: number;
  ok: boolean;
  /** Failure kind; absent on success. */
  kind?: LlmErrorKind;
  /** HTTP status of a failed call, when the provider answered. */
  status?: number;
  /** Ms waited before the next attempt on the same provider; absent when none followed. */
  delayMs?: number;
  /** Ms the call took by the injected clock (for a stream: until its last event). */
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

/**
 * Sends one request to one provider: resolves with the completion or rejects with anything
 * (mapped by `toLlmError`). `complete` passes `provider.complete`, `stream` `provider.stream`.
 */
export type ProviderCall = (
  provider: LlmProvider,
  request: CompletionRequest,
) => Promise<Completion>;

/** The manager's options, defaults applied (see `ProviderManagerOptions` for each meaning). */
export interface LoopSettings {
  providers: Partial<Record<ProviderId, LlmProvider>>;
  reasons: Record<ProviderId, string>;
  defaultModel: ResolvedModel;
  fallbacks: Record<ProviderId, string>;
  store: BreakerStore;
  policy: BreakerPolicy;
  retry: RetryPolicy;
  /** HTTP timeout of each call, ms. */
  timeoutMs: number;
  /** Wall-time budget of one run, ms; absent = none. */
  budgetMs: number | undefined;
  healthSource: ProviderHealthSource | undefined;
  healthStaleMs: number | undefined;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  onAttempt: ((info: AttemptRecord) => void) | undefined;
  onStoreError: ((info: StoreErrorInfo) => void) | undefined;
}

/**
 * Outcome of one run. `fellBackFrom` is the first planned model when a later step answered and
 * that first model was a real choice: its provider is configured (it failed, or its breaker
 * refused it). An unconfigured first provider is how the deployment is set up, not a fallback,
 * so it is not named. On failure, `error` is the last real call's error, else the first skip's.
 */
export type RouteOutcome =
  | {
      ok: true;
      completion: Completion;
      fellBackFrom?: string;
      attempts: AttemptRecord[];
      notes: string[];
    }
  | { ok: false; error: LlmError; attempts: AttemptRecord[]; notes: string[] };

/**
 * Runs one turn's calls. `committed` is asked after every failed call: once it says `true`
 * (a stream already passed text on), the failure is final: no retry, no fallback, though the
 * breaker still records it.
 */
export type RouteRunner = (
  input: CompleteInput,
  call: ProviderCall,
  committed?: () => boolean,
) => Promise<RouteOutcome>;

type StepOutcome = { ok: true; completion: Completion } | { ok: false; error: LlmError };

/** Builds the loop once per manager; it keeps the last breaker state seen per provider. */
export function createRouteRunner(settings: LoopSettings): RouteRunner {
  const { now, providers, policy, defaultModel } = settings;
  // Last state seen or written per provider: what we act on when the store is unreachable.
  const mirror = new Map<ProviderId, BreakerState>();

  async function readBreaker(id: ProviderId): Promise<BreakerState> {
    try {
      const state = await settings.store.get(id);
      mirror.set(id, state);
      return state;
    } catch (error) {
      settings.onStoreError?.({ provider: id, operation: "get", error });
      return mirror.get(id) ?? { ...CLOSED };
    }
  }

  async function readHealth(id: ProviderId): Promise<ProviderCheck | undefined> {
    if (!settings.healthSource) return undefined;
    try {
      return await settings.healthSource.lastCheck(id);
    } catch (error) {
      settings.onStoreError?.({ provider: id, operation: "health", error });
      return undefined;
    }
  }

  async function writeBreaker(id: ProviderId, state: BreakerState): Promise<void> {
    mirror.set(id, state);
    try {
      await settings.store.put(id, state);
    } catch (error) {
      settings.onStoreError?.({ provider: id, operation: "put", error });
    }
  }

  function report(attempts: AttemptRecord[], record: AttemptRecord): void {
    attempts.push(record);
    settings.onAttempt?.(record);
  }

  /** Calls one provider until it answers, {@link decideRetry} says stop, or the call committed. */
  async function runProvider(
    provider: LlmProvider,
    model: string,
    input: CompleteInput,
    call: ProviderCall,
    committed: () => boolean,
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
        completion = await call(provider, {
          model,
          system: input.system,
          messages: input.messages,
          maxTokens: input.maxTokens ?? DEFAULT_MAX_TOKENS,
          timeoutMs: callTimeoutMs(settings.timeoutMs, deadline, started),
          ...(input.tools?.length ? { tools: input.tools } : {}),
          ...(input.toolChoice ? { toolChoice: input.toolChoice } : {}),
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
      if (committed()) {
        report(attempts, record);
        return { ok: false, error: failure };
      }
      const decision = decideRetry({
        provider: provider.id,
        failure,
        attempt,
        breaker: state,
        nowMs: now(),
        deadline,
        policy: settings.retry,
        random: settings.random,
      });
      if (!decision.retry) {
        if (decision.note) notes.push(decision.note);
        report(attempts, record);
        return { ok: false, error: failure };
      }
      record.delayMs = decision.delayMs;
      report(attempts, record);
      await settings.sleep(decision.delayMs);
    }
  }

  /** Admits a call to `id` or says why not (a note plus the `circuit_open` error). */
  async function admit(
    id: ProviderId,
  ): Promise<{ state: BreakerState } | { note: string; error: LlmError }> {
    const state = await readBreaker(id);
    const check = state.state === "closed" ? undefined : await readHealth(id);
    const admission = admitCallWithHealth(state, check, now(), policy, settings.healthStaleMs);
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

  return async function run(input, call, committed = () => false): Promise<RouteOutcome> {
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
    const deadline = settings.budgetMs === undefined ? undefined : now() + settings.budgetMs;
    const { steps, notes } = planRoute(
      input.model,
      defaultModel,
      settings.fallbacks,
      input.fallback,
    );

    let callError: LlmError | undefined;
    let skipError: LlmError | undefined;
    for (const [index, step] of steps.entries()) {
      if (index > 0) {
        if (callError && committed()) break;
        if (deadline !== undefined && now() >= deadline) {
          notes.push(`${step.provider}: no time left in the budget for the fallback`);
          break;
        }
        notes.push(`falling back to ${step.provider} ${step.model}`);
      }
      const provider = providers[step.provider];
      if (!provider) {
        const message = `${step.provider}: not configured (${settings.reasons[step.provider]})`;
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
        call,
        committed,
        admitted.state,
        deadline,
        attempts,
        notes,
      );
      if (outcome.ok) {
        const first = steps[0];
        const fellBack = index > 0 && providers[first.provider] !== undefined;
        return {
          ok: true,
          completion: outcome.completion,
          ...(fellBack ? { fellBackFrom: first.model } : {}),
          attempts,
          notes,
        };
      }
      callError = outcome.error;
    }
    const error =
      callError ??
      skipError ??
      new LlmError({ kind: "unknown", provider: steps[0].provider, message: "no provider tried" });
    return { ok: false, error, attempts, notes };
  };
}
