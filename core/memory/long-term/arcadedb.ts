/**
 * ArcadeDB long-term search backend over the HTTP/JSON API only (target ArcadeDB 26.x; the
 * FULL_TEXT index scores with BM25 from 26.7). Endpoints and shapes used:
 * - `GET /api/v1/ready`: 204 when the server is online, 503 while it starts (no auth needed)
 * - `GET /api/v1/exists/{db}`: `{"user", "result": true|false}`
 * - `POST /api/v1/server` `{"command": "create database {db}"}`: `{"result": "ok"}`
 * - `POST /api/v1/command/{db}` `{"language": "sql", "command", "params"}`: `{"user", "result": [...]}`
 * - errors: HTTP status plus `{"error", "detail", "exception"}` (detail is omitted in production)
 *
 * Sources: https://docs.arcadedb.com/#http-api (HTTP API), https://docs.arcadedb.com/#sql
 * (`UPDATE … UPSERT`, `CREATE INDEX … FULL_TEXT`, `SEARCH_INDEX()` and `$score`).
 */
import * as z from "zod";
import { ArcadeDbError, type ArcadeDbErrorKind } from "./errors";
import type { LongTermIndex, SummaryHit, SummaryQuery, SummaryRecord } from "./types";

/** Document type holding the summaries. */
export const SUMMARY_TYPE = "Summary";

/** Name ArcadeDB gives the FULL_TEXT index on `Summary.text`, as `SEARCH_INDEX` expects it. */
export const SUMMARY_TEXT_INDEX = `${SUMMARY_TYPE}[text]`;

/** Properties of the `Summary` type and their ArcadeDB types (LONG = 64-bit integer). */
export const SUMMARY_PROPERTIES: ReadonlyArray<readonly [name: string, type: string]> = [
  ["id", "STRING"],
  ["platform", "STRING"],
  ["userId", "STRING"],
  ["channelId", "STRING"],
  ["text", "STRING"],
  ["fromMessageId", "STRING"],
  ["toMessageId", "STRING"],
  ["messageCount", "INTEGER"],
  ["model", "STRING"],
  ["createdAt", "LONG"],
];

/**
 * The idempotent DDL that prepares a database for summaries, in order: the document type, its
 * properties, a UNIQUE index on `id` (what makes `UPSERT WHERE id = :id` a point lookup and
 * forbids duplicates) and a FULL_TEXT index on `text` (BM25-scored in ArcadeDB 26.7+).
 */
export function schemaStatements(): string[] {
  return [
    `CREATE DOCUMENT TYPE ${SUMMARY_TYPE} IF NOT EXISTS`,
    ...SUMMARY_PROPERTIES.map(
      ([name, type]) => `CREATE PROPERTY ${SUMMARY_TYPE}.${name} IF NOT EXISTS ${type}`,
    ),
    `CREATE INDEX IF NOT EXISTS ON ${SUMMARY_TYPE} (id) UNIQUE`,
    `CREATE INDEX IF NOT EXISTS ON ${SUMMARY_TYPE} (text) FULL_TEXT`,
  ];
}

/** Upsert by id; every value travels in `params`. */
export const UPSERT_SQL = `UPDATE ${SUMMARY_TYPE} SET ${SUMMARY_PROPERTIES.map(
  ([name]) => `${name} = :${name}`,
).join(", ")} UPSERT WHERE id = :id`;

/** User-scoped BM25 search with an explicit LIMIT; the query text is a parameter. */
export const SEARCH_SQL =
  `SELECT ${SUMMARY_PROPERTIES.map(([name]) => name).join(", ")}, $score FROM ${SUMMARY_TYPE} ` +
  `WHERE SEARCH_INDEX('${SUMMARY_TEXT_INDEX}', :q) = true AND userId = :userId ` +
  "AND platform = :platform ORDER BY $score DESC LIMIT :limit";

/** Delete by a list of ids. */
export const DELETE_SQL = `DELETE FROM ${SUMMARY_TYPE} WHERE id IN :ids`;

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

/** Characters with a meaning in Lucene's classic query syntax (as `QueryParser.escape` lists). */
const LUCENE_SPECIAL = /[\\+\-!():^[\]"{}~*?|&/]/g;

/**
 * Turns free text into a Lucene query that matches its words literally: every special
 * character (`+ - && || ! ( ) { } [ ] ^ " ~ * ? : \ /`) is backslash-escaped and the bare
 * operators `AND`, `OR`, `NOT` are lower-cased so they become ordinary terms. Terms stay
 * space-separated, which Lucene combines with OR. Syntax:
 * https://lucene.apache.org/core/9_0_0/queryparser/org/apache/lucene/queryparser/classic/package-summary.html#Escaping_Special_Characters
 */
export function escapeLucene(text: string): string {
  return text
    .replace(LUCENE_SPECIAL, (c) => `\\${c}`)
    .replace(/\b(AND|OR|NOT)\b/g, (word) => word.toLowerCase());
}

/**
 * Most whitespace-separated words of a message that go into one search query. Lucene's query
 * parser (which `SEARCH_INDEX` uses) makes one boolean clause per word and refuses more than
 * 1024 (`IndexSearcher.getMaxClauseCount()`, `TooManyClauses`), so a long pasted message would
 * fail the search and recall would quietly bring nothing; its leading words are searched instead.
 */
export const MAX_QUERY_WORDS = 200;

/**
 * The `SEARCH_INDEX` query for a user's message: its first `maxWords` words (default
 * {@link MAX_QUERY_WORDS}), escaped with {@link escapeLucene}.
 */
export function searchQueryText(text: string, maxWords = MAX_QUERY_WORDS): string {
  const words = text.trim().split(/\s+/).filter(Boolean);
  return escapeLucene(words.slice(0, Math.max(0, maxWords)).join(" "));
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

const hitSchema = z.object({
  id: z.string(),
  platform: z.enum(["slack", "discord"]),
  userId: z.string(),
  channelId: z.string(),
  text: z.string(),
  fromMessageId: z.string(),
  toMessageId: z.string(),
  messageCount: z.number(),
  model: z.string().nullish(),
  createdAt: z.number(),
  $score: z.number(),
});

/** Options of {@link ArcadeDbLongTermIndex}: the client's options. */
export type ArcadeDbIndexOptions = ArcadeDbClientOptions;

/**
 * The ArcadeDB implementation of {@link LongTermIndex}. Schema setup runs once per instance
 * (memoised; a failure is not cached, so the next call tries again) and every other method
 * awaits it first, so callers cannot forget it. All user text travels in `params`; searches
 * always carry a LIMIT and a `userId` + `platform` filter.
 *
 * Every method throws {@link ArcadeDbError} on failure.
 */
export class ArcadeDbLongTermIndex implements LongTermIndex {
  readonly backend = "arcadedb" as const;
  readonly client: ArcadeDbClient;
  #ready: Promise<void> | undefined;

  constructor(options: ArcadeDbIndexOptions) {
    this.client = new ArcadeDbClient(options);
  }

  /**
   * Waits for `/ready`, creates the database when `/exists` says it is missing (tolerating a
   * concurrent creator), then runs {@link schemaStatements}. Idempotent.
   */
  ensureReady(): Promise<void> {
    this.#ready ??= this.#setup().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /** `UPDATE Summary SET … UPSERT WHERE id = :id`: one record per id however often it runs. */
  async upsert(summary: SummaryRecord): Promise<void> {
    await this.ensureReady();
    await this.client.command(UPSERT_SQL, {
      id: summary.id,
      platform: summary.platform,
      userId: summary.userId,
      channelId: summary.channelId,
      text: summary.text,
      fromMessageId: summary.fromMessageId,
      toMessageId: summary.toMessageId,
      messageCount: summary.messageCount,
      model: summary.model ?? null,
      createdAt: summary.createdAt,
    });
  }

  /**
   * BM25 search of the user's summaries, best first (`$score` descending), over the first
   * {@link MAX_QUERY_WORDS} words of the text. Returns `[]` without a request when the text has
   * no letter or digit to search for.
   * @throws {ArcadeDbError} `invalid_response` when a returned record lacks a summary field.
   */
  async search(query: SummaryQuery): Promise<SummaryHit[]> {
    if (query.limit <= 0 || !/[\p{L}\p{N}]/u.test(query.text)) return [];
    await this.ensureReady();
    const rows = await this.client.command(SEARCH_SQL, {
      q: searchQueryText(query.text),
      userId: query.userId,
      platform: query.platform,
      limit: Math.floor(query.limit),
    });
    return rows.map((row) => toHit(row));
  }

  /** `DELETE FROM Summary WHERE id IN :ids`; ids that do not exist are ignored. */
  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.ensureReady();
    await this.client.command(DELETE_SQL, { ids: [...ids] });
  }

  async #setup(): Promise<void> {
    await this.client.ready();
    if (!(await this.client.databaseExists())) {
      try {
        await this.client.createDatabase();
      } catch (error) {
        // Two containers starting together both see "missing"; the loser's create fails but
        // the database it wanted now exists.
        if (!(await this.client.databaseExists())) throw error;
      }
    }
    for (const statement of schemaStatements()) await this.client.command(statement);
  }
}

function toHit(row: unknown): SummaryHit {
  const parsed = hitSchema.safeParse(row);
  if (!parsed.success) {
    throw new ArcadeDbError({
      kind: "invalid_response",
      status: 200,
      operation: "search",
      detail: "a result row is not a summary record",
      cause: parsed.error,
    });
  }
  const { $score, model, ...rest } = parsed.data;
  const summary: SummaryRecord = { ...rest };
  if (typeof model === "string") summary.model = model;
  return { summary, score: $score };
}
