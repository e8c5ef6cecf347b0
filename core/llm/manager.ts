/**
 * The provider manager: answers a turn, plain (`complete`) or streamed (`stream`), under the
 * routing (`./routing`), retry (`./retry-policy`) and circuit-breaker (`./breaker-policy`)
 * decisions, through the one call loop in `./attempt-loop`. Providers only translate HTTP;
 * clock, sleep and randomness are injected so tests replay the loop exactly.
 */
import { STREAMING } from "../constants/timings";
import type { BreakerPolicy } from "../resilience/breaker";
import {
  type AttemptRecord,
  createRouteRunner,
  type ProviderCall,
  type RouteOutcome,
  type StoreErrorInfo,
} from "./attempt-loop";
import { DEFAULT_BREAKER_POLICY, type ProviderHealthSource } from "./breaker-policy";
import { type BreakerStore, InMemoryBreakerStore } from "./breaker-store";
import { UNCONFIGURED_REASONS } from "./configured";
import type { ResolvedModel } from "./models";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry-policy";
import { chooseDefaultModel, fallbackModels } from "./routing";
import type {
  CompleteInput,
  Completer,
  LlmProvider,
  ProviderId,
  Streamer,
  StreamResult,
} from "./types";

export type { AttemptRecord, StoreErrorInfo };

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
  /** Calls per provider per `complete` or `stream`, first one included (default 3). */
  maxAttempts?: number;
  /** First backoff window in ms (default 500). */
  baseDelayMs?: number;
  /** Largest backoff window in ms (default 8000). */
  maxDelayMs?: number;
  /** Cap on a server's `retry-after`, in ms (default 20 000): we run inside a bounded Lambda. */
  maxRetryAfterMs?: number;
  /** HTTP timeout of each call in ms (default 30 000); for a stream, of the whole stream. */
  timeoutMs?: number;
  /**
   * Longest silence between two events of a streamed call, ms (default
   * `STREAMING.idleTimeoutMs`, 20 000; config `LLM_STREAM_IDLE_TIMEOUT_MS`). A longer gap fails
   * the call with kind `timeout`.
   */
  streamIdleTimeoutMs?: number;
  /**
   * Wall-time budget of one `complete` or `stream`, in ms (default none). Set it below the Lambda timeout:
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
export type CompleteResult = RouteOutcome;

/**
 * Outcome of {@link ProviderManager.stream}: the `StreamResult` the chat turn reads, plus the
 * same `attempts` and `notes` as {@link CompleteResult}.
 */
export type StreamOutcome = StreamResult & { attempts: AttemptRecord[]; notes: string[] };

/** What {@link createProviderManager} returns. */
export interface ProviderManager extends Completer, Streamer {
  /** The model used when a turn names none, with its provider. */
  readonly defaultModel: ResolvedModel;
  /**
   * Answers one turn under the retry/fallback/breaker policy. Never rejects: every failure,
   * including "nothing configured" (`kind: "unconfigured"`), comes back as `{ ok: false }`.
   * When several calls failed, `error` is the last real call's error; when no call was made,
   * it is the first skip's (`unconfigured` or `circuit_open`).
   */
  complete(input: CompleteInput): Promise<CompleteResult>;
  /**
   * Answers one turn as a stream, with the same routing, breaker, retries and fallback as
   * `complete`, passing each non-empty text delta to `onText` (which must not throw). Retries
   * and the fallback happen only before the first delta: once text went out, a failure (an
   * error event, a dropped connection, `streamIdleTimeoutMs` of silence) ends the turn with
   * `{ ok: false, cutOff: true, partialText }`, still counted on that provider's breaker.
   * Never rejects.
   */
  stream(input: CompleteInput, onText: (delta: string) => void): Promise<StreamOutcome>;
}

/**
 * Builds the manager once per container.
 *
 * Policy of `complete` and `stream` (one loop, `./attempt-loop`):
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
 *    (`fallbackModels`), same rules; `fellBackFrom` names the primary's model when its provider
 *    is configured.
 * 6. Each call's outcome updates that provider's breaker; once it opens, retries on that
 *    provider stop and the next turns skip straight to the fallback until the 60 s trial.
 * 7. `stream` only: steps 4 and 5 stop at the first text delta (see {@link ProviderManager}).
 *
 * @throws {Error} at construction when `defaultModel` names an unroutable model.
 */
export function createProviderManager(options: ProviderManagerOptions): ProviderManager {
  const providers = options.providers;
  const defaultModel = chooseDefaultModel(options.defaultModel, providers.anthropic !== undefined);
  const retry: RetryPolicy = {
    maxAttempts: Math.max(1, options.maxAttempts ?? DEFAULT_RETRY_POLICY.maxAttempts),
    baseMs: options.baseDelayMs ?? DEFAULT_RETRY_POLICY.baseMs,
    maxMs: options.maxDelayMs ?? DEFAULT_RETRY_POLICY.maxMs,
    maxRetryAfterMs: options.maxRetryAfterMs ?? DEFAULT_RETRY_POLICY.maxRetryAfterMs,
  };
  const idleTimeoutMs = options.streamIdleTimeoutMs ?? STREAMING.idleTimeoutMs;
  const run = createRouteRunner({
    providers,
    reasons: { ...UNCONFIGURED_REASONS, ...options.unconfiguredReasons },
    defaultModel,
    fallbacks: fallbackModels(defaultModel),
    store: options.breakerStore ?? new InMemoryBreakerStore(),
    policy: { ...DEFAULT_BREAKER_POLICY, ...options.breakerPolicy },
    retry,
    timeoutMs: options.timeoutMs ?? 30_000,
    budgetMs: options.budgetMs,
    healthSource: options.healthSource,
    healthStaleMs: options.healthStaleMs,
    now: options.now ?? Date.now,
    sleep:
      options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    random: options.random ?? Math.random,
    onAttempt: options.onAttempt,
    onStoreError: options.onStoreError,
  });

  const complete = (input: CompleteInput): Promise<CompleteResult> =>
    run(input, (provider, request) => provider.complete(request));

  async function stream(
    input: CompleteInput,
    onText: (delta: string) => void,
  ): Promise<StreamOutcome> {
    // Only ever the answering attempt's text: an attempt that fails before its first delta
    // adds nothing, and one that fails after it is the last.
    let partialText = "";
    const call: ProviderCall = (provider, request) =>
      provider.stream({ ...request, idleTimeoutMs }, (delta) => {
        if (!delta) return;
        partialText += delta;
        onText(delta);
      });
    const outcome = await run(input, call, () => partialText !== "");
    if (outcome.ok) return outcome;
    return { ...outcome, cutOff: partialText !== "", partialText };
  }

  return { defaultModel, complete, stream };
}
