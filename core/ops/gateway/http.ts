/**
 * JSON-over-HTTP shell shared by both admin dialects: bearer auth, per-request timeout, and the
 * mapping of every failure to {@link GatewayAdminError}.
 */
import type { GatewayDialect } from "../../constants/gateway";
import { type AdminOperation, type Created, GatewayAdminError, type HealthProbe } from "./admin";

/** One admin request. */
export interface AdminCall {
  operation: AdminOperation;
  method: "GET" | "POST" | "DELETE";
  /** Path with query, starting with `/`. */
  path: string;
  /** Sent as JSON when present. */
  body?: unknown;
  /** Send `Authorization: Bearer <admin key>`; default `true`. */
  auth?: boolean;
  /** Non-2xx statuses that still count as success, e.g. `[404]` for idempotent deletes. */
  accept?: readonly number[];
  /** Overrides the client's timeout for this call, ms. */
  timeoutMs?: number;
  /**
   * Cancels the call (e.g. on Ctrl-C), on top of the timeout. A cancelled call rejects like a
   * network error, with `interrupted` as the reason.
   */
  signal?: AbortSignal;
  /** Attached to the error when the outcome is unknown (network error, timeout, 5xx). */
  possiblyCreated?: Created;
}

/** A response that passed the status check. `body` is parsed JSON, or the raw text. */
export interface AdminResponse {
  status: number;
  body: unknown;
}

/** Options of {@link createAdminHttp}. */
export interface AdminHttpOptions {
  dialect: GatewayDialect;
  /** Gateway origin without trailing slash. */
  url: string;
  /** Master/admin key sent as bearer token. */
  adminKey: string;
  /** Per-request timeout, ms. */
  timeoutMs: number;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
}

/** Longest gateway error text carried into a message, characters. */
const MAX_ERROR_TEXT = 300;

/**
 * Returns a function performing {@link AdminCall}s; it rejects only with `GatewayAdminError`,
 * whose message has the admin key masked: gateways echo rejected credentials in their error
 * bodies (LiteLLM's 401 names the key it received).
 */
export function createAdminHttp(
  options: AdminHttpOptions,
): (call: AdminCall) => Promise<AdminResponse> {
  const doFetch = options.fetch ?? fetch;
  const redact = (text: string) =>
    options.adminKey ? text.replaceAll(options.adminKey, "[redacted]") : text;
  return async (call) => {
    const headers: Record<string, string> = { accept: "application/json" };
    if (call.auth !== false) headers.authorization = `Bearer ${options.adminKey}`;
    if (call.body !== undefined) headers["content-type"] = "application/json";
    const where = `${call.method} ${call.path}`;
    let response: Response;
    let text: string;
    try {
      response = await doFetch(options.url + call.path, {
        method: call.method,
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: withTimeout(call.timeoutMs ?? options.timeoutMs, call.signal),
      });
      text = await response.text();
    } catch (cause) {
      const reason = call.signal?.aborted ? "interrupted" : describeNetworkError(cause);
      throw new GatewayAdminError({
        dialect: options.dialect,
        operation: call.operation,
        message: `${where} failed: ${redact(reason)}`,
        possiblyCreated: call.possiblyCreated,
        cause,
      });
    }
    const body = parseBody(text);
    if (response.ok || call.accept?.includes(response.status)) {
      return { status: response.status, body };
    }
    throw new GatewayAdminError({
      dialect: options.dialect,
      operation: call.operation,
      status: response.status,
      message: `${where} answered ${response.status}: ${redact(errorText(body))}`,
      possiblyCreated: response.status >= 500 ? call.possiblyCreated : undefined,
    });
  };
}

/** A signal that fires after `timeoutMs` or when `signal` does, whichever comes first. */
function withTimeout(timeoutMs: number, signal: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([timeout, signal]) : timeout;
}

function parseBody(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The message inside the error bodies gateways send: LiteLLM's
 * `{error: {message, type, param, code}}`, FastAPI's `{detail}`, `{error: "…"}`, `{message}` or
 * plain text. Truncated to {@link MAX_ERROR_TEXT} characters.
 */
export function errorText(body: unknown): string {
  const pick = (value: unknown): string | undefined => {
    if (typeof value === "string") return value;
    if (typeof value !== "object" || value === null) return undefined;
    const record = value as Record<string, unknown>;
    return pick(record.error) ?? pick(record.message) ?? pick(record.detail);
  };
  const text = pick(body) ?? (body === undefined ? "(empty body)" : JSON.stringify(body));
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text;
}

function describeNetworkError(cause: unknown): string {
  if (cause instanceof Error) {
    if (cause.name === "TimeoutError") return "timed out";
    const inner = cause.cause instanceof Error ? `: ${cause.cause.message}` : "";
    return `${cause.message}${inner}`;
  }
  return String(cause);
}

/**
 * The unauthenticated health probe both dialects share: healthy on any 2xx of `path`, else the
 * reason (status or network error, key masked). Never throws.
 * @param timeoutMs - bound of this one probe, ms.
 */
export async function probeHealth(
  call: (request: AdminCall) => Promise<AdminResponse>,
  path: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<HealthProbe> {
  try {
    await call({ operation: "health", method: "GET", path, auth: false, timeoutMs, signal });
    return { healthy: true };
  } catch (error) {
    return { healthy: false, reason: (error as Error).message };
  }
}
