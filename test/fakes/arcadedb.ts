/**
 * Wire-level fake of the ArcadeDB 26.x HTTP/JSON API, covering what the long-term search
 * backend uses: `GET /api/v1/ready`, `GET /api/v1/exists/{db}`, `POST /api/v1/server`
 * (`create database`) and `POST /api/v1/command/{db}` with the SQL statement forms below.
 *
 * Formats followed (ArcadeDB docs, https://docs.arcadedb.com/#http-api, and the server's
 * HTTP handlers, `AbstractServerHttpHandler` / `GetReadyHandler` / `GetExistsDatabaseHandler`):
 * - success: `{"user": "<name>", "result": [...]}`; full records carry `@rid` (`#12:0`),
 *   `@type` and `@cat` (`"d"` for documents); projections carry only the projected fields
 * - `UPDATE`/`DELETE`: `result: [{"count": n}]`
 * - errors: status + `{"error", "detail", "exception", "exceptionArgs"?, "requestId"}`, where
 *   `exception` is the Java class name; a missing `Authorization` header is 401 with
 *   `WWW-Authenticate: Basic`, wrong credentials are 403 `Security error`
 *   (`ServerSecurityException`), a UNIQUE violation is 409 `Found duplicate key in index`
 *   (`DuplicatedKeyException`, `exceptionArgs = "index|[key]|rid"`), a statement that does not
 *   parse is 400 `Cannot execute command` (`CommandSQLParsingException`: the handler maps every
 *   `CommandParsingException` to 400), a failure while executing one is 500 (`Cannot execute
 *   command`, `CommandExecutionException`), as the 26.x handler (`sendMappedErrorResponse`)
 *   maps them; a retryable MVCC conflict is 503 (`ConcurrentModificationException`)
 * - `/api/v1/ready`: 204 with no body and no auth; 503 `Server not started yet` (plain text)
 *
 * SQL accepted (keywords case-insensitive; every value must be a `:param`, literals are
 * rejected so tests catch user text spliced into a command):
 * - `CREATE DOCUMENT TYPE T [IF NOT EXISTS]`
 * - `CREATE PROPERTY T.p [IF NOT EXISTS] TYPE`
 * - `CREATE INDEX [IF NOT EXISTS] ON T (p) UNIQUE|NOTUNIQUE|FULL_TEXT`
 * - `INSERT INTO T SET a = :a, …`
 * - `UPDATE T SET a = :a, … [UPSERT] WHERE p = :p`
 * - `SELECT [* | a, b, $score] FROM T [WHERE cond AND …] [ORDER BY $score|p [ASC|DESC]]
 *   [LIMIT n|:n]`, cond = `SEARCH_INDEX('T[p]', :q) [= true]` | `p = :v` | `p IN :v`
 * - `DELETE FROM T WHERE p = :v | p IN :v`
 *
 * Full-text search: documents are analysed like Lucene's StandardAnalyzer (lower-cased runs of
 * letters/digits, no stop words, no stemming) and ranked with BM25 (k1 = 1.2, b = 0.75,
 * idf = ln(1 + (N − n + 0.5) / (n + 0.5)), statistics over the whole index as in a real
 * index). The query string follows Lucene's classic syntax for what it implements: terms,
 * `\`-escapes, `+`/`-` prefixes, `AND`/`OR`/`NOT`, quoted phrases (as their terms), balanced
 * parentheses and a trailing `*` prefix wildcard. Any other unescaped special character is
 * rejected as a parse error, which is stricter than Lucene so that unescaped user text fails;
 * more than 1024 clauses fail as Lucene's `TooManyClauses` does.
 *
 * Unavailability: `setAvailable(false)` answers 503 to everything including `/ready` (what a
 * starting or overloaded server does); `setDown(true)` destroys connections (a crashed server).
 */
import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { FailureQueue, parseJsonObject, sendJson, startHttpFake } from "./http-fake";

/** Options for {@link startFakeArcadeDb}. */
export interface FakeArcadeDbOptions {
  /** Default `"root"`. */
  username?: string;
  /** Default `"arcadedb-password"`. */
  password?: string;
  /** Name used for {@link FakeArcadeDb.databaseUrl}; not created until asked. Default `"agent"`. */
  database?: string;
  /** Databases that exist at start. Default none. */
  databases?: string[];
}

/** An injected failure: the next matching requests answer `status` with an ArcadeDB error body. */
export interface ArcadeDbFailure {
  status: number;
  /** Which endpoint fails. Default `"command"`. */
  on?: "command" | "ready" | "exists" | "server" | "any";
  /** Default 1. */
  times?: number;
  error?: string;
  detail?: string;
  /** Java exception class name. Default depends on the status. */
  exception?: string;
}

/** One `POST /api/v1/command/{db}` as received. */
export interface ArcadeDbCommand {
  database: string;
  language: unknown;
  command: string;
  params: Record<string, unknown>;
}

/** A stored document as the fake returns it: fields plus `@rid`, `@type`, `@cat`. */
export type ArcadeDbRecord = Record<string, unknown> & { "@rid": string; "@type": string };

/** A running fake ArcadeDB server. */
export interface FakeArcadeDb {
  /** Origin, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** `${url}/${database}`: the form `ARCADEDB_URL` takes. */
  databaseUrl: string;
  database: string;
  username: string;
  password: string;
  /** Every command received, oldest first, including rejected ones. */
  commands: ArcadeDbCommand[];
  /** `METHOD /path` of every request received, oldest first. */
  requests: string[];
  /** While `false`, every request (including `/ready`) answers 503. */
  setAvailable(available: boolean): void;
  /** While `true`, connections are destroyed on arrival (clients see a network error). */
  setDown(down: boolean): void;
  /** Delay before every answer, in ms (0 restores immediate answers). */
  setLatencyMs(ms: number): void;
  /** Queues an injected failure. */
  failNext(failure: ArcadeDbFailure): void;
  /** Copies of the documents of `type` in `database` (default: {@link database}), insertion order. */
  records(type: string, database?: string): ArcadeDbRecord[];
  /** Names of the databases that exist. */
  databases(): string[];
  /** Index names (`T[p]`) with their kind, per database. */
  indexes(database?: string): Record<string, "UNIQUE" | "NOTUNIQUE" | "FULL_TEXT">;
  /** Drops all databases (except the initial ones, emptied), commands, failures; available again. */
  reset(): void;
  close(): Promise<void>;
}

const VERSION = "26.7.1";

interface Index {
  type: string;
  property: string;
  kind: "UNIQUE" | "NOTUNIQUE" | "FULL_TEXT";
}

interface DocType {
  name: string;
  bucket: number;
  nextPosition: number;
  properties: Map<string, string>;
  docs: Map<string, ArcadeDbRecord>;
}

interface Database {
  types: Map<string, DocType>;
  indexes: Map<string, Index>;
  nextBucket: number;
}

/** An ArcadeDB-shaped error answer, thrown inside the fake's handlers. */
class WireError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly exception: string | undefined,
    readonly detail: string | undefined,
    readonly exceptionArgs?: string,
  ) {
    super(error);
  }
}

/** Thrown after a 401 has already been written, to stop handling the request. */
class AuthFailure extends Error {}

const PARSE_EXCEPTION = "com.arcadedb.exception.CommandSQLParsingException";
const EXECUTION_EXCEPTION = "com.arcadedb.exception.CommandExecutionException";

const parseError = (detail: string) =>
  new WireError(400, "Cannot execute command", PARSE_EXCEPTION, detail);
const executionError = (detail: string) =>
  new WireError(500, "Cannot execute command", EXECUTION_EXCEPTION, detail);

/** Starts the fake on 127.0.0.1 with an OS-assigned port. */
export async function startFakeArcadeDb(options: FakeArcadeDbOptions = {}): Promise<FakeArcadeDb> {
  const username = options.username ?? "root";
  const password = options.password ?? "arcadedb-password";
  const database = options.database ?? "agent";
  const initial = options.databases ?? [];
  const dbs = new Map<string, Database>();
  const failures = new FailureQueue<ArcadeDbFailure>();
  const commands: ArcadeDbCommand[] = [];
  const requests: string[] = [];
  let available = true;
  let latencyMs = 0;
  const newDb = (): Database => ({ types: new Map(), indexes: new Map(), nextBucket: 12 });
  for (const name of initial) dbs.set(name, newDb());

  const http = await startHttpFake(async (req, res, raw) => {
    const method = req.method ?? "GET";
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    requests.push(`${method} ${path}`);
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    const requestId = randomBytes(8).toString("hex");
    try {
      const endpoint = endpointOf(method, path);
      const body = parseJsonObject(raw);
      const command = typeof body?.command === "string" ? body.command.trim() : "";
      const params = isPlainObject(body?.params) ? body.params : {};
      if (endpoint.name === "command") {
        commands.push({ database: endpoint.database, language: body?.language, command, params });
      }
      if (!available) {
        if (endpoint.name === "ready") return sendText(res, 503, "Server not started yet");
        throw new WireError(
          503,
          "Server not available",
          "com.arcadedb.exception.NeedRetryException",
          "Server is starting",
        );
      }
      const injected = failures.take(
        (f) => (f.on ?? "command") === "any" || (f.on ?? "command") === endpoint.name,
      );
      if (injected) throw injectedError(injected);
      if (endpoint.name === "ready") {
        res.writeHead(204);
        res.end();
        return;
      }
      checkAuth(req.headers.authorization, res);
      const user = username;
      switch (endpoint.name) {
        case "exists":
          return sendJson(res, 200, { user, version: VERSION, result: dbs.has(endpoint.database) });
        case "server": {
          const create = /^create database (\w+)$/i.exec(command);
          if (!create?.[1])
            throw new WireError(
              400,
              "Cannot execute command",
              "java.lang.IllegalArgumentException",
              `Server command '${command}' is not supported`,
            );
          if (dbs.has(create[1]))
            throw new WireError(
              400,
              "Cannot execute command",
              "java.lang.IllegalArgumentException",
              `Database '${create[1]}' already exists`,
            );
          dbs.set(create[1], newDb());
          return sendJson(res, 200, { result: "ok" });
        }
        case "command": {
          if (!body || !command) return sendJson(res, 400, { error: "Command text is null" });
          if (body.language !== "sql")
            throw new WireError(
              400,
              "Cannot execute command",
              "java.lang.IllegalArgumentException",
              `Query language '${String(body.language)}' is not supported by the fake`,
            );
          const db = dbs.get(endpoint.database);
          if (!db)
            throw new WireError(
              400,
              "Cannot execute command",
              "com.arcadedb.exception.DatabaseOperationException",
              `Database '${endpoint.database}' is not available`,
            );
          return sendJson(res, 200, { user, result: execute(db, command, params) });
        }
        default:
          throw new WireError(404, "Not Found", undefined, `${method} ${path}`);
      }
    } catch (error) {
      if (error instanceof AuthFailure) return;
      if (!(error instanceof WireError)) throw error;
      const body: Record<string, unknown> = { error: error.error, requestId };
      if (error.exception) body.exception = error.exception;
      if (error.exceptionArgs) body.exceptionArgs = error.exceptionArgs;
      if (error.detail) body.detail = error.detail;
      sendJson(res, error.status, body);
    }
  });

  function checkAuth(header: string | undefined, res: ServerResponse): void {
    if (!header) {
      sendJson(res, 401, { error: "" }, { "www-authenticate": "Basic" });
      throw new AuthFailure();
    }
    if (!header.startsWith("Basic ")) {
      throw new WireError(403, "Authentication not supported", undefined, undefined);
    }
    const pair = Buffer.from(header.slice(6), "base64").toString("utf8").split(":");
    if (pair.length !== 2)
      throw new WireError(403, "Basic authentication error", undefined, undefined);
    if (pair[0] !== username || pair[1] !== password) {
      throw new WireError(
        403,
        "Security error",
        "com.arcadedb.server.security.ServerSecurityException",
        "User/Password not valid",
      );
    }
  }

  const databaseUrl = `${http.url}/${database}`;
  return {
    url: http.url,
    databaseUrl,
    database,
    username,
    password,
    commands,
    requests,
    setAvailable: (value) => {
      available = value;
    },
    setDown: http.setDown,
    setLatencyMs: (ms) => {
      latencyMs = ms;
    },
    failNext: (failure) => failures.add(failure, failure.times ?? 1),
    records: (type, name = database) =>
      [...(dbs.get(name)?.types.get(type)?.docs.values() ?? [])].map((doc) => ({ ...doc })),
    databases: () => [...dbs.keys()],
    indexes: (name = database) =>
      Object.fromEntries(
        [...(dbs.get(name)?.indexes ?? new Map<string, Index>())].map(([k, v]) => [k, v.kind]),
      ),
    reset: () => {
      dbs.clear();
      for (const name of initial) dbs.set(name, newDb());
      commands.length = 0;
      requests.length = 0;
      failures.clear();
      available = true;
      latencyMs = 0;
      http.setDown(false);
    },
    close: http.close,
  };
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain" });
  res.end(text);
}

function injectedError(f: ArcadeDbFailure): WireError {
  const defaults: Record<number, [string, string]> = {
    400: ["Cannot execute command", PARSE_EXCEPTION],
    401: ["", ""],
    403: ["Security error", "com.arcadedb.server.security.ServerSecurityException"],
    409: ["Found duplicate key in index", "com.arcadedb.exception.DuplicatedKeyException"],
    500: ["Internal error", "java.lang.RuntimeException"],
    503: ["Cannot execute command", "com.arcadedb.exception.ConcurrentModificationException"],
  };
  const [error, exception] = defaults[f.status] ?? ["Internal error", "java.lang.RuntimeException"];
  return new WireError(
    f.status,
    f.error ?? error,
    f.exception ?? (exception || undefined),
    f.detail ?? `injected ${f.status}`,
  );
}

type Endpoint =
  | { name: "ready" }
  | { name: "server" }
  | { name: "exists"; database: string }
  | { name: "command"; database: string }
  | { name: "other" };

function endpointOf(method: string, path: string): Endpoint {
  if (method === "GET" && path === "/api/v1/ready") return { name: "ready" };
  if (method === "POST" && path === "/api/v1/server") return { name: "server" };
  const exists = /^\/api\/v1\/exists\/([^/]+)$/.exec(path);
  if (method === "GET" && exists?.[1])
    return { name: "exists", database: decodeURIComponent(exists[1]) };
  const command = /^\/api\/v1\/command\/([^/]+)$/.exec(path);
  if (method === "POST" && command?.[1])
    return { name: "command", database: decodeURIComponent(command[1]) };
  return { name: "other" };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---- SQL ----------------------------------------------------------------------------------

const IDENT = "[A-Za-z_][A-Za-z0-9_]*";

function execute(db: Database, raw: string, params: Record<string, unknown>): unknown[] {
  const sql = raw.replace(/\s+/g, " ").trim();
  let m: RegExpExecArray | null;

  m = new RegExp(`^CREATE DOCUMENT TYPE (${IDENT})( IF NOT EXISTS)?$`, "i").exec(sql);
  if (m?.[1]) {
    if (db.types.has(m[1])) {
      if (m[2]) return [];
      throw executionError(`Type '${m[1]}' already exists`);
    }
    db.types.set(m[1], {
      name: m[1],
      bucket: db.nextBucket++,
      nextPosition: 0,
      properties: new Map(),
      docs: new Map(),
    });
    return [{ operation: "create document type", typeName: m[1] }];
  }

  m = new RegExp(`^CREATE PROPERTY (${IDENT})\\.(${IDENT})( IF NOT EXISTS)? (${IDENT})$`, "i").exec(
    sql,
  );
  if (m?.[1] && m[2] && m[4]) {
    const type = typeOf(db, m[1]);
    const kind = m[4].toUpperCase();
    if (!["STRING", "INTEGER", "LONG", "DOUBLE", "BOOLEAN", "DATETIME"].includes(kind)) {
      throw parseError(`Unknown property type '${m[4]}'`);
    }
    if (type.properties.has(m[2])) {
      if (m[3]) return [];
      throw executionError(`Property '${m[1]}.${m[2]}' already exists`);
    }
    type.properties.set(m[2], kind);
    return [{ operation: "create property", typeName: m[1], propertyName: m[2] }];
  }

  m = new RegExp(
    `^CREATE INDEX( IF NOT EXISTS)? ON (${IDENT}) \\((${IDENT})\\) (UNIQUE|NOTUNIQUE|FULL_TEXT)$`,
    "i",
  ).exec(sql);
  if (m?.[2] && m[3] && m[4]) {
    const type = typeOf(db, m[2]);
    if (!type.properties.has(m[3])) {
      throw executionError(`Property '${m[3]}' not found on type '${m[2]}'`);
    }
    const name = `${m[2]}[${m[3]}]`;
    if (db.indexes.has(name)) {
      if (m[1]) return [];
      throw executionError(`Index '${name}' already exists`);
    }
    const kind = m[4].toUpperCase() as Index["kind"];
    db.indexes.set(name, { type: m[2], property: m[3], kind });
    return [{ operation: "create index", name, type: kind, totalIndexed: type.docs.size }];
  }

  m = new RegExp(`^INSERT INTO (${IDENT}) SET (.+)$`, "i").exec(sql);
  if (m?.[1] && m[2]) {
    const type = typeOf(db, m[1]);
    const values = assignments(m[2], params);
    return [{ ...store(db, type, values, undefined) }];
  }

  m = new RegExp(`^UPDATE (${IDENT}) SET (.+?)( UPSERT)? WHERE (.+)$`, "i").exec(sql);
  if (m?.[1] && m[2] && m[4]) {
    const type = typeOf(db, m[1]);
    const values = assignments(m[2], params);
    const matches = where(db, type, m[4], params).docs;
    if (matches.length === 0 && m[3]) {
      // UPSERT inserts the WHERE equality values together with the SET values.
      const keys = equalities(m[4], params);
      store(db, type, { ...keys, ...values }, undefined);
      return [{ count: 1 }];
    }
    for (const doc of matches) store(db, type, { ...doc, ...values }, doc["@rid"]);
    return [{ count: matches.length }];
  }

  m = new RegExp(`^DELETE FROM (${IDENT}) WHERE (.+)$`, "i").exec(sql);
  if (m?.[1] && m[2]) {
    const type = typeOf(db, m[1]);
    const matches = where(db, type, m[2], params).docs;
    for (const doc of matches) type.docs.delete(doc["@rid"]);
    return [{ count: matches.length }];
  }

  m = new RegExp(
    `^SELECT(?: (.+?))? FROM (${IDENT})(?: WHERE (.+?))?(?: ORDER BY (\\$score|${IDENT})(?: (ASC|DESC))?)?(?: LIMIT (\\d+|:${IDENT}))?$`,
    "i",
  ).exec(sql);
  if (m?.[2]) {
    const type = typeOf(db, m[2]);
    const selected = m[3]
      ? where(db, type, m[3], params)
      : { docs: [...type.docs.values()], scores: new Map<string, number>() };
    const rows = selected.docs.map((doc) => ({
      doc,
      score: selected.scores.get(doc["@rid"]) ?? 0,
    }));
    if (m[4]) {
      const key = m[4];
      const sign = (m[5] ?? "ASC").toUpperCase() === "DESC" ? -1 : 1;
      const sortKey = (r: (typeof rows)[number]) => (key === "$score" ? r.score : r.doc[key]);
      rows.sort((a, b) => {
        const x = sortKey(a);
        const y = sortKey(b);
        return (x === y ? 0 : (x as number | string) < (y as number | string) ? -1 : 1) * sign;
      });
    }
    const limit = m[6] === undefined ? rows.length : limitValue(m[6], params);
    return rows.slice(0, limit).map((r) => project(m?.[1], r.doc, r.score));
  }

  throw parseError(`Syntax error or unsupported statement: ${sql}`);
}

function typeOf(db: Database, name: string): DocType {
  const type = db.types.get(name);
  if (!type) throw executionError(`Type with name '${name}' was not found`);
  return type;
}

function param(params: Record<string, unknown>, token: string): unknown {
  const m = new RegExp(`^:(${IDENT})$`).exec(token.trim());
  if (!m?.[1])
    throw parseError(
      `Expected a :parameter, found '${token.trim()}' (the fake accepts no literals)`,
    );
  if (!(m[1] in params)) throw executionError(`Parameter '${m[1]}' not found`);
  return params[m[1]];
}

function limitValue(token: string, params: Record<string, unknown>): number {
  const value = /^\d+$/.test(token) ? Number(token) : param(params, token);
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw executionError(`Invalid LIMIT value '${String(value)}'`);
  }
  return value;
}

function assignments(list: string, params: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const part of list.split(",")) {
    const m = new RegExp(`^\\s*(${IDENT})\\s*=\\s*(\\S+)\\s*$`).exec(part);
    if (!m?.[1] || !m[2]) throw parseError(`Cannot parse assignment '${part.trim()}'`);
    values[m[1]] = param(params, m[2]);
  }
  return values;
}

function equalities(clause: string, params: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const cond of clause.split(/ AND /i)) {
    const m = new RegExp(`^(${IDENT}) = (:${IDENT})$`).exec(cond.trim());
    if (m?.[1] && m[2]) values[m[1]] = param(params, m[2]);
  }
  return values;
}

function store(
  db: Database,
  type: DocType,
  values: Record<string, unknown>,
  rid: string | undefined,
): ArcadeDbRecord {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    if (key.startsWith("@")) continue;
    fields[key] = coerce(type, key, value);
  }
  for (const index of db.indexes.values()) {
    if (index.type !== type.name || index.kind !== "UNIQUE") continue;
    const key = fields[index.property];
    for (const other of type.docs.values()) {
      if (
        other["@rid"] !== rid &&
        other[index.property] === key &&
        key !== undefined &&
        key !== null
      ) {
        const name = `${index.type}[${index.property}]`;
        throw new WireError(
          409,
          "Found duplicate key in index",
          "com.arcadedb.exception.DuplicatedKeyException",
          `Duplicated key [${String(key)}] found on index '${name}' already assigned to record ${other["@rid"]}`,
          `${name}|[${String(key)}]|${other["@rid"]}`,
        );
      }
    }
  }
  const id = rid ?? `#${type.bucket}:${type.nextPosition++}`;
  const doc: ArcadeDbRecord = { "@rid": id, "@type": type.name, "@cat": "d", ...fields };
  type.docs.set(id, doc);
  return doc;
}

function coerce(type: DocType, key: string, value: unknown): unknown {
  const kind = type.properties.get(key);
  if (value === null || value === undefined || !kind) return value ?? null;
  const ok =
    kind === "STRING"
      ? typeof value === "string"
      : kind === "INTEGER" || kind === "LONG"
        ? Number.isInteger(value)
        : kind === "DOUBLE"
          ? typeof value === "number"
          : kind === "BOOLEAN"
            ? typeof value === "boolean"
            : true;
  if (!ok) {
    throw new WireError(
      500,
      "Cannot execute command",
      "com.arcadedb.exception.ValidationException",
      `Invalid value for property '${type.name}.${key}' of type ${kind}: ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function project(
  projection: string | undefined,
  doc: ArcadeDbRecord,
  score: number,
): Record<string, unknown> {
  const list = projection?.trim();
  if (!list) return { ...doc };
  const out: Record<string, unknown> = {};
  for (const item of list.split(",").map((s) => s.trim())) {
    if (item === "*") Object.assign(out, doc);
    else if (item.toLowerCase() === "$score") out.$score = score;
    else if (new RegExp(`^@?${IDENT}$`).test(item)) {
      if (item in doc) out[item] = doc[item];
    } else throw parseError(`Unsupported projection '${item}'`);
  }
  return out;
}

/** Evaluates a WHERE clause of `AND`-joined conditions; returns matches and BM25 scores by @rid. */
function where(
  db: Database,
  type: DocType,
  clause: string,
  params: Record<string, unknown>,
): { docs: ArcadeDbRecord[]; scores: Map<string, number> } {
  let docs = [...type.docs.values()];
  const scores = new Map<string, number>();
  for (const cond of clause.split(/ AND /i).map((c) => c.trim())) {
    const search = new RegExp(
      `^SEARCH_INDEX\\('(${IDENT})\\[(${IDENT})\\]', (:${IDENT})\\)(?: = true)?$`,
      "i",
    ).exec(cond);
    if (search?.[1] && search[2] && search[3]) {
      const name = `${search[1]}[${search[2]}]`;
      const index = db.indexes.get(name);
      if (index?.kind !== "FULL_TEXT" || index.type !== type.name) {
        throw executionError(`Index '${name}' not found`);
      }
      const query = param(params, search[3]);
      if (typeof query !== "string") throw executionError("SEARCH_INDEX expects a string query");
      const ranked = bm25(type, index.property, parseLuceneQuery(query));
      docs = docs.filter((d) => ranked.has(d["@rid"]));
      for (const [rid, score] of ranked) scores.set(rid, score);
      continue;
    }
    const eq = new RegExp(`^(${IDENT}) (=|IN) (:${IDENT})$`, "i").exec(cond);
    if (eq?.[1] && eq[2] && eq[3]) {
      const field = eq[1];
      const value = param(params, eq[3]);
      if (eq[2].toUpperCase() === "IN") {
        if (!Array.isArray(value)) throw executionError(`IN expects a collection for '${field}'`);
        docs = docs.filter((d) => value.includes(d[field]));
      } else docs = docs.filter((d) => d[field] === value);
      continue;
    }
    throw parseError(`Unsupported condition '${cond}'`);
  }
  return { docs, scores };
}

// ---- Full text ----------------------------------------------------------------------------

/** StandardAnalyzer-like analysis: lower-cased runs of letters and digits. */
export function analyze(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

interface Clause {
  occur: "should" | "must" | "must_not";
  terms: string[];
  /** Trailing `*`: the last term matches as a prefix. */
  prefix: boolean;
}

const QUERY_SPECIALS = new Set([
  "+",
  "-",
  "!",
  "(",
  ")",
  ":",
  "^",
  "[",
  "]",
  '"',
  "{",
  "}",
  "~",
  "*",
  "?",
  "\\",
  "/",
  "&",
  "|",
]);

/** Lucene's default `IndexSearcher.getMaxClauseCount()`: more clauses is `TooManyClauses`. */
const MAX_CLAUSE_COUNT = 1024;

/**
 * Parses the subset of Lucene's classic query syntax described in the module comment.
 * @throws {WireError} 500 for unbalanced quotes/parentheses, a dangling escape, an
 *   unescaped special character the fake does not implement, or more than 1024 clauses.
 */
export function parseLuceneQuery(query: string): Clause[] {
  const clauses: Clause[] = [];
  let depth = 0;
  let i = 0;
  let pendingOccur: Clause["occur"] | undefined;
  const fail = (why: string) =>
    new WireError(
      500,
      "Cannot execute command",
      "org.apache.lucene.queryparser.classic.ParseException",
      `Cannot parse '${query}': ${why}`,
    );
  while (i < query.length) {
    const c = query[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "(") {
      depth++;
      i++;
      continue;
    }
    if (c === ")") {
      if (--depth < 0) throw fail("unbalanced ')'");
      i++;
      continue;
    }
    let occur: Clause["occur"] = pendingOccur ?? "should";
    pendingOccur = undefined;
    if (c === "+" || c === "-" || c === "!") {
      occur = c === "+" ? "must" : "must_not";
      i++;
      if (i >= query.length || /\s/.test(query[i] as string)) throw fail(`dangling '${c}'`);
      pendingOccur = occur;
      continue;
    }
    if (query[i] === '"') {
      const end = query.indexOf('"', i + 1);
      if (end < 0) throw fail("unterminated phrase");
      clauses.push({ occur, terms: analyze(query.slice(i + 1, end)), prefix: false });
      i = end + 1;
      continue;
    }
    let word = "";
    let prefix = false;
    while (i < query.length) {
      const ch = query[i] as string;
      if (/\s/.test(ch) || ch === "(" || ch === ")") break;
      if (ch === "\\") {
        const next = query[i + 1];
        if (next === undefined) throw fail("dangling escape");
        word += next;
        i += 2;
        continue;
      }
      if (ch === "*" && (i + 1 >= query.length || /[\s)]/.test(query[i + 1] as string)) && word) {
        prefix = true;
        i++;
        break;
      }
      if (QUERY_SPECIALS.has(ch)) throw fail(`unescaped '${ch}' is not supported`);
      word += ch;
      i++;
    }
    if (word === "AND" || word === "OR") continue;
    if (word === "NOT") {
      pendingOccur = "must_not";
      continue;
    }
    const terms = analyze(word);
    if (terms.length) clauses.push({ occur, terms, prefix });
  }
  if (depth !== 0) throw fail("unbalanced '('");
  if (clauses.length > MAX_CLAUSE_COUNT) {
    throw new WireError(
      500,
      "Cannot execute command",
      "org.apache.lucene.search.IndexSearcher$TooManyClauses",
      `maxClauseCount is set to ${MAX_CLAUSE_COUNT}`,
    );
  }
  return clauses;
}

const K1 = 1.2;
const B = 0.75;

/** BM25 over the FULL_TEXT-indexed `property` of every document of `type`; matching rids only. */
function bm25(type: DocType, property: string, clauses: Clause[]): Map<string, number> {
  const docs = [...type.docs.values()].map((doc) => {
    const tokens = analyze(typeof doc[property] === "string" ? (doc[property] as string) : "");
    const tf = new Map<string, number>();
    for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
    return { rid: doc["@rid"], length: tokens.length, tf };
  });
  const n = docs.length;
  const avgdl = n === 0 ? 0 : docs.reduce((sum, d) => sum + d.length, 0) / n;
  const df = new Map<string, number>();
  for (const d of docs) for (const t of d.tf.keys()) df.set(t, (df.get(t) ?? 0) + 1);
  const vocabulary = [...df.keys()];
  const expand = (clause: Clause): string[][] =>
    clause.terms.map((term, i) =>
      clause.prefix && i === clause.terms.length - 1
        ? vocabulary.filter((v) => v.startsWith(term))
        : [term],
    );
  const termScore = (d: (typeof docs)[number], term: string): number => {
    const f = d.tf.get(term) ?? 0;
    if (f === 0) return 0;
    const nt = df.get(term) ?? 0;
    const idf = Math.log(1 + (n - nt + 0.5) / (nt + 0.5));
    return (idf * f * (K1 + 1)) / (f + K1 * (1 - B + (B * d.length) / (avgdl || 1)));
  };
  const hasMust = clauses.some((c) => c.occur === "must");
  const out = new Map<string, number>();
  for (const d of docs) {
    let score = 0;
    let matchedShould = false;
    let rejected = false;
    for (const clause of clauses) {
      const groups = expand(clause);
      const contains = groups.map((alternatives) => alternatives.some((t) => d.tf.has(t)));
      if (clause.occur === "must_not") {
        if (contains.length && contains.every(Boolean)) rejected = true;
        continue;
      }
      const all = contains.every(Boolean);
      if (clause.occur === "must" && !all) rejected = true;
      if (clause.occur === "should" && contains.some(Boolean)) matchedShould = true;
      for (const alternatives of groups) for (const t of alternatives) score += termScore(d, t);
    }
    if (rejected || (!hasMust && !matchedShould) || score <= 0) continue;
    out.set(d.rid, score);
  }
  return out;
}
