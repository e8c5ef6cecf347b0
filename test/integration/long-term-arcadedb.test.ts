import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type ArcadeDbIndexOptions,
  ArcadeDbLongTermIndex,
  SEARCH_SQL,
  UPSERT_SQL,
} from "../../core/memory/long-term/arcadedb";
import { EmbeddedLongTermIndex } from "../../core/memory/long-term/embedded";
import { ArcadeDbError } from "../../core/memory/long-term/errors";
import { createLongTermIndex } from "../../core/memory/long-term/index";
import type { SummaryStore } from "../../core/memory/long-term/summaries";
import type { SummaryRecord } from "../../core/memory/long-term/types";
import { type FakeArcadeDb, startFakeArcadeDb } from "../fakes/arcadedb";
import { testConfig } from "../support/aws";
import { rejection } from "../support/rejection";
import {
  FIXTURE_CONVERSATION,
  fixtureSummaries,
  fixtureSummaryByKey,
  OTHER_CONVERSATION,
  otherUserSummaries,
} from "../support/summaries-fixture";

let fake: FakeArcadeDb;

beforeAll(async () => {
  fake = await startFakeArcadeDb({ username: "root", password: "s3cret", database: "agent" });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const noSleep = async () => {};

function index(overrides: Partial<ArcadeDbIndexOptions> = {}): ArcadeDbLongTermIndex {
  return new ArcadeDbLongTermIndex({
    url: fake.databaseUrl,
    username: "root",
    password: "s3cret",
    timeoutMs: 2000,
    sleep: noSleep,
    ...overrides,
  });
}

const user = { platform: FIXTURE_CONVERSATION.platform, userId: FIXTURE_CONVERSATION.userId };

describe("ArcadeDB backend against the fake", () => {
  it("creates the database and schema once, and is idempotent across instances", async () => {
    await index().ensureReady();
    expect(fake.databases()).toEqual(["agent"]);
    expect(fake.indexes()).toEqual({ "Summary[id]": "UNIQUE", "Summary[text]": "FULL_TEXT" });
    const first = index();
    await first.ensureReady();
    await first.ensureReady();
    expect(fake.requests.filter((r) => r === "POST /api/v1/server")).toHaveLength(1);
    expect(fake.requests.filter((r) => r === "GET /api/v1/ready")).toHaveLength(2);
  });

  it("upserts by id: writing the same summary twice leaves one record with the latest text", async () => {
    const backend = index();
    const summary = fixtureSummaryByKey.sourdough as SummaryRecord;
    await backend.upsert(summary);
    await backend.upsert({ ...summary, text: `${summary.text} Revised.` });
    const records = fake.records("Summary");
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ id: summary.id, text: `${summary.text} Revised.` });
    const upserts = fake.commands.filter((c) => c.command === UPSERT_SQL);
    expect(upserts).toHaveLength(2);
    expect(upserts[0]?.command).not.toContain(summary.text.slice(0, 20));
  });

  it("round-trips every field and omits an absent model", async () => {
    const backend = index();
    const { model: _model, ...withoutModel } = fixtureSummaryByKey.garden as SummaryRecord;
    await backend.upsert(withoutModel);
    const hits = await backend.search({ ...user, text: "tomato leaves", limit: 3 });
    expect(hits).toHaveLength(1);
    expect(hits[0]?.summary).toEqual(withoutModel);
    expect(hits[0]?.score).toBeGreaterThan(0);
  });

  it("scopes search to the asking user, with an explicit LIMIT and the text in params", async () => {
    const backend = index();
    for (const s of [...fixtureSummaries, ...otherUserSummaries]) await backend.upsert(s);
    const mine = await backend.search({ ...user, text: "dense bread sourdough", limit: 5 });
    expect(mine[0]?.summary.id).toBe(fixtureSummaryByKey.sourdough?.id);
    expect(mine.every((h) => h.summary.userId === FIXTURE_CONVERSATION.userId)).toBe(true);
    const theirs = await backend.search({
      platform: "slack",
      userId: OTHER_CONVERSATION.userId,
      text: "dense bread sourdough",
      limit: 5,
    });
    expect(theirs.map((h) => h.summary.userId)).toEqual([OTHER_CONVERSATION.userId]);
    const discord = await backend.search({ ...user, platform: "discord", text: "bread", limit: 5 });
    expect(discord).toEqual([]);
    const search = fake.commands.filter((c) => c.command === SEARCH_SQL).at(-1);
    expect(search?.command).toMatch(/ LIMIT :limit$/);
    expect(search?.params).toMatchObject({ q: "bread", limit: 5, platform: "discord" });
  });

  it("returns at most `limit` hits, best first", async () => {
    const backend = index();
    for (const s of fixtureSummaries) await backend.upsert(s);
    const hits = await backend.search({ ...user, text: "user open question decided", limit: 3 });
    expect(hits).toHaveLength(3);
    const scores = hits.map((h) => h.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it("escapes Lucene syntax in the user's text and still matches", async () => {
    const backend = index();
    const tricky: SummaryRecord = {
      ...(fixtureSummaryByKey.packaging as SummaryRecord),
      id: "slack#C0RELEVANCE#U0RELEVANCE#tricky",
      text: "Build C++ (gcc 13) with flags -O2 && -Wall; is [cmake] ready? path a/b: done~ ^_^ {ok} \\o/",
    };
    await backend.upsert(tricky);
    const hits = await backend.search({
      ...user,
      text: 'C++ (gcc 13) -O2 && -Wall || [cmake]? "path a/b: done~ ^_^ {ok} \\o/ !',
      limit: 5,
    });
    expect(hits.map((h) => h.summary.id)).toEqual([tricky.id]);
    const sent = fake.commands.filter((c) => c.command === SEARCH_SQL).at(-1);
    expect(String(sent?.params.q)).toContain("C\\+\\+ \\(gcc 13\\)");
  });

  it("still finds the summary for a message longer than Lucene's 1024-clause limit", async () => {
    const backend = index();
    for (const s of fixtureSummaries) await backend.upsert(s);
    const filler = Array.from({ length: 2_000 }, (_, i) => `zz${i}`).join(" ");
    const hits = await backend.search({
      ...user,
      text: `dense sourdough bread ${filler}`,
      limit: 3,
    });
    expect(hits[0]?.summary.id).toBe(fixtureSummaryByKey.sourdough?.id);
  });

  it("treats AND/OR/NOT in the user's text as words, not operators", async () => {
    const backend = index();
    for (const s of fixtureSummaries) await backend.upsert(s);
    const hits = await backend.search({ ...user, text: "NOT hybrid", limit: 3 });
    expect(hits[0]?.summary.id).toBe(fixtureSummaryByKey.car?.id);
  });

  it("skips the request for text with nothing searchable", async () => {
    const backend = index();
    await backend.ensureReady();
    const before = fake.commands.length;
    expect(await backend.search({ ...user, text: " ?! && ", limit: 5 })).toEqual([]);
    expect(await backend.search({ ...user, text: "bread", limit: 0 })).toEqual([]);
    expect(fake.commands).toHaveLength(before);
  });

  it("removes records by id, ignoring unknown ids", async () => {
    const backend = index();
    for (const s of fixtureSummaries.slice(0, 3)) await backend.upsert(s);
    const [a, b] = fixtureSummaries;
    await backend.remove([a?.id ?? "", b?.id ?? "", "missing"]);
    expect(fake.records("Summary").map((r) => r.id)).toEqual([fixtureSummaries[2]?.id]);
    await backend.remove([]);
  });

  it("retries a 503 (MVCC conflict) and then succeeds", async () => {
    const backend = index();
    await backend.ensureReady();
    fake.failNext({ status: 503, times: 2 });
    await backend.upsert(fixtureSummaryByKey.car as SummaryRecord);
    expect(fake.records("Summary")).toHaveLength(1);
    expect(fake.commands.filter((c) => c.command === UPSERT_SQL)).toHaveLength(3);
  });

  it("gives up after 3 attempts with an `unavailable` ArcadeDbError", async () => {
    const backend = index();
    await backend.ensureReady();
    fake.failNext({ status: 503, times: 3 });
    const error = await rejection(backend.upsert(fixtureSummaryByKey.car as SummaryRecord));
    expect(error).toBeInstanceOf(ArcadeDbError);
    expect(error).toMatchObject({
      kind: "unavailable",
      status: 503,
      exception: "com.arcadedb.exception.ConcurrentModificationException",
    });
    expect(fake.commands.filter((c) => c.command === UPSERT_SQL)).toHaveLength(3);
  });

  it("does not retry other errors (500, 409)", async () => {
    const backend = index();
    await backend.ensureReady();
    fake.failNext({ status: 500 });
    const error = await rejection(backend.upsert(fixtureSummaryByKey.car as SummaryRecord));
    expect(error).toMatchObject({ kind: "server", status: 500 });
    fake.failNext({ status: 409 });
    const conflict = await rejection(backend.upsert(fixtureSummaryByKey.car as SummaryRecord));
    expect(conflict).toMatchObject({
      kind: "conflict",
      status: 409,
      error: "Found duplicate key in index",
      exception: "com.arcadedb.exception.DuplicatedKeyException",
    });
    expect(fake.commands.filter((c) => c.command === UPSERT_SQL)).toHaveLength(2);
  });

  it("maps a missing password to 401 `unauthorized` and a wrong one to 403 `forbidden`", async () => {
    const anonymous = await rejection(index({ password: undefined }).ensureReady());
    expect(anonymous).toBeInstanceOf(ArcadeDbError);
    expect(anonymous).toMatchObject({ kind: "unauthorized", status: 401, operation: "exists" });
    const wrong = await rejection(index({ password: "nope" }).ensureReady());
    expect(wrong).toMatchObject({
      kind: "forbidden",
      status: 403,
      error: "Security error",
      detail: "User/Password not valid",
      exception: "com.arcadedb.server.security.ServerSecurityException",
    });
    expect(fake.requests.filter((r) => r.startsWith("GET /api/v1/exists"))).toHaveLength(2);
  });

  it("reports an unavailable server as `unavailable` and recovers once it is back", async () => {
    const backend = index();
    fake.setAvailable(false);
    const error = await rejection(backend.ensureReady());
    expect(error).toMatchObject({ kind: "unavailable", status: 503, operation: "ready" });
    expect((error as ArcadeDbError).detail).toBe("Server not started yet");
    expect(fake.requests.filter((r) => r === "GET /api/v1/ready")).toHaveLength(3);
    fake.setAvailable(true);
    await backend.upsert(fixtureSummaryByKey.car as SummaryRecord);
    expect(fake.records("Summary")).toHaveLength(1);
  });

  it("reports dropped connections as `network` and slow answers as `timeout`", async () => {
    fake.setDown(true);
    const network = await rejection(index().ensureReady());
    expect(network).toMatchObject({ kind: "network" });
    expect((network as Error).cause).toBeDefined();
    fake.setDown(false);
    fake.setLatencyMs(500);
    const timeout = await rejection(index({ timeoutMs: 50 }).ensureReady());
    expect(timeout).toMatchObject({ kind: "timeout", operation: "ready" });
  });

  it("tolerates a concurrent creator of the database", async () => {
    let raced = false;
    // Another container creates the database between our `exists` check and our create.
    const racingFetch: typeof fetch = async (input, init) => {
      if (!raced && String(input).endsWith("/api/v1/server")) {
        raced = true;
        await fetch(String(input), init);
      }
      return fetch(input, init);
    };
    await index({ fetch: racingFetch }).ensureReady();
    expect(raced).toBe(true);
    expect(fake.databases()).toEqual(["agent"]);
    expect(fake.indexes()).toHaveProperty("Summary[text]", "FULL_TEXT");
  });
});

describe("createLongTermIndex", () => {
  const summaries = {} as SummaryStore;

  it("selects ArcadeDB when ARCADEDB_URL is set and the embedded backend otherwise", () => {
    const withUrl = testConfig({
      ARCADEDB_URL: "http://db.internal:2480/agent/",
      ARCADEDB_PASSWORD: "x",
    });
    const arcade = createLongTermIndex(withUrl, { summaries });
    expect(arcade.backend).toBe("arcadedb");
    expect((arcade as ArcadeDbLongTermIndex).client.database).toBe("agent");
    expect((arcade as ArcadeDbLongTermIndex).client.baseUrl).toBe("http://db.internal:2480");
    const embedded = createLongTermIndex(testConfig(), { summaries });
    expect(embedded).toBeInstanceOf(EmbeddedLongTermIndex);
    expect(embedded.backend).toBe("embedded");
  });
});
