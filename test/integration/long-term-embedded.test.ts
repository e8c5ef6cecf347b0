import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import type { AwsClients } from "../../core/compose/aws";
import { EmbeddedLongTermIndex } from "../../core/memory/long-term/embedded";
import { SummaryItemError } from "../../core/memory/long-term/errors";
import { SummaryStore, summaryId, summarySk } from "../../core/memory/long-term/summaries";
import type { SummaryRecord } from "../../core/memory/long-term/types";
import { PreferenceStore } from "../../core/memory/preferences";
import { userPk } from "../../core/memory/table/keys";
import { testAws, testConfig } from "../support/aws";
import {
  FIXTURE_CONVERSATION,
  fixtureSummaries,
  fixtureSummaryByKey,
  OTHER_CONVERSATION,
  otherUserSummaries,
} from "../support/summaries-fixture";

let aws: AwsClients;
let table: string;

beforeAll(async () => {
  const setup = await testAws(testConfig());
  aws = setup.aws;
  table = setup.config.memoryTableName;
});

/** A copy of `s` owned by a fresh user, so tests sharing the table do not see each other. */
function ownedBy(s: SummaryRecord, userId: string, toMessageId = s.toMessageId): SummaryRecord {
  const conversation = { platform: s.platform, channelId: s.channelId, userId };
  return { ...s, userId, toMessageId, id: summaryId(conversation, toMessageId) };
}

describe("SummaryStore (DynamoDB Local)", () => {
  it("upserts by id under USER#{platform}#{userId} / SUMMARY#{id}", async () => {
    const store = new SummaryStore({ client: aws.documents, tableName: table });
    const s = ownedBy(fixtureSummaryByKey.car as SummaryRecord, "U-store-put");
    await store.put(s);
    await store.put({ ...s, text: "replaced" });
    const listed = await store.listForUser("slack", "U-store-put");
    expect(listed).toEqual([{ ...s, text: "replaced" }]);
    expect(userPk("slack", "U-store-put")).toBe("USER#slack#U-store-put");
    expect(summarySk(s.id)).toBe(`SUMMARY#${s.id}`);
  });

  it("lists only that user's summaries and ignores their other items", async () => {
    const store = new SummaryStore({ client: aws.documents, tableName: table });
    const mine = fixtureSummaries.slice(0, 5).map((s) => ownedBy(s, "U-store-list"));
    for (const s of mine) await store.put(s);
    await store.put(ownedBy(fixtureSummaries[6] as SummaryRecord, "U-store-list-other"));
    await new PreferenceStore({ client: aws.documents, tableName: table }).put(
      "slack",
      "U-store-list",
      "model",
      "haiku",
    );
    const listed = await store.listForUser("slack", "U-store-list");
    expect(listed.map((s) => s.id).sort()).toEqual(mine.map((s) => s.id).sort());
    expect(await store.listForUser("discord", "U-store-list")).toEqual([]);
  });

  it("scans every summary in the table and nothing else", async () => {
    const { aws: own, config } = await testAws(testConfig());
    const store = new SummaryStore({ client: own.documents, tableName: config.memoryTableName });
    for (const s of [...fixtureSummaries, ...otherUserSummaries]) await store.put(s);
    await new PreferenceStore({ client: own.documents, tableName: config.memoryTableName }).put(
      "slack",
      "U1",
      "k",
      "v",
    );
    const scanned: SummaryRecord[] = [];
    for await (const s of store.scanAll()) scanned.push(s);
    expect(scanned.map((s) => s.id).sort()).toEqual(
      [...fixtureSummaries, ...otherUserSummaries].map((s) => s.id).sort(),
    );
  });

  it("deletes by summaryId() ids directly and by other ids through a scan", async () => {
    const store = new SummaryStore({ client: aws.documents, tableName: table });
    const [a, b, c] = fixtureSummaries.map((s) => ownedBy(s, "U-store-delete"));
    const legacy = { ...(c as SummaryRecord), id: "legacy-summary-1" };
    for (const s of [a, b, legacy]) await store.put(s as SummaryRecord);
    await store.delete([a?.id ?? "", "legacy-summary-1", "slack#C#U-nobody#01X", "not-there"]);
    expect((await store.listForUser("slack", "U-store-delete")).map((s) => s.id)).toEqual([b?.id]);
  });

  it("throws SummaryItemError for a malformed durable item", async () => {
    const store = new SummaryStore({ client: aws.documents, tableName: table });
    await aws.documents.send(
      new PutCommand({
        TableName: table,
        Item: { pk: userPk("slack", "U-store-bad"), sk: summarySk("broken"), text: 42 },
      }),
    );
    await expect(store.listForUser("slack", "U-store-bad")).rejects.toBeInstanceOf(
      SummaryItemError,
    );
  });
});

describe("embedded BM25 backend (DynamoDB Local)", () => {
  it("ranks the relevant summary first and scopes hits to the asking user", async () => {
    const store = new SummaryStore({ client: aws.documents, tableName: table });
    const backend = new EmbeddedLongTermIndex({ summaries: store });
    await backend.ensureReady();
    for (const s of [...fixtureSummaries, ...otherUserSummaries]) await store.put(s);
    const hits = await backend.search({
      platform: "slack",
      userId: FIXTURE_CONVERSATION.userId,
      text: "was the leaked AWS key rotated?",
      limit: 3,
    });
    expect(hits[0]?.summary).toEqual(fixtureSummaryByKey["security-incident"]);
    expect(hits.length).toBeLessThanOrEqual(3);
    expect(hits.every((h) => h.summary.userId === FIXTURE_CONVERSATION.userId)).toBe(true);
    const scores = hits.map((h) => h.score);
    expect([...scores].sort((x, y) => y - x)).toEqual(scores);

    const theirs = await backend.search({
      platform: "slack",
      userId: OTHER_CONVERSATION.userId,
      text: "PostgreSQL billing replication",
      limit: 5,
    });
    expect(theirs.map((h) => h.summary.id)).toEqual([otherUserSummaries[0]?.id]);
  });

  it("sees summaries written through another instance (a fresh Lambda container)", async () => {
    const writer = new SummaryStore({ client: aws.documents, tableName: table });
    const reader = new EmbeddedLongTermIndex({
      summaries: new SummaryStore({ client: aws.documents, tableName: table }),
    });
    expect(
      await reader.search({
        platform: "slack",
        userId: "U-fresh",
        text: "hakone ryokan",
        limit: 3,
      }),
    ).toEqual([]);
    const s = ownedBy(fixtureSummaryByKey.vacation as SummaryRecord, "U-fresh");
    await writer.put(s);
    const hits = await reader.search({
      platform: "slack",
      userId: "U-fresh",
      text: "hakone ryokan",
      limit: 3,
    });
    expect(hits.map((h) => h.summary.id)).toEqual([s.id]);
  });

  it("returns nothing for text without searchable terms or a zero limit, and forgets removed ids", async () => {
    const store = new SummaryStore({ client: aws.documents, tableName: table });
    const backend = new EmbeddedLongTermIndex({ summaries: store });
    const s = ownedBy(fixtureSummaryByKey.wedding as SummaryRecord, "U-embedded-remove");
    await store.put(s);
    const query = { platform: "slack" as const, userId: "U-embedded-remove", limit: 3 };
    expect(await backend.search({ ...query, text: "the a of ?!" })).toEqual([]);
    expect(await backend.search({ ...query, text: "wedding speech", limit: 0 })).toEqual([]);
    expect(await backend.search({ ...query, text: "wedding speech" })).toHaveLength(1);
    await store.delete([s.id]);
    expect(await backend.search({ ...query, text: "wedding speech" })).toEqual([]);
  });
});
