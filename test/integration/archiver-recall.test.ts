import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ChatJob } from "../../core/chat/job";
import { RECALL_HEADING, SYSTEM_PROMPT } from "../../core/chat/prompt";
import { buildArchiveRequester } from "../../core/compose/archiver";
import type { AwsClients } from "../../core/compose/aws";
import { buildLongTermMemory } from "../../core/compose/memory";
import { buildWorkerDeps } from "../../core/compose/worker";
import type { Config } from "../../core/config";
import { ArchiveLedger } from "../../core/memory/archive-ledger";
import { ConversationStore } from "../../core/memory/conversations";
import { summaryId } from "../../core/memory/long-term/summaries";
import type { SummaryRecord } from "../../core/memory/long-term/types";
import { createChatWorkerHandler } from "../../functions/chat-worker";
import { localLambdaContext } from "../../local/poller";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { type FakeArcadeDb, startFakeArcadeDb } from "../fakes/arcadedb";
import { appendMessages, testArchiveQueue } from "../support/archive";
import { testAws, testConfig } from "../support/aws";
import { sqsEvent } from "../support/sqs";

let anthropic: FakeAnthropic;
let arcadedb: FakeArcadeDb;
let aws: AwsClients;
let config: Config;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: "sk-ant-recall" });
  arcadedb = await startFakeArcadeDb({ username: "root", password: "arcade-pw" });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-recall",
      ANTHROPIC_BASE_URL: anthropic.url,
      ARCADEDB_URL: arcadedb.databaseUrl,
      ARCADEDB_PASSWORD: "arcade-pw",
      MEMORY_RECALL_MAX_SUMMARIES: "2",
      MEMORY_RECALL_MAX_CHARS: "300",
    }),
  );
  aws = setup.aws;
  const { queueUrl } = await testArchiveQueue(aws);
  config = { ...setup.config, archiveQueueUrl: queueUrl };
});

afterAll(async () => {
  await Promise.all([anthropic?.close(), arcadedb?.close()]);
});

beforeEach(() => {
  anthropic.reset();
  arcadedb.setAvailable(true);
});

let counter = 0;
function job(userId: string, text: string): ChatJob {
  counter++;
  return {
    v: 2,
    jobId: `recall-test-${counter}`,
    source: { kind: "kadi-tool" },
    conversation: { platform: "slack", channelId: "C-RECALL", userId },
    text,
    sentAt: Date.UTC(2026, 3, 1) + counter * 1_000,
    reply: { platform: "slack", via: "inline", address: {} },
  };
}

async function runJob(theJob: ChatJob) {
  const handler = createChatWorkerHandler(buildWorkerDeps(config, aws));
  const event = sqsEvent([theJob], { ids: [theJob.jobId] });
  return handler(event, localLambdaContext("chat-worker", 30_000));
}

function summary(userId: string, toMessageId: string, text: string): SummaryRecord {
  const ref = { platform: "slack" as const, channelId: "C-RECALL", userId };
  return {
    id: summaryId(ref, toMessageId),
    ...ref,
    text,
    fromMessageId: toMessageId,
    toMessageId,
    messageCount: 2,
    createdAt: Date.UTC(2026, 2, 15),
  };
}

function lastSystemPrompt(): string {
  return String(anthropic.requests.at(-1)?.body.system ?? "");
}

describe("recall in the chat turn (fake ArcadeDB backend)", () => {
  it("gives the model the relevant summaries as labelled background, within the budget", async () => {
    const { summaries, index } = buildLongTermMemory(config, aws);
    const records = [
      summary("U-RECALL", "01J0000000000000000000000A", "The release train leaves on Tuesday."),
      summary("U-RECALL", "01J0000000000000000000000B", "Alice owns the billing service rewrite."),
      summary("U-RECALL", "01J0000000000000000000000C", "Billing invoices are sent by Alice."),
      summary("U-RECALL", "01J0000000000000000000000D", "Nothing relevant about lunch."),
      summary("U-RECALL", "01J0000000000000000000000F", "Alice mentioned billing once."),
      summary("U-STRANGER", "01J0000000000000000000000E", "Alice billing secrets of a stranger."),
    ];
    for (const record of records) {
      await summaries.put(record);
      await index.upsert(record);
    }
    expect(await runJob(job("U-RECALL", "who owns billing, Alice?"))).toEqual({
      batchItemFailures: [],
    });
    const system = lastSystemPrompt();
    expect(system).toContain(`## ${RECALL_HEADING}`);
    // Three summaries match; MEMORY_RECALL_MAX_SUMMARIES=2 lets the best two through.
    expect(system.split("\n").filter((line) => line.startsWith("- ("))).toHaveLength(2);
    expect(system).toMatch(/Alice owns the billing service rewrite\.|Billing invoices are sent/);
    expect(system).not.toContain("stranger");
    expect(system).not.toContain("release train");
    // Background stays out of the messages, which hold only the new question.
    const messages = anthropic.requests.at(-1)?.body.messages as { content: unknown }[];
    expect(JSON.stringify(messages)).not.toContain("owns the billing");
  });

  it("answers without recall when the long-term search is down", async () => {
    arcadedb.setAvailable(false);
    expect(await runJob(job("U-RECALL", "who owns billing?"))).toEqual({ batchItemFailures: [] });
    expect(lastSystemPrompt()).toBe(SYSTEM_PROMPT);
    expect(anthropic.requests).toHaveLength(1);
  });

  it("requests archival once the stored turns take the conversation past the high-water mark", async () => {
    const conversations = new ConversationStore({
      client: aws.documents,
      tableName: config.memoryTableName,
    });
    const ledger = new ArchiveLedger({ client: aws.documents, tableName: config.memoryTableName });
    const under = job("U-FULL", "a question at the mark");
    await appendMessages(conversations, under.conversation, 28, { startMs: Date.UTC(2026, 0, 1) });
    await runJob(under);
    expect(await conversations.messageCount(under.conversation)).toBe(30);
    expect((await ledger.archiveState(under.conversation))?.archiveRequestedAt).toBe(undefined);
    const theJob = { ...job("U-FULL", "one more question"), jobId: "slack:C-RECALL:over" };
    await runJob(theJob);
    expect(await conversations.messageCount(theJob.conversation)).toBe(32);
    const state = await ledger.archiveState(theJob.conversation);
    expect(state?.archiveRequestedAt).toBeTypeOf("number");
    // The job is on the queue: a further request is coalesced into it.
    expect(await buildArchiveRequester(config, aws)?.(theJob.conversation)).toBe(false);
  });
});
