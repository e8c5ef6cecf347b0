/**
 * One error type for every provider failure, so the manager's retry, fallback and breaker
 * decisions depend on a `kind` and never on which SDK raised the error.
 */
import {
  APIUserAbortError as AnthropicAbortError,
  APIError as AnthropicApiError,
  APIConnectionError as AnthropicConnectionError,
  APIConnectionTimeoutError as AnthropicTimeoutError,
} from "@anthropic-ai/sdk";
import {
  APIUserAbortError as OpenAIAbortError,
  APIError as OpenAIApiError,
  APIConnectionError as OpenAIConnectionError,
  APIConnectionTimeoutError as OpenAITimeoutError,
} from "openai";
import type { LlmErrorKind, ProviderId } from "./types";

/** Kinds worth another attempt: the same request may succeed a moment later. */
const RETRYABLE_KINDS: ReadonlySet<LlmErrorKind> = new Set([
  "rate_limit",
  "server",
  "timeout",
  "network",
]);

/**
 * Whether a failure of this kind may succeed when the identical request is sent again.
 * `auth`, `invalid_request` and `model_not_found` never do; `unknown` is treated as permanent
 * so an unclassified bug does not multiply calls.
 */
export function isRetryableKind(kind: LlmErrorKind): boolean {
  return RETRYABLE_KINDS.has(kind);
}

/** Constructor fields of {@link LlmError}. */
export interface LlmErrorInit {
  kind: LlmErrorKind;
  provider: ProviderId;
  message: string;
  /** HTTP status of the provider's response, when there was one. */
  status?: number;
  /** Server-requested wait before retrying, in ms (from `retry-after-ms` / `retry-after`). */
  retryAfterMs?: number;
  /** The original SDK or runtime error. */
  cause?: unknown;
}

/**
 * A classified provider failure. `retryable` is derived from `kind` (see
 * {@link isRetryableKind}) so the two can never disagree. Messages carry the provider's error
 * text but never request headers, so API keys do not reach logs.
 */
export class LlmError extends Error {
  override readonly name = "LlmError";
  readonly kind: LlmErrorKind;
  readonly provider: ProviderId;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly retryable: boolean;

  constructor(init: LlmErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.kind = init.kind;
    this.provider = init.provider;
    if (init.status !== undefined) this.status = init.status;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    this.retryable = isRetryableKind(init.kind);
  }
}

/**
 * Maps an HTTP status to a failure kind, following the status codes both SDKs document
 * (Anthropic: https://docs.anthropic.com/en/api/errors; OpenAI: the SDK's error subclasses).
 * 402 (Anthropic billing) is grouped with auth: the account cannot be used until someone acts,
 * so retrying is pointless and the provider is unusable for everyone. 408 is the server's own
 * request timeout. 409 is retried by both SDKs' built-in policy, so it is treated as transient.
 * Anthropic's 529 `overloaded_error` is a 5xx like any other.
 */
export function kindForStatus(status: number): LlmErrorKind {
  if (status === 401 || status === 402 || status === 403) return "auth";
  if (status === 404) return "model_not_found";
  if (status === 408) return "timeout";
  if (status === 409) return "server";
  if (status === 429) return "rate_limit";
  if (status >= 500 && status <= 599) return "server";
  if (status >= 400 && status <= 499) return "invalid_request";
  return "unknown";
}

/**
 * Error `type`s as both APIs name them in error bodies and in-stream error events, by kind
 * (Anthropic: https://docs.anthropic.com/en/api/errors; OpenAI:
 * https://platform.openai.com/docs/guides/error-codes). Anthropic reports an overload or an
 * internal error in the middle of a stream as an `event: error` with these types.
 */
const KIND_BY_ERROR_TYPE: ReadonlyMap<string, LlmErrorKind> = new Map([
  ["invalid_request_error", "invalid_request"],
  ["request_too_large", "invalid_request"],
  ["authentication_error", "auth"],
  ["permission_error", "auth"],
  ["billing_error", "auth"],
  ["not_found_error", "model_not_found"],
  ["rate_limit_error", "rate_limit"],
  ["rate_limit_exceeded", "rate_limit"],
  ["api_error", "server"],
  ["overloaded_error", "server"],
  ["server_error", "server"],
  ["timeout_error", "timeout"],
]);

/**
 * The kind of an error reported by its `type` alone (an error event inside a stream, which has
 * no HTTP status of its own), or `undefined` for a type neither API documents.
 */
export function kindForErrorType(type: string | null | undefined): LlmErrorKind | undefined {
  return type ? KIND_BY_ERROR_TYPE.get(type) : undefined;
}

/** Header bags as the SDKs expose them (`Headers`) or as plain records (tests, other clients). */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function headerValue(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") {
    return (headers as Headers).get(name) ?? undefined;
  }
  const record = headers as Record<string, string | string[] | undefined>;
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/**
 * The wait the server asked for, in ms, or `undefined` when it asked for none (or sent
 * something unparseable). `retry-after-ms` (milliseconds, sent by OpenAI and honoured by both
 * SDKs) wins over `retry-after` (RFC 9110 §10.2.3: delay in seconds, or an HTTP date, which is
 * measured against `nowMs`). Dates in the past give 0.
 */
export function parseRetryAfterMs(
  headers: HeaderSource | undefined,
  nowMs: number,
): number | undefined {
  if (!headers) return undefined;
  const ms = headerValue(headers, "retry-after-ms")?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.round(Number(ms));
  const value = headerValue(headers, "retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** Node/undici error codes that mean the connection never produced a response. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Classifies anything a provider call threw. Handles both SDKs' `APIError` hierarchies
 * (`status` + `headers`), their `APIConnectionTimeoutError` (→ `timeout`) and
 * `APIConnectionError` (→ `network`), a user abort (→ `unknown`: we never abort a call we still
 * want), bare `fetch`/Node errors (`AbortError`/`TimeoutError` → `timeout`, socket error codes →
 * `network`), and passes an existing `LlmError` through unchanged.
 *
 * @param nowMs - clock used to turn an HTTP-date `retry-after` into a delay.
 * @returns never throws.
 */
export function toLlmError(
  provider: ProviderId,
  err: unknown,
  nowMs: number = Date.now(),
): LlmError {
  if (err instanceof LlmError) return err;
  const base = { provider, cause: err };
  if (err instanceof AnthropicTimeoutError || err instanceof OpenAITimeoutError) {
    return new LlmError({ ...base, kind: "timeout", message: `${provider}: request timed out` });
  }
  if (err instanceof AnthropicAbortError || err instanceof OpenAIAbortError) {
    return new LlmError({ ...base, kind: "unknown", message: `${provider}: request aborted` });
  }
  if (err instanceof AnthropicConnectionError || err instanceof OpenAIConnectionError) {
    const detail = err.cause instanceof Error ? ` (${err.cause.message})` : "";
    return new LlmError({
      ...base,
      kind: "network",
      message: `${provider}: connection error${detail}`,
    });
  }
  if (err instanceof AnthropicApiError || err instanceof OpenAIApiError) {
    // No status: an error event inside a 200 stream; its error `type` says what failed.
    const kind = err.status === undefined ? kindForErrorType(err.type) : undefined;
    if (kind) return new LlmError({ ...base, kind, message: `${provider}: ${describe(err)}` });
    return fromStatus(provider, err.status, err.headers, describe(err), err, nowMs);
  }
  // Duck typing covers SDK copies from another module instance (bundling, dual ESM/CJS load).
  if (typeof err === "object" && err !== null) {
    const candidate = err as {
      status?: unknown;
      headers?: unknown;
      name?: unknown;
      code?: unknown;
    };
    if (typeof candidate.status === "number") {
      const headers = isHeaderSource(candidate.headers) ? candidate.headers : undefined;
      return fromStatus(provider, candidate.status, headers, describe(err), err, nowMs);
    }
    if (candidate.name === "AbortError" || candidate.name === "TimeoutError") {
      return new LlmError({ ...base, kind: "timeout", message: `${provider}: request timed out` });
    }
    const code = networkCode(err);
    if (code) {
      return new LlmError({ ...base, kind: "network", message: `${provider}: ${code}` });
    }
  }
  return new LlmError({ ...base, kind: "unknown", message: `${provider}: ${describe(err)}` });
}

function fromStatus(
  provider: ProviderId,
  status: number | undefined,
  headers: HeaderSource | undefined,
  message: string,
  cause: unknown,
  nowMs: number,
): LlmError {
  const kind = status === undefined ? "unknown" : kindForStatus(status);
  const init: LlmErrorInit = { provider, kind, message: `${provider}: ${message}`, cause };
  if (status !== undefined) init.status = status;
  const retryAfterMs = parseRetryAfterMs(headers, nowMs);
  if (retryAfterMs !== undefined) init.retryAfterMs = retryAfterMs;
  return new LlmError(init);
}

function isHeaderSource(value: unknown): value is HeaderSource {
  return typeof value === "object" && value !== null;
}

/** Finds a socket error code on the error or its `cause` chain (fetch wraps them). */
function networkCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
