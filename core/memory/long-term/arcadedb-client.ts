/**
 * HTTP client of the ArcadeDB server API, the only way this project talks to ArcadeDB (target
 * 26.x). Endpoints and shapes used:
 * - `GET /api/v1/ready`: 204 when the server is online, 503 while it starts (no auth needed)
 * - `GET /api/v1/exists/{db}`: `{"user", "result": true|false}`
 * - `POST /api/v1/server` `{"command": "create database {db}"}`: `{"result": "ok"}`
 * - `POST /api/v1/command/{db}` `{"language": "sql", "command", "params"}`: `{"user", "result": [...]}`
 * - errors: HTTP status plus `{"error", "detail", "exception"}` (detail is omitted in production)
 *
 * Source: https://docs.arcadedb.com/#http-api (HTTP API).
 */
import * as z from "zod";
import { ArcadeDbError, type ArcadeDbErrorKind } from "./errors";

/**
 * Splits `ARCADEDB_URL` (`http://host:2480/{database}`) into the server origin (plus any path
 * prefix before the database, for a reverse proxy) and the database name.
 * @throws {TypeError} when the URL does not parse or has no database segment.
 */
export function parseArcadeDbUrl(url: string): { baseUrl: string; database: string } {
  const parsed = new URL(url);
  const segments = parsed.pathname.split("/").filter(Boolean);
  const database = segments.pop();
  if (!database) throw new TypeError(`ARCADEDB_URL must end with the database name: ${url}`);
  const prefix = segments.length ? `/${segments.join("/")}` : "";
  return { baseUrl: `${parsed.origin}${prefix}`, database: decodeURIComponent(database) };
}

/** Options of {@link ArcadeDbClient}. */
export interface ArcadeDbClientOptions {
  /** `ARCADEDB_URL`: `http://host:2480/{database}` (no trailing slash needed). */
  url: string;
  username: string;
  /** Without a password no `Authorization` header is sent, and ArcadeDB answers 401. */
  password?: string;
  /** Per-attempt timeout in ms (`AbortSignal.timeout`). Default 5000. */
  timeoutMs?: number;
  /** Attempts for a 503 answer (the one status retried), including the first. Default 3. */
  attempts?: number;
  /** Base delay before the first retry in ms; doubles per retry, jittered. Default 50. */
  retryBaseMs?: number;
  /** Largest delay between attempts in ms. Default 200. */
  retryMaxMs?: number;
  /** Injected for tests; defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Injected for tests; defaults to a `setTimeout` promise. */
  sleep?: (ms: number) => Promise<void>;
}

const errorBodySchema = z.object({
  error: z.string().optional(),
  detail: z.string().optional(),
  exception: z.string().optional(),
});

const existsEnvelope = z.object({ result: z.boolean() });

/**
 * A thin HTTP client for the ArcadeDB endpoints this backend needs. Every non-2xx answer,
 * network failure and timeout becomes an {@link ArcadeDbError}; only 503 is retried.
 *
 * Connection pooling: Node's global `fetch` (undici) keeps connections alive and pools them
 * per origin by default, so one client per container reuses its sockets without an explicit
 * `Agent`.
 */
export class ArcadeDbClient {
  readonly baseUrl: string;
  readonly database: string;
  readonly #authorization: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #timeoutMs: number;
  readonly #attempts: number;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;

  constructor(options: ArcadeDbClientOptions) {
    const { baseUrl, database } = parseArcadeDbUrl(options.url);
    this.baseUrl = baseUrl;
    this.database = database;
    this.#authorization =
      options.password === undefined
        ? undefined
        : `Basic ${Buffer.from(`${options.username}:${options.password}`).toString("base64")}`;
    this.#fetch = options.fetch ?? fetch;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#attempts = Math.max(1, options.attempts ?? 3);
    this.#retryBaseMs = options.retryBaseMs ?? 50;
    this.#retryMaxMs = options.retryMaxMs ?? 200;
  }

  /** `GET /api/v1/ready`. @throws {ArcadeDbError} `unavailable` while the server starts. */
  async ready(): Promise<void> {
    await this.#request("ready", "GET", "/api/v1/ready");
  }

  /**
   * `GET /api/v1/exists/{db}`: whether the configured database exists.
   * @throws {ArcadeDbError} on failure; `invalid_response` when the body has no boolean `result`.
   */
  async databaseExists(): Promise<boolean> {
    const body = await this.#request("exists", "GET", `/api/v1/exists/${this.#db()}`);
    const parsed = existsEnvelope.safeParse(body);
    if (!parsed.success) {
      throw new ArcadeDbError({
        kind: "invalid_response",
        status: 200,
        operation: "exists",
        detail: "response has no boolean result",
        cause: parsed.error,
      });
    }
    return parsed.data.result;
  }

  /** `POST /api/v1/server` `create database {db}`. */
  async createDatabase(): Promise<void> {
    await this.#request("create database", "POST", "/api/v1/server", {
      command: `create database ${this.database}`,
    });
  }

  /**
   * `POST /api/v1/command/{db}` with language `sql`: runs `command` with named `params` and
   * returns the `result` array.
   * @throws {ArcadeDbError} `invalid_response` when `result` is not an array.
   */
  async command(command: string, params: Record<string, unknown> = {}): Promise<unknown[]> {
    const body = await this.#request("command", "POST", `/api/v1/command/${this.#db()}`, {
      language: "sql",
      command,
      params,
    });
    const parsed = z.object({ result: z.array(z.unknown()) }).safeParse(body);
    if (!parsed.success) {
      throw new ArcadeDbError({
        kind: "invalid_response",
        status: 200,
        operation: "command",
        detail: "response has no result array",
        cause: parsed.error,
      });
    }
    return parsed.data.result;
  }

  #db(): string {
    return encodeURIComponent(this.database);
  }

  async #request(
    operation: string,
    method: "GET" | "POST",
    path: string,
    json?: unknown,
  ): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once(operation, method, path, json);
      } catch (error) {
        if (!(error instanceof ArcadeDbError) || !error.retryable || attempt >= this.#attempts) {
          throw error;
        }
        const ceiling = Math.min(this.#retryMaxMs, this.#retryBaseMs * 2 ** (attempt - 1));
        await this.#sleep(ceiling / 2 + Math.random() * (ceiling / 2));
      }
    }
  }

  async #once(
    operation: string,
    method: "GET" | "POST",
    path: string,
    json: unknown,
  ): Promise<unknown> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#authorization) headers.authorization = this.#authorization;
    if (json !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: json === undefined ? undefined : JSON.stringify(json),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      text = await response.text();
    } catch (cause) {
      const timedOut = cause instanceof Error && cause.name === "TimeoutError";
      throw new ArcadeDbError({
        kind: timedOut ? "timeout" : "network",
        operation,
        detail: timedOut ? `no response within ${this.#timeoutMs} ms` : String(cause),
        cause,
      });
    }
    if (!response.ok) throw errorFromResponse(operation, response.status, text);
    if (text === "") return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      throw new ArcadeDbError({
        kind: "invalid_response",
        status: response.status,
        operation,
        detail: "response body is not JSON",
        cause,
      });
    }
  }
}

/**
 * Maps an ArcadeDB error answer to an {@link ArcadeDbError}: the status decides the kind and the
 * `{error, detail, exception}` body, when it is JSON, fills the fields; a plain-text body (as
 * `/ready` sends with 503) becomes `detail`.
 */
export function errorFromResponse(operation: string, status: number, body: string): ArcadeDbError {
  let fields: z.infer<typeof errorBodySchema> = {};
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(body));
    fields = parsed.success ? parsed.data : { detail: body };
  } catch {
    fields = body ? { detail: body } : {};
  }
  return new ArcadeDbError({
    kind: kindOfStatus(status),
    status,
    operation,
    error: fields.error || undefined,
    detail: fields.detail || undefined,
    exception: fields.exception,
  });
}

function kindOfStatus(status: number): ArcadeDbErrorKind {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 409:
      return "conflict";
    case 503:
      return "unavailable";
    default:
      return "server";
  }
}
