import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildArchiverDeps } from "../../core/compose/archiver";
import type { AwsClients } from "../../core/compose/aws";
import { buildForgetConversation } from "../../core/compose/forget";
import { buildLongTermMemory } from "../../core/compose/memory";
import type { Config } from "../../core/config";
import { ArchiveLedger } from "../../core/memory/archive-ledger";
import { ConversationStore } from "../../core/memory/conversations";
import { SummaryStore } from "../../core/memory/long-term/summaries";
import type { ConversationRef } from "../../core/memory/table/keys";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { type FakeArcadeDb, startFakeArcadeDb } from "../fakes/arcadedb";
import {
  appendMessages,
  isSummaryRequest,
  summariserReply,
  testArchiveQueue,
} from "../support/archive";
import { testAws, testConfig } from "../support/aws";

let anthropic: FakeAnthropic;
let arcadedb: FakeArcadeDb;
let aws: AwsClients;
let config: Config;
let conversations: ConversationStore;
let ledger: ArchiveLedger;
let summaries: SummaryStore;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: "sk-ant-forget", reply: summariserReply });
  arcadedb = await startFakeArcadeDb({ username: "root", password: "arcade-pw" });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-forget",
      ANTHROPIC_BASE_URL: anthropic.url,
      ARCADEDB_URL: arcadedb.databaseUrl,
      ARCADEDB_PASSWORD: "arcade-pw",
    }),
  );
  aws = setup.aws;
  const { queueUrl } = await testArchiveQueue(aws);
  config = { ...setup.config, archiveQueueUrl: queueUrl };
  conversations = new ConversationStore({
    client: aws.documents,
    tableName: config.memoryTableName,
  });
  ledger = new ArchiveLedger({ client: aws.documents, tableName: config.memoryTableName });
  summaries = new SummaryStore({ client: aws.documents, tableName: config.memoryTableName });
});

afterAll(async () => {
  await Promise.all([anthropic?.close(), arcadedb?.close()]);
});

const run = { remainingMs: () => 120_000 };
const T0 = Date.UTC(2026, 2, 1);

describe("forgetConversation (DynamoDB Local, fake ArcadeDB)", () => {
  it("deletes the messages, META, summaries and index entries of that conversation only", async () => {
    const forgotten: ConversationRef = { platform: "discord", channelId: "111", userId: "222" };
    const kept: ConversationRef = { ...forgotten, channelId: "333" };
    const archiver = buildArchiverDeps(config, aws);
    for (const ref of [forgotten, kept]) {
      await appendMessages(conversations, ref, 34, {
        startMs: T0,
        seed: ref.channelId,
        text: (i) => `channel ${ref.channelId} secret plan ${i}`,
      });
      await archiver.archive({ v: 1, conversation: ref, requestedAt: T0 }, run);
    }
    const before = await summaries.listForUser("discord", "222");
    expect(before.map((s) => s.channelId).sort()).toEqual(["111", "333"]);

    const forget = buildForgetConversation(config, aws);
    expect(await forget(forgotten)).toEqual({ messages: 20, summaries: 1 });

    expect(await conversations.recent(forgotten, 100)).toEqual([]);
    expect(await ledger.archiveState(forgotten)).toBeUndefined();
    // The running summary went with META; the other channel's is untouched.
    expect((await conversations.head(forgotten)).runningSummary).toBeUndefined();
    expect((await conversations.head(kept)).runningSummary?.text).toContain("secret plan");
    const after = await summaries.listForUser("discord", "222");
    expect(after.map((s) => s.channelId)).toEqual(["333"]);
    expect(arcadedb.records("Summary").map((r) => r.channelId)).toEqual(["333"]);
    const { index } = buildLongTermMemory(config, aws);
    const hits = await index.search({
      platform: "discord",
      userId: "222",
      text: "secret plan",
      limit: 5,
    });
    expect(hits.map((h) => h.summary.channelId)).toEqual(["333"]);
    expect(await conversations.recent(kept, 100)).toHaveLength(20);
    // Forgetting again finds nothing and fails nothing.
    expect(await forget(forgotten)).toEqual({ messages: 0, summaries: 0 });
  });

  it("makes an archiver that was mid-summary remove the summary of forgotten messages", async () => {
    const ref: ConversationRef = { platform: "slack", channelId: "C-FORGET", userId: "U-RACE" };
    await appendMessages(conversations, ref, 33, { startMs: T0, seed: "race" });
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let summaryCalls = 0;
    anthropic.setReply(async (req) => {
      if (isSummaryRequest(req)) {
        summaryCalls++;
        await gate;
      }
      return summariserReply(req);
    });
    try {
      const pending = buildArchiverDeps(config, aws).archive(
        { v: 1, conversation: ref, requestedAt: T0 },
        run,
      );
      for (let i = 0; i < 200 && summaryCalls === 0; i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(summaryCalls).toBe(1);
      expect(await buildForgetConversation(config, aws)(ref)).toEqual({
        messages: 33,
        summaries: 0,
      });
      release();
      const outcome = await pending;
      expect(outcome.status).toBe("done");
      expect(outcome.chunks).toBe(0);
      expect(outcome.compensatedIds).toHaveLength(1);
      expect(await summaries.listForUser("slack", "U-RACE")).toEqual([]);
      expect(arcadedb.records("Summary").filter((r) => r.userId === "U-RACE")).toEqual([]);
      expect(await ledger.archiveState(ref)).toBeUndefined();
    } finally {
      release();
      anthropic.setReply();
    }
  });

  it("finishes a failed undo on the retry: a forgotten conversation's summary is removed", async () => {
    const ref: ConversationRef = { platform: "slack", channelId: "C-ORPHAN", userId: "U-ORPHAN" };
    await appendMessages(conversations, ref, 33, { startMs: T0, seed: "orphan" });
    await buildArchiverDeps(config, aws).archive({ v: 1, conversation: ref, requestedAt: T0 }, run);
    const [summary] = await summaries.listForUser("slack", "U-ORPHAN");
    expect(summary).toBeDefined();
    // What a failed undo leaves: messages and META gone, the summary still stored and indexed.
    await conversations.deleteConversation(ref);
    expect(arcadedb.records("Summary").filter((r) => r.userId === "U-ORPHAN")).toHaveLength(1);

    const outcome = await buildArchiverDeps(config, aws).archive(
      { v: 1, conversation: ref, requestedAt: T0 },
      run,
    );
    expect(outcome).toMatchObject({ status: "forgotten", compensatedIds: [summary?.id] });
    expect(await summaries.listForUser("slack", "U-ORPHAN")).toEqual([]);
    expect(arcadedb.records("Summary").filter((r) => r.userId === "U-ORPHAN")).toEqual([]);
  });
});
