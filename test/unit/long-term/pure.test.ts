import { describe, expect, it } from "vitest";
import {
  escapeLucene,
  MAX_QUERY_WORDS,
  SEARCH_SQL,
  schemaStatements,
  searchQueryText,
  UPSERT_SQL,
} from "../../../core/memory/long-term/arcadedb";
import {
  errorFromResponse,
  parseArcadeDbUrl,
} from "../../../core/memory/long-term/arcadedb-client";
import { ArcadeDbError, LongTermIndexError } from "../../../core/memory/long-term/errors";
import { processTerm, rankSummaries } from "../../../core/memory/long-term/ranking";
import { parseSummaryId, summaryId } from "../../../core/memory/long-term/summaries";
import {
  FIXTURE_CONVERSATION,
  fixtureSummaries,
  fixtureSummaryByKey,
  meanReciprocalRank,
  otherUserSummaries,
} from "../../support/summaries-fixture";

describe("parseArcadeDbUrl", () => {
  it("splits ARCADEDB_URL into the server base and the database", () => {
    expect(parseArcadeDbUrl("http://db:2480/agent")).toEqual({
      baseUrl: "http://db:2480",
      database: "agent",
    });
    expect(parseArcadeDbUrl("https://proxy.example/arcade/agent/")).toEqual({
      baseUrl: "https://proxy.example/arcade",
      database: "agent",
    });
  });

  it("rejects a URL without a database", () => {
    expect(() => parseArcadeDbUrl("http://db:2480")).toThrow(TypeError);
    expect(() => parseArcadeDbUrl("not a url")).toThrow(TypeError);
  });
});

describe("escapeLucene", () => {
  it("escapes every special character of the classic query syntax", () => {
    expect(escapeLucene('+ - && || ! ( ) { } [ ] ^ " ~ * ? : \\ /')).toBe(
      '\\+ \\- \\&\\& \\|\\| \\! \\( \\) \\{ \\} \\[ \\] \\^ \\" \\~ \\* \\? \\: \\\\ \\/',
    );
  });

  it("lower-cases bare boolean operators and leaves other words alone", () => {
    expect(escapeLucene("cats AND dogs OR NOT birds ANDROID")).toBe(
      "cats and dogs or not birds ANDROID",
    );
    expect(escapeLucene("plain words")).toBe("plain words");
  });
});

describe("searchQueryText", () => {
  it("keeps the leading words of a long message, escaped, under Lucene's 1024 clauses", () => {
    expect(searchQueryText("  where is  my\nlocker (code)? ", 4)).toBe("where is my locker");
    expect(searchQueryText("what OR (else)")).toBe("what or \\(else\\)");
    const long = Array.from({ length: 3_000 }, (_, i) => `w${i}`).join(" ");
    const words = searchQueryText(long).split(" ");
    expect(words).toHaveLength(MAX_QUERY_WORDS);
    expect(MAX_QUERY_WORDS).toBeLessThan(1024);
    expect(words[0]).toBe("w0");
  });
});

describe("SQL built by the ArcadeDB backend", () => {
  it("keeps every value in params and carries an explicit LIMIT", () => {
    expect(UPSERT_SQL).toMatch(/^UPDATE Summary SET id = :id, .* UPSERT WHERE id = :id$/);
    expect(SEARCH_SQL).toContain("SEARCH_INDEX('Summary[text]', :q) = true");
    expect(SEARCH_SQL).toContain("AND userId = :userId AND platform = :platform");
    expect(SEARCH_SQL).toMatch(/ORDER BY \$score DESC LIMIT :limit$/);
    expect(schemaStatements()).toContain("CREATE INDEX IF NOT EXISTS ON Summary (id) UNIQUE");
    expect(schemaStatements()).toContain("CREATE INDEX IF NOT EXISTS ON Summary (text) FULL_TEXT");
    expect(schemaStatements().every((s) => s.includes("IF NOT EXISTS"))).toBe(true);
  });
});

describe("errorFromResponse", () => {
  it("maps statuses to kinds and keeps ArcadeDB's error body fields", () => {
    const body = JSON.stringify({
      error: "Found duplicate key in index",
      detail: "Duplicated key [x]",
      exception: "com.arcadedb.exception.DuplicatedKeyException",
    });
    const error = errorFromResponse("command", 409, body);
    expect(error).toBeInstanceOf(ArcadeDbError);
    expect(error).toBeInstanceOf(LongTermIndexError);
    expect(error).toMatchObject({
      kind: "conflict",
      status: 409,
      error: "Found duplicate key in index",
      detail: "Duplicated key [x]",
      exception: "com.arcadedb.exception.DuplicatedKeyException",
      retryable: false,
    });
    expect(error.message).toContain("409 conflict");
    const kinds = [400, 401, 403, 404, 500, 502, 503].map(
      (s) => errorFromResponse("x", s, "{}").kind,
    );
    expect(kinds).toEqual([
      "bad_request",
      "unauthorized",
      "forbidden",
      "not_found",
      "server",
      "server",
      "unavailable",
    ]);
    expect(errorFromResponse("ready", 503, "Server not started yet")).toMatchObject({
      detail: "Server not started yet",
      retryable: true,
    });
  });
});

describe("summary ids", () => {
  it("are deterministic and carry their owner", () => {
    const id = summaryId(FIXTURE_CONVERSATION, "01JABCDEF");
    expect(id).toBe("slack#C0RELEVANCE#U0RELEVANCE#01JABCDEF");
    expect(summaryId(FIXTURE_CONVERSATION, "01JABCDEF")).toBe(id);
    expect(parseSummaryId(id)).toEqual({ ...FIXTURE_CONVERSATION, toMessageId: "01JABCDEF" });
    expect(parseSummaryId("legacy-1")).toBeUndefined();
    expect(parseSummaryId("teams#C#U#M")).toBeUndefined();
  });
});

describe("embedded ranking (pure)", () => {
  it("filters stop words and single characters, lower-cases the rest", () => {
    expect(["The", "a", "Kubernetes", "x", "and", "42"].map(processTerm)).toEqual([
      null,
      null,
      "kubernetes",
      null,
      null,
      "42",
    ]);
  });

  it("ignores other users' records even when handed them", () => {
    const hits = rankSummaries([...fixtureSummaries, ...otherUserSummaries], {
      platform: "slack",
      userId: FIXTURE_CONVERSATION.userId,
      text: "dense bread",
      limit: 10,
    });
    expect(hits[0]?.summary.id).toBe(fixtureSummaryByKey.sourdough?.id);
    expect(hits.every((h) => h.summary.userId === FIXTURE_CONVERSATION.userId)).toBe(true);
  });

  it("caps the hits at the limit", () => {
    const query = { platform: "slack" as const, userId: FIXTURE_CONVERSATION.userId, limit: 2 };
    expect(rankSummaries(fixtureSummaries, { ...query, text: "user decided open" })).toHaveLength(
      2,
    );
  });
});

describe("meanReciprocalRank", () => {
  it("averages 1/rank and counts misses as 0", () => {
    expect(
      meanReciprocalRank([
        { relevantId: "a", rankedIds: ["a", "b"] },
        { relevantId: "b", rankedIds: ["a", "b"] },
        { relevantId: "c", rankedIds: ["a", "b"] },
      ]),
    ).toBeCloseTo(0.5);
  });
});
