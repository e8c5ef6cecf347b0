import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArcadeDbLongTermIndex } from "../../core/memory/long-term/arcadedb";
import { EmbeddedLongTermIndex } from "../../core/memory/long-term/embedded";
import { SummaryStore } from "../../core/memory/long-term/summaries";
import type { LongTermIndex } from "../../core/memory/long-term/types";
import { type FakeArcadeDb, startFakeArcadeDb } from "../fakes/arcadedb";
import { testAws, testConfig } from "../support/aws";
import {
  FIXTURE_CONVERSATION,
  fixtureSummaries,
  type LabelledQuery,
  labelledQueries,
  meanReciprocalRank,
  otherUserSummaries,
  paraphrasedQueries,
} from "../support/summaries-fixture";

/**
 * The labelled relevance set against both backends: every query must rank its one relevant
 * summary first (so MRR is 1.0); the MRR is printed for the record.
 */

let fake: FakeArcadeDb;
const backends: Record<string, LongTermIndex> = {};

beforeAll(async () => {
  const { aws, config } = await testAws(testConfig());
  const summaries = new SummaryStore({ client: aws.documents, tableName: config.memoryTableName });
  backends.embedded = new EmbeddedLongTermIndex({ summaries });
  fake = await startFakeArcadeDb({ password: "pw" });
  backends.arcadedb = new ArcadeDbLongTermIndex({
    url: fake.databaseUrl,
    username: fake.username,
    password: fake.password,
  });
  // As the archiver does: the durable copy first (the embedded backend's only state), then
  // each index.
  for (const s of [...fixtureSummaries, ...otherUserSummaries]) await summaries.put(s);
  for (const backend of Object.values(backends)) {
    await backend.ensureReady();
    for (const s of [...fixtureSummaries, ...otherUserSummaries]) await backend.upsert(s);
  }
});
afterAll(() => fake?.close());

/** Runs every query as the fixture user; returns the ranked ids and checks user scoping. */
async function rank(
  backend: LongTermIndex,
  queries: readonly LabelledQuery[],
): Promise<Array<{ query: LabelledQuery; relevantId: string; rankedIds: string[] }>> {
  const results = [];
  for (const query of queries) {
    const hits = await backend.search({
      platform: FIXTURE_CONVERSATION.platform,
      userId: FIXTURE_CONVERSATION.userId,
      text: query.text,
      limit: 5,
    });
    expect(hits.every((h) => h.summary.userId === FIXTURE_CONVERSATION.userId)).toBe(true);
    results.push({ query, relevantId: query.relevantId, rankedIds: hits.map((h) => h.summary.id) });
  }
  return results;
}

describe.each(["embedded", "arcadedb"])("%s backend on the labelled set", (name) => {
  it("ranks the relevant summary first for every query and never leaks another user's", async () => {
    const backend = backends[name] as LongTermIndex;
    const results = await rank(backend, labelledQueries);
    const mrr = meanReciprocalRank(results);
    console.log(
      `[relevance] ${name}: MRR ${mrr.toFixed(3)} over ${labelledQueries.length} queries, ` +
        `${fixtureSummaries.length} summaries`,
    );
    for (const r of results) {
      expect(r.rankedIds[0], `"${r.query.text}" should find ${r.query.relevantKey}`).toBe(
        r.query.relevantId,
      );
    }
    expect(mrr).toBe(1);
  });
});

describe.each(["embedded", "arcadedb"])("%s backend on paraphrased queries", (name) => {
  it("still finds most answers when the words differ, and reports the MRR", async () => {
    const backend = backends[name] as LongTermIndex;
    const results = await rank(backend, paraphrasedQueries);
    const mrr = meanReciprocalRank(results);
    const firsts = results.filter((r) => r.rankedIds[0] === r.relevantId).length;
    console.log(
      `[relevance] ${name}, paraphrased: MRR ${mrr.toFixed(3)}, relevant first for ` +
        `${firsts}/${results.length} queries`,
    );
    // Lexical search cannot bridge pure synonyms; the floor guards against regressions such as
    // a broken tokenizer or lost scoping, which would drop it to about 0.
    expect(mrr).toBeGreaterThanOrEqual(0.3);
  });
});
