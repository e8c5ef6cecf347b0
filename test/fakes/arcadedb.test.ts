import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeArcadeDb, parseLuceneQuery, startFakeArcadeDb } from "./arcadedb";

let fake: FakeArcadeDb;
let auth: string;

beforeAll(async () => {
  fake = await startFakeArcadeDb({ username: "root", password: "pw", database: "mem" });
  auth = `Basic ${Buffer.from("root:pw").toString("base64")}`;
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

async function call(
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  authorization: string | null = auth,
): Promise<{
  status: number;
  headers: Headers;
  json: Record<string, unknown> | undefined;
  text: string;
}> {
  const headers: Record<string, string> = {};
  if (authorization) headers.authorization = authorization;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${fake.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

type Row = { id: string; $score: number } & Record<string, unknown>;
const rowsOf = (res: { json: Record<string, unknown> | undefined }): Row[] =>
  (res.json?.result ?? []) as Row[];

const sql = (command: string, params: Record<string, unknown> = {}) =>
  call("POST", "/api/v1/command/mem", { language: "sql", command, params });

async function createSchema(): Promise<void> {
  await call("POST", "/api/v1/server", { command: "create database mem" });
  for (const statement of [
    "CREATE DOCUMENT TYPE Note IF NOT EXISTS",
    "CREATE PROPERTY Note.id IF NOT EXISTS STRING",
    "CREATE PROPERTY Note.owner IF NOT EXISTS STRING",
    "CREATE PROPERTY Note.text IF NOT EXISTS STRING",
    "CREATE INDEX IF NOT EXISTS ON Note (id) UNIQUE",
    "CREATE INDEX IF NOT EXISTS ON Note (text) FULL_TEXT",
  ]) {
    const res = await sql(statement);
    expect(res.status, statement).toBe(200);
  }
}

async function insert(id: string, owner: string, text: string) {
  return sql("INSERT INTO Note SET id = :id, owner = :owner, text = :text", { id, owner, text });
}

const searchSql =
  "SELECT id, $score FROM Note WHERE SEARCH_INDEX('Note[text]', :q) = true AND owner = :owner " +
  "ORDER BY $score DESC LIMIT :limit";

describe("fake ArcadeDB: server endpoints", () => {
  it("exposes the origin and an ARCADEDB_URL-shaped database URL", () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fake.databaseUrl).toBe(`${fake.url}/mem`);
  });

  it("answers /ready with 204 and no auth, and 503 plain text while unavailable", async () => {
    const ok = await call("GET", "/api/v1/ready", undefined, null);
    expect(ok.status).toBe(204);
    expect(ok.text).toBe("");
    fake.setAvailable(false);
    const down = await call("GET", "/api/v1/ready", undefined, null);
    expect(down.status).toBe(503);
    expect(down.text).toBe("Server not started yet");
    const command = await sql("SELECT FROM Note");
    expect(command.status).toBe(503);
    expect(command.json).toMatchObject({
      error: expect.any(String),
      exception: expect.any(String),
    });
  });

  it("reports database existence and creates a database through /api/v1/server", async () => {
    expect((await call("GET", "/api/v1/exists/mem")).json).toMatchObject({
      user: "root",
      result: false,
    });
    const created = await call("POST", "/api/v1/server", { command: "create database mem" });
    expect(created).toMatchObject({ status: 200, json: { result: "ok" } });
    expect((await call("GET", "/api/v1/exists/mem")).json).toMatchObject({ result: true });
    const again = await call("POST", "/api/v1/server", { command: "create database mem" });
    expect(again.status).toBe(400);
    expect(again.json?.detail).toContain("already exists");
  });

  it("answers 401 with WWW-Authenticate without credentials and 403 for wrong ones", async () => {
    const none = await call("GET", "/api/v1/exists/mem", undefined, null);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe("Basic");
    expect(none.json).toHaveProperty("error");
    const wrong = await call(
      "GET",
      "/api/v1/exists/mem",
      undefined,
      `Basic ${Buffer.from("root:nope").toString("base64")}`,
    );
    expect(wrong.status).toBe(403);
    expect(wrong.json).toMatchObject({
      error: "Security error",
      exception: "com.arcadedb.server.security.ServerSecurityException",
      detail: "User/Password not valid",
    });
  });
});

describe("fake ArcadeDB: SQL commands", () => {
  it("runs idempotent DDL and records the indexes", async () => {
    await createSchema();
    await createSchema();
    expect(fake.indexes()).toEqual({ "Note[id]": "UNIQUE", "Note[text]": "FULL_TEXT" });
    const dup = await sql("CREATE DOCUMENT TYPE Note");
    expect(dup.status).toBe(500);
  });

  it("returns records with @rid, @type and @cat, and {count} for UPDATE and DELETE", async () => {
    await createSchema();
    const inserted = await insert("n1", "alice", "first note");
    expect(inserted.json).toMatchObject({
      user: "root",
      result: [{ "@rid": "#12:0", "@type": "Note", "@cat": "d", id: "n1", text: "first note" }],
    });
    const upsert = "UPDATE Note SET owner = :owner, text = :text UPSERT WHERE id = :id";
    expect((await sql(upsert, { id: "n1", owner: "alice", text: "edited" })).json).toEqual({
      user: "root",
      result: [{ count: 1 }],
    });
    expect((await sql(upsert, { id: "n2", owner: "bob", text: "new" })).json?.result).toEqual([
      { count: 1 },
    ]);
    expect(fake.records("Note").map((r) => [r["@rid"], r.id, r.text])).toEqual([
      ["#12:0", "n1", "edited"],
      ["#12:1", "n2", "new"],
    ]);
    const all = await sql("SELECT FROM Note WHERE owner = :owner", { owner: "bob" });
    expect(all.json?.result).toEqual([
      { "@rid": "#12:1", "@type": "Note", "@cat": "d", id: "n2", owner: "bob", text: "new" },
    ]);
    const deleted = await sql("DELETE FROM Note WHERE id IN :ids", { ids: ["n1", "n2", "x"] });
    expect(deleted.json?.result).toEqual([{ count: 2 }]);
    expect(fake.records("Note")).toEqual([]);
  });

  it("answers 409 DuplicatedKeyException when an INSERT repeats a UNIQUE key", async () => {
    await createSchema();
    await insert("n1", "alice", "one");
    const dup = await insert("n1", "alice", "two");
    expect(dup.status).toBe(409);
    expect(dup.json).toMatchObject({
      error: "Found duplicate key in index",
      exception: "com.arcadedb.exception.DuplicatedKeyException",
      exceptionArgs: "Note[id]|[n1]|#12:0",
    });
    expect(dup.json?.detail).toContain("Duplicated key");
  });

  it("rejects SQL it cannot parse, and literals, with an {error, detail, exception} body", async () => {
    await createSchema();
    for (const command of [
      "SELEKT FROM Note",
      "SELECT FROM Note WHERE owner = 'alice'",
      "INSERT INTO Note SET id = 'n1'",
    ]) {
      const res = await sql(command);
      expect(res.status, command).toBe(400);
      expect(res.json).toMatchObject({
        error: "Cannot execute command",
        exception: "com.arcadedb.exception.CommandSQLParsingException",
        detail: expect.any(String),
      });
    }
  });

  it("ranks SEARCH_INDEX hits by BM25 $score, filters, and honours LIMIT", async () => {
    await createSchema();
    await insert("a", "alice", "kubernetes pods crash on staging kubernetes cluster");
    await insert("b", "alice", "the staging database was slow");
    await insert("c", "alice", "lunch plans for friday");
    await insert("d", "bob", "kubernetes kubernetes kubernetes");
    const res = await sql(searchSql, { q: "kubernetes staging", owner: "alice", limit: 10 });
    expect(res.status).toBe(200);
    const rows = rowsOf(res);
    expect(rows.map((r) => r.id)).toEqual(["a", "b"]);
    expect(Object.keys(rows[0] ?? {}).sort()).toEqual(["$score", "id"]);
    expect(rows[0]?.$score).toBeGreaterThan(rows[1]?.$score ?? Infinity);
    const limited = await sql(searchSql, { q: "kubernetes staging", owner: "alice", limit: 1 });
    expect(rowsOf(limited)).toHaveLength(1);
  });

  it("scores with BM25: rarer terms weigh more and longer documents less", async () => {
    await createSchema();
    await insert("short", "u", "deploy failed");
    await insert("long", "u", "deploy failed after a very long and winding afternoon of retries");
    await insert("common1", "u", "deploy notes");
    await insert("common2", "u", "deploy again");
    const res = await sql(searchSql, { q: "failed", owner: "u", limit: 10 });
    const rows = rowsOf(res);
    expect(rows.map((r) => r.id)).toEqual(["short", "long"]);
    const rare = rows[0]?.$score ?? 0;
    const common = rowsOf(await sql(searchSql, { q: "deploy", owner: "u", limit: 10 }));
    expect(common.find((r) => r.id === "short")?.$score).toBeLessThan(rare);
  });

  it("treats escaped Lucene syntax literally and rejects unescaped syntax", async () => {
    await createSchema();
    await insert("a", "u", "c++ build (release) failed: error 42?");
    const escaped = await sql(searchSql, {
      q: "c\\+\\+ \\(release\\) error\\:",
      owner: "u",
      limit: 5,
    });
    expect(rowsOf(escaped).map((r) => r.id)).toEqual(["a"]);
    const raw = await sql(searchSql, { q: "release) error: 42?", owner: "u", limit: 5 });
    expect(raw.status).toBe(500);
    expect(raw.json?.exception).toBe("org.apache.lucene.queryparser.classic.ParseException");
  });

  it("injects failures, latency and dropped connections", async () => {
    await createSchema();
    fake.failNext({ status: 503, times: 2 });
    expect((await sql("SELECT FROM Note")).status).toBe(503);
    const second = await sql("SELECT FROM Note");
    expect(second.json).toMatchObject({
      exception: "com.arcadedb.exception.ConcurrentModificationException",
    });
    expect((await sql("SELECT FROM Note")).status).toBe(200);
    fake.setLatencyMs(50);
    const started = performance.now();
    await call("GET", "/api/v1/ready");
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    fake.setLatencyMs(0);
    fake.setDown(true);
    await expect(call("GET", "/api/v1/ready")).rejects.toThrow();
  });

  it("records every command with its params", async () => {
    await createSchema();
    await insert("n1", "alice", "hello");
    expect(fake.commands.at(-1)).toEqual({
      database: "mem",
      language: "sql",
      command: "INSERT INTO Note SET id = :id, owner = :owner, text = :text",
      params: { id: "n1", owner: "alice", text: "hello" },
    });
  });
});

describe("fake ArcadeDB: Lucene query parsing", () => {
  it("parses terms, prefixes, operators, phrases and prefix wildcards", () => {
    expect(parseLuceneQuery('+alpha -beta NOT gamma "Delta Echo" fox* a AND b')).toEqual([
      { occur: "must", terms: ["alpha"], prefix: false },
      { occur: "must_not", terms: ["beta"], prefix: false },
      { occur: "must_not", terms: ["gamma"], prefix: false },
      { occur: "should", terms: ["delta", "echo"], prefix: false },
      { occur: "should", terms: ["fox"], prefix: true },
      { occur: "should", terms: ["a"], prefix: false },
      { occur: "should", terms: ["b"], prefix: false },
    ]);
  });

  it("rejects unbalanced and unsupported syntax", () => {
    for (const q of ['"open', "(a", "a)", "x:y", "*lead", "a^2", "trail\\"]) {
      expect(() => parseLuceneQuery(q), q).toThrow();
    }
  });

  it("refuses more than 1024 clauses, as Lucene's TooManyClauses does", () => {
    const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(" ");
    expect(parseLuceneQuery(words(1024))).toHaveLength(1024);
    let thrown: unknown;
    try {
      parseLuceneQuery(words(1025));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({
      status: 500,
      exception: "org.apache.lucene.search.IndexSearcher$TooManyClauses",
      detail: "maxClauseCount is set to 1024",
    });
  });
});
