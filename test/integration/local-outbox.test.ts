import { randomUUID } from "node:crypto";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatJob } from "../../core/chat/job";
import { type AwsClients, createAwsClients } from "../../core/compose/aws";
import { buildWorkerDeps, type ReplyState } from "../../core/compose/worker";
import type { Config } from "../../core/config";
import { createLogger } from "../../core/logger";
import { chatOutboxKey } from "../../core/memory/table/keys";
import { TTL_ATTRIBUTE } from "../../core/memory/table/table";
import { SqsChatQueue } from "../../core/queue/chat-queue";
import { createChatWorkerHandler } from "../../functions/chat-worker";
import {
  ChatOutbox,
  OutboxChatSink,
  redeliverOutbox,
  removingFromOutbox,
} from "../../local/outbox";
import { localLambdaContext } from "../../local/poller";
import { ensureQueueWithDlq, LOCAL_CREDENTIALS } from "../../local/services";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import { receiveJson, testAws, testConfig } from "../support/aws";
import { sqsEvent } from "../support/sqs";
import { waitFor } from "../support/wait";

/**
 * The local stack's chat outbox on DynamoDB Local and fauxqs: what the ingress's sink writes,
 * what the worker removes, and how a start re-enqueues what is left (docs/reliability/local.md).
 */

let anthropic: FakeAnthropic;
let slack: FakeSlack;
let config: Config;
let aws: AwsClients;
let outbox: ChatOutbox;
const logger = createLogger("test", "SILENT");

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: "sk-ant-outbox" });
  slack = await startFakeSlack({ token: "xoxb-outbox" });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-outbox",
      ANTHROPIC_BASE_URL: anthropic.url,
      SLACK_BOT_TOKEN: "xoxb-outbox",
      SLACK_API_URL: slack.url,
    }),
  );
  config = setup.config;
  aws = createAwsClients(config, LOCAL_CREDENTIALS);
  outbox = new ChatOutbox({ client: aws.documents, tableName: config.memoryTableName });
});

afterAll(async () => {
  await Promise.all([anthropic?.close(), slack?.close()]);
});

function job(userId: string, n: number): ChatJob {
  const ts = `1700000000.${String(n).padStart(6, "0")}`;
  return {
    v: 2,
    jobId: `slack:T1:C1:${ts}:${randomUUID()}`,
    source: { kind: "slack-events", eventId: `Ev${n}` },
    conversation: { platform: "slack", channelId: "C1", userId },
    text: `question ${n}`,
    sentAt: 1_700_000_000_000 + n,
    reply: { platform: "slack", via: "direct", address: { channel: "C1", threadTs: ts } },
  };
}

async function freshQueue(): Promise<SqsChatQueue & { url: string }> {
  const { queueUrl } = await ensureQueueWithDlq(aws.sqs, `outbox-${randomUUID()}`);
  return Object.assign(new SqsChatQueue(aws.sqs, queueUrl), { url: queueUrl });
}

async function clearOutbox(): Promise<void> {
  for (const entry of await outbox.list()) await outbox.remove(entry.jobId);
}

describe("local chat outbox", () => {
  it("keeps a queued job until the worker has answered it", async () => {
    await clearOutbox();
    const queue = await freshQueue();
    const theJob = job("U-sink", 1);
    await new OutboxChatSink(outbox, queue, logger).enqueue(theJob);
    expect((await outbox.list()).map((e) => e.job)).toEqual([theJob]);

    const worker = buildWorkerDeps(config, aws);
    const handler = createChatWorkerHandler({
      ...worker,
      runJob: removingFromOutbox(outbox, worker.runJob),
    });
    const [body] = await receiveJson(aws.sqs, queue.url);
    const result = await handler(sqsEvent([body]), localLambdaContext("chat-worker", 30_000));
    expect(result.batchItemFailures).toEqual([]);
    expect(await outbox.list()).toEqual([]);
  });

  it("takes its item back when the queue refuses the job, so a restart does not answer it", async () => {
    await clearOutbox();
    const refusing = {
      enqueue: async () => {
        throw new Error("queue unavailable");
      },
    };
    await expect(
      new OutboxChatSink(outbox, refusing, logger).enqueue(job("U-refused", 2)),
    ).rejects.toThrow("queue unavailable");
    expect(await outbox.list()).toEqual([]);
  });

  it("reads a reply left in progress with its expiry, and a posted one as completed", async () => {
    const worker = buildWorkerDeps(config, aws);
    const handler = createChatWorkerHandler(worker);
    const theJob = job("U-state", 3);
    expect(await worker.replyState(theJob.jobId)).toEqual({ status: "none" });

    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    anthropic.setReply(async () => {
      await held;
      return "late answer";
    });
    const asked = anthropic.requests.length;
    const startedAt = Date.now();
    const running = handler(sqsEvent([theJob]), localLambdaContext("chat-worker", 90_000));
    try {
      await waitFor(() => (anthropic.requests.length > asked ? true : undefined));
      const state = await worker.replyState(theJob.jobId);
      expect(state.status).toBe("in_progress");
      const expiresAtMs = (state as { expiresAtMs?: number }).expiresAtMs ?? 0;
      // The context's remaining time when the record was written: 90 s after the start.
      expect(expiresAtMs).toBeGreaterThan(startedAt + 80_000);
      expect(expiresAtMs).toBeLessThanOrEqual(Date.now() + 90_000);
    } finally {
      release();
      anthropic.setReply();
    }
    expect((await running).batchItemFailures).toEqual([]);
    expect(await worker.replyState(theJob.jobId)).toEqual({ status: "completed" });
  });

  it("re-enqueues at start: in-progress jobs after their expiry, their conversation's later jobs no sooner, others at once", async () => {
    await clearOutbox();
    const queue = await freshQueue();
    const now = Date.now();
    const killedMidAnswer = job("U-alice", 10);
    const aliceNext = job("U-alice", 11);
    const bobWaiting = job("U-bob", 12);
    for (const j of [killedMidAnswer, aliceNext, bobWaiting]) {
      await outbox.put(j);
      await new Promise((r) => setTimeout(r, 5));
    }
    // An item past its TTL (DynamoDB Local never deletes expired items) is dropped.
    const stale = job("U-carol", 13);
    await aws.documents.send(
      new PutCommand({
        TableName: config.memoryTableName,
        Item: {
          ...chatOutboxKey(stale.jobId),
          job: JSON.stringify(stale),
          createdAt: now - 2 * 86_400_000,
          token: "t",
          [TTL_ATTRIBUTE]: Math.floor(now / 1000) - 60,
        },
      }),
    );
    const states = new Map<string, ReplyState>([
      [killedMidAnswer.jobId, { status: "in_progress", expiresAtMs: now + 3_000 }],
    ]);
    const report = await redeliverOutbox({
      outbox,
      queue,
      replyState: async (jobId) => states.get(jobId) ?? { status: "none" },
      logger,
      now: () => now,
    });
    expect(report).toEqual({ redelivered: 3, delayed: 2, dropped: 1 });

    const jobIds = (bodies: unknown[]) => bodies.map((b) => (b as ChatJob).jobId);
    // Only bob's job is visible at once; alice's two wait out the in-progress record.
    expect(jobIds(await receiveJson(aws.sqs, queue.url))).toEqual([bobWaiting.jobId]);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await receiveJson(aws.sqs, queue.url)).toEqual([]);
    const later: unknown[] = [];
    await waitFor(async () => {
      later.push(...(await receiveJson(aws.sqs, queue.url)));
      return later.length >= 2 ? true : undefined;
    }, 10_000);
    expect(jobIds(later).sort()).toEqual([killedMidAnswer.jobId, aliceNext.jobId].sort());
    // The items stay until the worker answers them.
    expect((await outbox.list()).map((e) => e.jobId)).toEqual([
      killedMidAnswer.jobId,
      aliceNext.jobId,
      bobWaiting.jobId,
    ]);
  }, 30_000);
});
