import { DeleteCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { type AwsClients, createAwsClients } from "../../core/compose/aws";
import { buildLongTermMemory } from "../../core/compose/memory";
import type { Config } from "../../core/config";
import { EmbeddedLongTermIndex } from "../../core/memory/long-term/embedded";
import { SummaryStore, summaryId } from "../../core/memory/long-term/summaries";
import { LOG_HEAD_SK, logEntrySk } from "../../core/memory/long-term/summary-log";
import type { SummaryRecord } from "../../core/memory/long-term/types";
import { UserIndexCache } from "../../core/memory/long-term/user-index-cache";
import { userPk } from "../../core/memory/table/keys";
import { LOCAL_CREDENTIALS } from "../../local/services";
import { testAws, testConfig } from "../support/aws";
import { recordRequests, summaryItemWrites } from "../support/dynamodb-requests";

/**
 * The embedded backend's per-container cache against DynamoDB Local: each `EmbeddedLongTermIndex`
 * (or `SummaryStore`) built over its own client stands for one Lambda container.
 */

let config: Config;
let aws: AwsClients;

beforeAll(async () => {
  ({ config, aws } = await testAws(testConfig()));
});

/** A fresh "container": its own clients (with a request recorder), store and index. */
function container() {
  const own = createAwsClients(config, LOCAL_CREDENTIALS);
  const recorder = recordRequests(own.documents);
  const summaries = new SummaryStore({ client: own.documents, tableName: config.memoryTableName });
  return { recorder, summaries, index: new EmbeddedLongTermIndex({ summaries }) };
}

const TOPICS = [
  "migrating billing from PostgreSQL to Aurora with logical replication",
  "planning a hiking trip to the Dolomites in September",
  "debugging flaky Kubernetes readiness probes on staging",
  "choosing a sourdough starter and hydration for rye bread",
  "renewing the HubSpot contract and cutting the ads budget",
];

function summary(userId: string, n: number, text = TOPICS[n % TOPICS.length]): SummaryRecord {
  const toMessageId = `01J${String(n).padStart(23, "0")}`;
  const conversation = { platform: "slack" as const, channelId: "C-CACHE", userId };
  return {
    id: summaryId(conversation, toMessageId),
    ...conversation,
    text: `Summary ${n}: ${text}.`,
    fromMessageId: toMessageId,
    toMessageId,
    messageCount: 10,
    createdAt: 1_700_000_000_000 + n,
  };
}

function ask(userId: string, text: string, limit = 50) {
  return { platform: "slack" as const, userId, text, limit };
}

async function idsFound(index: EmbeddedLongTermIndex, userId: string, text: string) {
  return (await index.search(ask(userId, text))).map((h) => h.summary.id).sort();
}

describe("embedded backend with a per-container cache (DynamoDB Local)", () => {
  it("writes each summary item once per archived chunk (store put, then index upsert)", async () => {
    const own = createAwsClients(config, LOCAL_CREDENTIALS);
    const recorder = recordRequests(own.documents);
    const { summaries, index } = buildLongTermMemory(config, own);
    expect(index.backend).toBe("embedded");
    const s = summary("U-once", 1);
    await summaries.put(s);
    await index.upsert(s);
    expect(summaryItemWrites(recorder.requests)).toBe(1);
    expect(recorder.requests.map((r) => r.command)).toEqual([
      "GetItemCommand",
      "TransactWriteItemsCommand",
    ]);
    expect(await summaries.listForUser("slack", "U-once")).toEqual([s]);
  });

  it("sees puts and deletes made through another container on its next search", async () => {
    const a = container();
    const b = container();
    const first = summary("U-cross", 0);
    await a.summaries.put(first);
    expect(await idsFound(b.index, "U-cross", "PostgreSQL billing")).toEqual([first.id]);
    expect(await idsFound(a.index, "U-cross", "PostgreSQL billing")).toEqual([first.id]);

    const second = summary("U-cross", 5, "PostgreSQL vacuum tuning for billing");
    await a.summaries.put(second);
    expect(await idsFound(b.index, "U-cross", "PostgreSQL billing")).toEqual(
      [first.id, second.id].sort(),
    );
    await b.summaries.delete([first.id]);
    expect(await idsFound(a.index, "U-cross", "PostgreSQL billing")).toEqual([second.id]);
    expect(await idsFound(b.index, "U-cross", "PostgreSQL billing")).toEqual([second.id]);

    await a.summaries.put({ ...second, text: "Replaced: rye bread hydration." });
    expect(await idsFound(b.index, "U-cross", "PostgreSQL billing")).toEqual([]);
    expect(await idsFound(b.index, "U-cross", "rye hydration")).toEqual([second.id]);
  });

  it("never returns a forgotten summary once the delete resolved, in any container", async () => {
    const writer = container();
    const readers = [container(), container()];
    const records = [0, 1, 2, 3].map((n) => summary("U-forget", n, "wedding speech for Anna"));
    for (const s of records) await writer.summaries.put(s);
    for (const r of readers) expect(await idsFound(r.index, "U-forget", "wedding")).toHaveLength(4);

    const gone = [records[0]?.id, records[2]?.id] as string[];
    let resolved = false;
    const violations: string[] = [];
    const deleting = writer.summaries.delete(gone).then(() => {
      resolved = true;
    });
    // Searches racing the delete may still see the summaries; none started after it may.
    while (!resolved) {
      await Promise.all(
        readers.map(async (r) => {
          const startedAfter = resolved;
          const found = await idsFound(r.index, "U-forget", "wedding");
          if (startedAfter && found.some((id) => gone.includes(id))) violations.push(...found);
        }),
      );
    }
    await deleting;
    for (const r of readers) {
      const found = await idsFound(r.index, "U-forget", "wedding speech");
      expect(found).toEqual([records[1]?.id, records[3]?.id].sort());
    }
    expect(violations).toEqual([]);
  });

  it("stops serving a summary as soon as its delete is logged, before the item is gone", async () => {
    const writer = container();
    const reader = container();
    const s = summary("U-logged", 1, "leaked AWS key rotated");
    await writer.summaries.put(s);
    expect(await idsFound(reader.index, "U-logged", "leaked key")).toEqual([s.id]);
    // A crash between the log append and the item delete: only the entry and head bump exist.
    const { appendChanges } = await import("../../core/memory/long-term/summary-log");
    const pk = userPk("slack", "U-logged");
    await appendChanges(
      aws.documents,
      config.memoryTableName,
      pk,
      [{ op: "delete", ids: [s.id] }],
      [],
    );
    expect(await idsFound(reader.index, "U-logged", "leaked key")).toEqual([]);
  });

  it("keeps log versions contiguous when two writers put concurrently, and loses no put", async () => {
    const writers = [container(), container()];
    const records = Array.from({ length: 20 }, (_, n) => summary("U-race", n));
    await Promise.all(
      writers.map(async (w, i) => {
        for (const s of records.filter((_, n) => n % 2 === i)) await w.summaries.put(s);
      }),
    );
    const store = new SummaryStore({ client: aws.documents, tableName: config.memoryTableName });
    expect(await store.headVersion("slack", "U-race")).toBe(20);
    const changes = await store.changes("slack", "U-race", 1, 20);
    expect(changes).toHaveLength(20);
    const logged = (changes ?? []).map((c) => (c.op === "put" ? c.id : "not a put")).sort();
    expect(logged).toEqual(records.map((s) => s.id).sort());
    expect((await store.listForUser("slack", "U-race")).map((s) => s.id).sort()).toEqual(logged);
  });

  it("rebuilds from the summaries when cold, behind an expired log entry, or ahead of the head", async () => {
    const writer = container();
    const reader = container();
    await writer.summaries.put(summary("U-gap", 0));
    expect(await idsFound(reader.index, "U-gap", "Summary")).toEqual([summary("U-gap", 0).id]);

    await writer.summaries.put(summary("U-gap", 1));
    await writer.summaries.put(summary("U-gap", 2));
    const pk = userPk("slack", "U-gap");
    // TTL removed entry 2; entry 3 is still there.
    await aws.documents.send(
      new DeleteCommand({ TableName: config.memoryTableName, Key: { pk, sk: logEntrySk(2) } }),
    );
    reader.recorder.requests.length = 0;
    const all = [0, 1, 2].map((n) => summary("U-gap", n).id).sort();
    expect(await idsFound(reader.index, "U-gap", "Summary")).toEqual(all);
    const rebuilt = reader.recorder.requests.map((r) => r.command);
    expect(rebuilt).toEqual(["GetItemCommand", "QueryCommand", "QueryCommand"]);

    // The head item was recreated (version back to 1): the cache must not trust its version 3.
    await aws.documents.send(
      new DeleteCommand({ TableName: config.memoryTableName, Key: { pk, sk: LOG_HEAD_SK } }),
    );
    await writer.summaries.delete([summary("U-gap", 0).id]);
    expect(await idsFound(reader.index, "U-gap", "Summary")).toEqual(all.slice(1));
    expect(await idsFound(container().index, "U-gap", "Summary")).toEqual(all.slice(1));
  });

  it("answers a warm search with one GetItem, whether the user has 5 or 200 summaries", async () => {
    const writer = new SummaryStore({ client: aws.documents, tableName: config.memoryTableName });
    for (let n = 0; n < 200; n++) {
      if (n < 5) await writer.put(summary("U-warm-5", n));
      await writer.put(summary("U-warm-200", n));
    }
    const reader = container();
    for (const user of ["U-warm-5", "U-warm-200"]) {
      await reader.index.search(ask(user, "PostgreSQL billing"));
      for (const text of ["Dolomites trip", "readiness probes", "rye bread starter"]) {
        reader.recorder.requests.length = 0;
        expect((await reader.index.search(ask(user, text, 3))).length).toBeGreaterThan(0);
        expect(reader.recorder.requests.map((r) => r.command)).toEqual(["GetItemCommand"]);
      }
    }
  });

  it("keeps at most maxUsers users and maxDocuments summaries, least recently used out", async () => {
    const store = new SummaryStore({ client: aws.documents, tableName: config.memoryTableName });
    for (const user of ["U-lru-1", "U-lru-2", "U-lru-3"]) {
      for (let n = 0; n < 3; n++) await store.put(summary(user, n));
    }
    const byUsers = new UserIndexCache(store, { maxUsers: 2 });
    for (const user of ["U-lru-1", "U-lru-2", "U-lru-3"]) await byUsers.search(ask(user, "trip"));
    expect(byUsers.size()).toEqual({ users: 2, documents: 6 });
    const byDocuments = new UserIndexCache(store, { maxDocuments: 4 });
    for (const user of ["U-lru-1", "U-lru-2"]) await byDocuments.search(ask(user, "trip"));
    expect(byDocuments.size()).toEqual({ users: 1, documents: 3 });
  });
});
