import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildArchiveRequester, buildArchiverDeps } from "../../core/compose/archiver";
import type { AwsClients } from "../../core/compose/aws";
import { buildLongTermMemory } from "../../core/compose/memory";
import type { Config } from "../../core/config";
import { createLogger } from "../../core/logger";
import type { ArchiveJob } from "../../core/memory/archival";
import { ArchiveLedger } from "../../core/memory/archive-ledger";
import { ConversationStore } from "../../core/memory/conversations";
import { SummaryStore } from "../../core/memory/long-term/summaries";
import type { ConversationRef } from "../../core/memory/table/keys";
import { SqsArchiveQueue } from "../../core/queue/archive-queue";
import { createArchiverHandler } from "../../functions/archiver";
import { localLambdaContext, startQueuePoller } from "../../local/poller";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import {
  appendMessages,
  coveredIds,
  drainQueue,
  isSummaryRequest,
  summariserReply,
  testArchiveQueue,
} from "../support/archive";
import { testAws, testConfig } from "../support/aws";
import { sqsEvent } from "../support/sqs";

let anthropic: FakeAnthropic;
let aws: AwsClients;
let config: Config;
let queueUrl: string;
let conversations: ConversationStore;
let ledger: ArchiveLedger;
let summaries: SummaryStore;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: "sk-ant-archiver", reply: summariserReply });
  const setup = await testAws(
    testConfig({ ANTHROPIC_API_KEY: "sk-ant-archiver", ANTHROPIC_BASE_URL: anthropic.url }),
  );
  aws = setup.aws;
  ({ queueUrl } = await testArchiveQueue(aws));
  config = { ...setup.config, archiveQueueUrl: queueUrl };
  conversations = new ConversationStore({
    client: aws.documents,
    tableName: config.memoryTableName,
  });
  ledger = new ArchiveLedger({ client: aws.documents, tableName: config.memoryTableName });
  summaries = new SummaryStore({ client: aws.documents, tableName: config.memoryTableName });
});

afterAll(async () => {
  await anthropic?.close();
});

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const slack = (userId: string, channelId = "C-ARCH"): ConversationRef => ({
  platform: "slack",
  channelId,
  userId,
});

async function liveIds(ref: ConversationRef): Promise<string[]> {
  return (await conversations.recent(ref, 1_000)).map((m) => m.messageId);
}

async function queueIsEmpty(): Promise<boolean> {
  const out = await aws.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return (
    out.Attributes?.ApproximateNumberOfMessages === "0" &&
    out.Attributes?.ApproximateNumberOfMessagesNotVisible === "0"
  );
}

describe("archiver (DynamoDB Local, fauxqs, fake Anthropic, embedded search)", () => {
  it("archives past the high-water mark down to 20: one summary of the overflow, findable only by its owner", async () => {
    const ref = slack("U-TWENTYONE");
    const ids = await appendMessages(conversations, ref, 30, {
      startMs: T0,
      text: (i) => (i === 0 ? "my favourite colour is ultramarine" : `small talk ${i}`),
    });
    const request = buildArchiveRequester(config, aws);
    // At the high-water mark (30), not past it: nothing to do yet.
    expect(await request?.(ref)).toBe(false);
    ids.push(...(await appendMessages(conversations, ref, 1, { startMs: T0, seed: "31st" })));
    anthropic.reset();
    expect(await request?.(ref)).toBe(true);
    // Coalesced: one pending job per conversation.
    expect(await request?.(ref)).toBe(false);

    const handler = createArchiverHandler(buildArchiverDeps(config, aws));
    expect(await drainQueue({ aws, queueUrl, handler })).toEqual({ processed: 1, failed: 0 });

    expect(await liveIds(ref)).toEqual(ids.slice(11));
    expect(await conversations.messageCount(ref)).toBe(20);
    const stored = await summaries.listForUser("slack", "U-TWENTYONE");
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      fromMessageId: ids[0],
      toMessageId: ids[10],
      messageCount: 11,
      channelId: "C-ARCH",
    });
    expect(stored[0]?.text).toContain("ultramarine");
    // One summary call wrote both the chunk summary and the running summary.
    expect(anthropic.requests.filter(isSummaryRequest)).toHaveLength(1);

    const { index } = buildLongTermMemory(config, aws);
    const query = { platform: "slack" as const, text: "what is my favourite colour?", limit: 3 };
    const hits = await index.search({ ...query, userId: "U-TWENTYONE" });
    expect(hits.map((h) => h.summary.id)).toEqual([stored[0]?.id]);
    expect(await index.search({ ...query, userId: "U-SOMEONE-ELSE" })).toEqual([]);

    // The bookkeeping is clean: no lease, plan or pending request is left behind, and the
    // running summary holds what was archived.
    const state = await ledger.archiveState(ref);
    expect(state).toEqual({
      messageCount: 20,
      archivedThrough: ids[10],
      runningSummary: {
        text: expect.stringContaining("ultramarine"),
        throughMessageId: ids[10],
        updatedAt: expect.any(Number),
        model: expect.any(String),
      },
    });
    // Nothing left to do: a second request is refused, the conversation is at 20.
    expect(await request?.(ref)).toBe(false);
  });

  it("loses and double-archives nothing with 45 messages in bursts and concurrent archive jobs", async () => {
    const ref = slack("U-BURSTS");
    const queue = new SqsArchiveQueue(aws.sqs, queueUrl);
    const request = buildArchiveRequester(config, aws);
    // Small chunks make several summaries and many lease hand-overs; latency widens races.
    anthropic.setReply(async (req) => {
      await new Promise((r) => setTimeout(r, 30));
      return summariserReply(req);
    });
    const pollers = [0, 1, 2].map((n) =>
      startQueuePoller({
        sqs: aws.sqs,
        queueUrl,
        handler: createArchiverHandler(buildArchiverDeps(config, aws, { tuning: { chunkMax: 4 } })),
        logger: createLogger("archiver-test", "SILENT"),
        functionName: `archiver-${n}`,
        batchSize: 5,
        waitTimeSeconds: 1,
      }),
    );
    try {
      const ids: string[] = [];
      for (let burst = 0; burst < 5; burst++) {
        ids.push(
          ...(await appendMessages(conversations, ref, 9, {
            startMs: T0 + burst * 60_000,
            seed: `burst${burst}`,
            text: (i) => `burst ${burst} line ${i}`,
          })),
        );
        await request?.(ref);
        // Duplicate jobs past the coalescing, as a redelivery or a redrive would produce.
        const job: ArchiveJob = { v: 1, conversation: ref, requestedAt: Date.now() };
        await Promise.all([queue.enqueue(job), queue.enqueue(job)]);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(ids).toHaveLength(45);

      const deadline = Date.now() + 40_000;
      for (;;) {
        const live = await liveIds(ref);
        if (live.length <= config.archiveHighWater && (await queueIsEmpty())) break;
        if (Date.now() > deadline) throw new Error(`still ${live.length} live messages`);
        await new Promise((r) => setTimeout(r, 200));
      }

      const live = await liveIds(ref);
      // Archived down to 20 once past 30; the last burst may have added up to 9 since.
      expect(live.length).toBeGreaterThanOrEqual(20);
      expect(live).toEqual(ids.slice(ids.length - live.length));
      expect(await conversations.messageCount(ref)).toBe(live.length);
      const stored = await summaries.listForUser("slack", "U-BURSTS");
      const covered = stored.flatMap((s) => coveredIds(ids, s));
      for (const s of stored) expect(coveredIds(ids, s)).toHaveLength(s.messageCount);
      // Disjoint, and together with the live messages exactly the 45 written.
      expect(new Set(covered).size).toBe(covered.length);
      expect([...covered, ...live].sort()).toEqual([...ids].sort());
      expect(stored.length).toBeGreaterThanOrEqual(Math.ceil(covered.length / 4));
    } finally {
      await Promise.all(pollers.map((p) => p.stop()));
      anthropic.setReply();
    }
  }, 60_000);

  it("fences an archiver that outlived its lease: the next one resumes its chunk under the same id", async () => {
    const ref = slack("U-STALLED");
    const ids = await appendMessages(conversations, ref, 35, { startMs: T0, seed: "stall" });
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let summaryCalls = 0;
    anthropic.reset();
    anthropic.setReply(async (req) => {
      if (isSummaryRequest(req) && summaryCalls++ === 0) await gate;
      return summariserReply(req);
    });
    try {
      const job: ArchiveJob = { v: 1, conversation: ref, requestedAt: T0 };
      const run = { remainingMs: () => 120_000 };
      const stalled = buildArchiverDeps(config, aws, { tuning: { leaseMs: 1_000 } });
      // A clock one minute ahead sees the stalled archiver's 1 s lease as expired.
      const later = buildArchiverDeps(config, aws, {
        now: () => Date.now() + 60_000,
        tuning: { leaseMs: 1_000 },
      });
      const first = stalled.archive(job, run);
      for (let i = 0; i < 200 && summaryCalls === 0; i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(summaryCalls).toBe(1);
      expect((await ledger.archiveState(ref))?.plan).toMatchObject({
        fromMessageId: ids[0],
        toMessageId: ids[14],
      });

      const second = await later.archive(job, run);
      expect(second).toMatchObject({ status: "done", chunks: 1, archivedMessages: 15 });
      release();
      const outcome = await first;
      expect(outcome).toMatchObject({ status: "superseded", chunks: 0, compensatedIds: [] });

      expect(await liveIds(ref)).toEqual(ids.slice(15));
      expect(await conversations.messageCount(ref)).toBe(20);
      const stored = await summaries.listForUser("slack", "U-STALLED");
      expect(stored.map((s) => [s.fromMessageId, s.toMessageId, s.messageCount])).toEqual([
        [ids[0], ids[14], 15],
      ]);
      expect(second.summaryIds).toEqual([stored[0]?.id]);
    } finally {
      release();
      anthropic.setReply();
    }
  });

  it("leaves a conversation at or under the high-water mark alone, whatever jobs arrive", async () => {
    const ref = slack("U-UNDER");
    const ids = await appendMessages(conversations, ref, 30, { startMs: T0, seed: "under" });
    anthropic.reset();
    const deps = buildArchiverDeps(config, aws);
    // A duplicate or redriven job: archiving now would summarise a handful of messages.
    const job: ArchiveJob = { v: 1, conversation: ref, requestedAt: T0 };
    const run = { remainingMs: () => 120_000 };
    expect(await deps.archive(job, run)).toMatchObject({ status: "done", chunks: 0 });
    expect(anthropic.requests.filter(isSummaryRequest)).toHaveLength(0);
    expect(await liveIds(ref)).toEqual(ids);
    // The lease is handed back, so the next job past the mark can start at once.
    expect((await ledger.archiveState(ref))?.lease).toBeUndefined();

    ids.push(...(await appendMessages(conversations, ref, 2, { startMs: T0, seed: "over" })));
    expect(await deps.archive(job, run)).toMatchObject({ status: "done", archivedMessages: 12 });
    expect(await liveIds(ref)).toEqual(ids.slice(12));
  });

  it("keeps the messages and throws when the summary model fails, then a retry completes", async () => {
    const ref = slack("U-LLMDOWN");
    const ids = await appendMessages(conversations, ref, 32, { startMs: T0, seed: "llm" });
    anthropic.reset();
    anthropic.failNext(400, { times: 1, message: "bad request" });
    const deps = buildArchiverDeps(config, aws);
    const job: ArchiveJob = { v: 1, conversation: ref, requestedAt: T0 };
    const run = { remainingMs: () => 120_000 };
    await expect(deps.archive(job, run)).rejects.toMatchObject({
      name: "ArchiveStepError",
      step: "summarise",
    });
    expect(await liveIds(ref)).toEqual(ids);
    expect(await summaries.listForUser("slack", "U-LLMDOWN")).toEqual([]);
    // The lease was handed back and the plan kept: the retry resumes at once.
    const state = await ledger.archiveState(ref);
    expect(state?.lease).toBeUndefined();
    expect(state?.plan).toMatchObject({ fromMessageId: ids[0], toMessageId: ids[11] });

    expect(await deps.archive(job, run)).toMatchObject({ status: "done", archivedMessages: 12 });
    expect(await liveIds(ref)).toEqual(ids.slice(12));
  });

  it("reports malformed archive jobs as batch item failures, so they end in the DLQ", async () => {
    const handler = createArchiverHandler(buildArchiverDeps(config, aws));
    const ok = JSON.stringify({ v: 1, conversation: slack("U-NOBODY"), requestedAt: 1 });
    const response = await handler(
      sqsEvent(["{", JSON.stringify({ v: 1, conversation: { platform: "slack" } }), ok], {
        queue: "archive",
        ids: ["not-json", "wrong-shape", "fine"],
      }),
      localLambdaContext("archiver", 120_000),
    );
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([
      "not-json",
      "wrong-shape",
    ]);
  });

  it("lets a second job for a busy conversation finish without touching it", async () => {
    const ref = slack("U-BUSY");
    await appendMessages(conversations, ref, 31, { startMs: T0, seed: "busy" });
    const token = "someone-else";
    expect(await ledger.acquireArchiveLease(ref, token, Date.now(), 60_000)).toBeDefined();
    const deps = buildArchiverDeps(config, aws);
    const outcome = await deps.archive(
      { v: 1, conversation: ref, requestedAt: T0 },
      { remainingMs: () => 120_000 },
    );
    expect(outcome).toMatchObject({ status: "busy", chunks: 0 });
    expect(await conversations.messageCount(ref)).toBe(31);
  });
});
