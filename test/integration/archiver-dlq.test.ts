import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildArchiveRequester, buildArchiverDeps } from "../../core/compose/archiver";
import type { AwsClients } from "../../core/compose/aws";
import { buildLongTermMemory } from "../../core/compose/memory";
import type { Config } from "../../core/config";
import { createLogger } from "../../core/logger";
import { ConversationStore } from "../../core/memory/conversations";
import { SummaryStore } from "../../core/memory/long-term/summaries";
import type { ConversationRef } from "../../core/memory/table/keys";
import { createArchiverHandler } from "../../functions/archiver";
import { startQueuePoller } from "../../local/poller";
import { deadLetterQueueUrl, redriveDlq } from "../../scripts/memory-redrive";
import { reindexSummaries } from "../../scripts/memory-reindex";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { type FakeArcadeDb, startFakeArcadeDb } from "../fakes/arcadedb";
import { appendMessages, drainQueue, summariserReply, testArchiveQueue } from "../support/archive";
import { testAws, testConfig } from "../support/aws";

let anthropic: FakeAnthropic;
let arcadedb: FakeArcadeDb;
let aws: AwsClients;
let config: Config;
let queueUrl: string;
let dlqUrl: string;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: "sk-ant-dlq", reply: summariserReply });
  arcadedb = await startFakeArcadeDb({ username: "root", password: "arcade-pw" });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-dlq",
      ANTHROPIC_BASE_URL: anthropic.url,
      ARCADEDB_URL: arcadedb.databaseUrl,
      ARCADEDB_USERNAME: "root",
      ARCADEDB_PASSWORD: "arcade-pw",
    }),
  );
  aws = setup.aws;
  ({ queueUrl, dlqUrl } = await testArchiveQueue(aws));
  config = { ...setup.config, archiveQueueUrl: queueUrl };
});

afterAll(async () => {
  await Promise.all([anthropic?.close(), arcadedb?.close()]);
});

async function visibleMessages(url: string): Promise<number> {
  const out = await aws.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return (
    Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

describe("archiver with ArcadeDB down (fake ArcadeDB, fauxqs redrive policy)", () => {
  it("keeps the messages, lands the job in the DLQ after 3 receives, and completes after memory:redrive", async () => {
    const ref: ConversationRef = { platform: "slack", channelId: "C-DLQ", userId: "U-DLQ" };
    const conversations = new ConversationStore({
      client: aws.documents,
      tableName: config.memoryTableName,
    });
    const ids = await appendMessages(conversations, ref, 33, {
      startMs: Date.UTC(2026, 1, 1),
      text: (i) => (i === 1 ? "the staging database password rotates on fridays" : `chat ${i}`),
    });
    expect(await buildArchiveRequester(config, aws)?.(ref)).toBe(true);

    arcadedb.setAvailable(false);
    let handled = 0;
    const archiver = createArchiverHandler(buildArchiverDeps(config, aws));
    const poller = startQueuePoller({
      sqs: aws.sqs,
      queueUrl,
      handler: async (event, context) => {
        handled += event.Records.length;
        return archiver(event, context);
      },
      logger: createLogger("dlq-test", "SILENT"),
      functionName: "archiver",
      batchSize: 5,
      waitTimeSeconds: 1,
    });
    try {
      const deadline = Date.now() + 20_000;
      while ((await visibleMessages(dlqUrl)) === 0) {
        if (Date.now() > deadline) throw new Error(`no DLQ message after ${handled} receives`);
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await poller.stop();
    }
    expect(handled).toBe(3);
    expect(await visibleMessages(queueUrl)).toBe(0);
    expect(await visibleMessages(dlqUrl)).toBe(1);
    // Nothing was deleted: every message is still in DynamoDB, the counter untouched.
    expect((await conversations.recent(ref, 100)).map((m) => m.messageId)).toEqual(ids);
    expect(await conversations.messageCount(ref)).toBe(33);
    expect(arcadedb.records("Summary")).toEqual([]);

    arcadedb.setAvailable(true);
    const progress: number[] = [];
    const moved = await redriveDlq({
      sqs: aws.sqs,
      dlqUrl: await deadLetterQueueUrl(aws.sqs, queueUrl),
      queueUrl,
      onProgress: (p) => progress.push(p.moved),
    });
    expect(moved).toEqual({ moved: 1, failed: 0 });
    expect(progress).toEqual([1]);
    expect(await visibleMessages(dlqUrl)).toBe(0);

    expect(await drainQueue({ aws, queueUrl, handler: archiver, waitTimeSeconds: 1 })).toEqual({
      processed: 1,
      failed: 0,
    });
    expect((await conversations.recent(ref, 100)).map((m) => m.messageId)).toEqual(ids.slice(13));
    expect(await conversations.messageCount(ref)).toBe(20);
    const stored = await new SummaryStore({
      client: aws.documents,
      tableName: config.memoryTableName,
    }).listForUser("slack", "U-DLQ");
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ fromMessageId: ids[0], toMessageId: ids[12] });
    expect(arcadedb.records("Summary").map((r) => r.id)).toEqual([stored[0]?.id]);

    const { index } = buildLongTermMemory(config, aws);
    const query = {
      platform: "slack" as const,
      text: "when does the staging password rotate",
      limit: 3,
    };
    expect((await index.search({ ...query, userId: "U-DLQ" })).map((h) => h.summary.id)).toEqual([
      stored[0]?.id,
    ]);
    expect(await index.search({ ...query, userId: "U-OTHER" })).toEqual([]);
  }, 60_000);

  it("memory:reindex rebuilds a lost ArcadeDB index from the durable copies", async () => {
    const memory = buildLongTermMemory(config, aws);
    const before = arcadedb.records("Summary").map((r) => r.id);
    expect(before.length).toBeGreaterThan(0);
    arcadedb.reset();
    expect(arcadedb.records("Summary")).toEqual([]);

    const progress: number[] = [];
    const total = await reindexSummaries({
      ...memory,
      onProgress: (p) => progress.push(p.indexed),
    });
    expect(total).toMatchObject({ read: before.length, indexed: before.length, failures: [] });
    expect(progress.at(-1)).toBe(before.length);
    expect(
      arcadedb
        .records("Summary")
        .map((r) => r.id)
        .sort(),
    ).toEqual([...before].sort());
    const hits = await memory.index.search({
      platform: "slack",
      userId: "U-DLQ",
      text: "staging password",
      limit: 3,
    });
    expect(hits).toHaveLength(1);
  });
});
