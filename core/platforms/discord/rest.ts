/**
 * A minimal Discord REST caller on `fetch`. The agent makes three kinds of call (edit the
 * interaction's `@original`, post follow-ups, bulk-overwrite commands); Discord publishes no
 * official JS REST SDK, and the community ones (discord.js's `@discordjs/rest` and its
 * dependencies) would add their own rate-limit queues and far more code to the Lambda bundle than
 * these calls need.
 *
 * Formats: errors https://discord.com/developers/docs/reference#error-messages (`{code,
 * message, errors?}`), rate limits https://discord.com/developers/docs/topics/rate-limits
 * (HTTP 429 with `{message, retry_after (seconds), global, code?}` and `Retry-After`).
 */

/** `User-Agent` in the `DiscordBot ($url, $version)` form Discord asks HTTP clients to send. */
export const DISCORD_USER_AGENT = "DiscordBot (kadi-chat-agent, 0.1.0)";

/** How the caller reaches Discord. */
export interface DiscordRestOptions {
  /** `DISCORD_API_URL`, without trailing slash, e.g. `https://discord.com/api/v10`. */
  apiUrl: string;
  /** `Authorization` header value, e.g. `Bot <token>`; interaction webhooks need none. */
  authorization?: string;
  /** Per-request timeout, ms. Default 10 000. */
  timeoutMs?: number;
  /**
   * Longest `retry_after` waited out in-process, ms. Default 2 000: a Lambda must not sleep
   * through a long rate limit; the caller's error makes the queue redeliver later instead.
   */
  maxRetryAfterMs?: number;
  /** How many rate-limited answers are retried per request. Default 2. */
  maxRateLimitRetries?: number;
  fetch?: typeof fetch;
  /** Waits `ms` milliseconds; replaced in tests. */
  sleep?: (ms: number) => Promise<void>;
}

/** Describes a failed request; `route` never contains an interaction token or secret. */
export interface DiscordApiErrorInfo {
  method: string;
  /** Path template with ids/tokens redacted, e.g. `/webhooks/{application_id}/{token}`. */
  route: string;
  /** HTTP status; `0` when no response arrived (connection error or timeout, see `cause`). */
  status: number;
  /** Discord's JSON error code (e.g. 50027 Invalid Webhook Token), when the body had one. */
  code?: number;
  /** Discord's error `message`, when the body had one. */
  discordMessage?: string;
  /** For 429: how long Discord asked us to wait, ms. */
  retryAfterMs?: number;
}

/** A Discord REST call that failed, with Discord's `{code, message}` when it sent one. */
export class DiscordApiError extends Error implements DiscordApiErrorInfo {
  override readonly name = "DiscordApiError";
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly code?: number;
  readonly discordMessage?: string;
  readonly retryAfterMs?: number;

  constructor(info: DiscordApiErrorInfo, options?: { cause?: unknown }) {
    const detail =
      info.status === 0
        ? "no response"
        : `HTTP ${info.status}${info.code !== undefined ? ` code ${info.code}` : ""}` +
          (info.discordMessage ? `: ${info.discordMessage}` : "");
    super(`Discord ${info.method} ${info.route} failed: ${detail}`, options);
    this.method = info.method;
    this.route = info.route;
    this.status = info.status;
    if (info.code !== undefined) this.code = info.code;
    if (info.discordMessage !== undefined) this.discordMessage = info.discordMessage;
    if (info.retryAfterMs !== undefined) this.retryAfterMs = info.retryAfterMs;
  }
}

/** One request: `path` is appended to `apiUrl`; `route` is its redacted form for errors. */
export interface DiscordRequest {
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  path: string;
  route: string;
  /** Sent as JSON. */
  body?: unknown;
}

/**
 * Sends one request and returns the parsed JSON answer (`undefined` for 204). A 429 whose
 * `retry_after` is at most `maxRetryAfterMs` is waited out and retried (up to
 * `maxRateLimitRetries` times); anything else that is not 2xx throws.
 * @throws {DiscordApiError} on a non-2xx answer, a longer rate limit, or no answer (`status` 0,
 *   the fetch error as `cause`).
 */
export async function discordRequest<T>(
  options: DiscordRestOptions,
  request: DiscordRequest,
): Promise<T> {
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 2_000;
  const maxRetries = options.maxRateLimitRetries ?? 2;
  const base = { method: request.method, route: request.route };
  for (let attempt = 0; ; attempt++) {
    let response: Response;
    try {
      response = await doFetch(`${options.apiUrl}${request.path}`, {
        method: request.method,
        headers: {
          "user-agent": DISCORD_USER_AGENT,
          ...(request.body !== undefined ? { "content-type": "application/json" } : {}),
          ...(options.authorization ? { authorization: options.authorization } : {}),
        },
        ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new DiscordApiError({ ...base, status: 0 }, { cause: error });
    }
    const text = await response.text().catch(() => "");
    const json = parseJson(text);
    if (response.ok) return (response.status === 204 ? undefined : json) as T;

    const errorBody = asErrorBody(json);
    const info: DiscordApiErrorInfo = { ...base, status: response.status, ...errorBody };
    if (response.status === 429) {
      const retryAfterMs = retryAfter(json, response.headers.get("retry-after"));
      if (retryAfterMs !== undefined) info.retryAfterMs = retryAfterMs;
      if (retryAfterMs !== undefined && retryAfterMs <= maxRetryAfterMs && attempt < maxRetries) {
        await sleep(retryAfterMs);
        continue;
      }
    }
    throw new DiscordApiError(info);
  }
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function asErrorBody(json: unknown): { code?: number; discordMessage?: string } {
  if (typeof json !== "object" || json === null) return {};
  const { code, message } = json as { code?: unknown; message?: unknown };
  return {
    ...(typeof code === "number" ? { code } : {}),
    ...(typeof message === "string" ? { discordMessage: message } : {}),
  };
}

/** `retry_after` (seconds, fractional) from the body, else the `Retry-After` header, in ms. */
function retryAfter(json: unknown, header: string | null): number | undefined {
  const fromBody = (json as { retry_after?: unknown } | undefined)?.retry_after;
  const seconds = typeof fromBody === "number" ? fromBody : header ? Number(header) : Number.NaN;
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds * 1000) : undefined;
}
