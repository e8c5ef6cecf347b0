import { randomUUID } from "node:crypto";
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { AwsClients } from "../../core/compose/aws";
import type { ConversationStore } from "../../core/memory/conversations";
import type { SummaryRecord } from "../../core/memory/long-term/types";
import {
  CHUNK_SUMMARY_TAG,
  RUNNING_SUMMARY_TAG,
  SUMMARY_SYSTEM_PROMPT,
} from "../../core/memory/summary-prompt";
import type { ConversationRef } from "../../core/memory/table/keys";
import { localLambdaContext, toSqsRecord } from "../../local/poller";
import { ensureQueueWithDlq } from "../../local/services";
import { defaultAnthropicReply } from "../fakes/anthropic";
import type { RecordedRequest } from "../fakes/http-fake";
import { lastUserText, textOf } from "../fakes/http-fake";

/** Whether a fake-LLM request is the archiver's summarisation call. */
export function isSummaryRequest(request: RecordedRequest): boolean {
  return textOf(request.body.system).includes(SUMMARY_SYSTEM_PROMPT.slice(0, 40));
}

/**
 * Fake-LLM reply: for a summarisation request, a chunk summary `Summary: ` followed by the
 * excerpt's message texts (timestamps and role labels dropped), so a summary contains the
 * keywords of what it replaced, and a running summary that appends those texts to the previous
 * one, in the two tags the archiver asks for; any other request gets the fake's default echo.
 */
export function summariserReply(request: RecordedRequest): string | Promise<string> {
  if (!isSummaryRequest(request)) return defaultAnthropicReply(request);
  const prompt = lastUserText(request.body.messages);
  const texts = [...prompt.matchAll(/^\[[^\]]+\] (?:User|Assistant): (.*)$/gm)].map((m) => m[1]);
  const previous = /^Running summary so far:\n(.*)$/m.exec(prompt)?.[1] ?? "(none yet)";
  const running = previous === "(none yet)" ? "Earlier" : previous;
  return (
    `<${CHUNK_SUMMARY_TAG}>Summary: ${texts.join("; ")}</${CHUNK_SUMMARY_TAG}>\n` +
    `<${RUNNING_SUMMARY_TAG}>${running}; ${texts.join("; ")}</${RUNNING_SUMMARY_TAG}>`
  );
}

/** An archive queue + DLQ with a short visibility timeout, so retries happen within a test. */
export async function testArchiveQueue(
  aws: AwsClients,
  options: { visibilityTimeoutSeconds?: number } = {},
): Promise<{ queueUrl: string; dlqUrl: string }> {
  return ensureQueueWithDlq(aws.sqs, `archive-${randomUUID()}`, {
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 1,
    maxReceiveCount: 3,
  });
}

/**
 * Appends `count` messages one per turn (alternating user and assistant, sent a second apart);
 * returns the ids the store gave them, oldest first.
 */
export async function appendMessages(
  store: ConversationStore,
  conversation: ConversationRef,
  count: number,
  options: { startMs: number; text?: (i: number) => string; seed?: string },
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const sentAt = options.startMs + i * 1_000;
    const result = await store.appendTurn(conversation, {
      jobId: `${options.seed ?? "m"}#${i}`,
      messages: [
        {
          role: i % 2 === 0 ? "user" : "assistant",
          content: options.text?.(i) ?? `message number ${i}`,
          sentAt,
        },
      ],
      nowMs: sentAt,
    });
    if (!result.stored) throw new Error(`message ${i} of ${options.seed ?? "m"} was a duplicate`);
    ids.push(...result.messageIds);
  }
  return ids;
}

/**
 * Feeds the queue to `handler` like the local poller, until a receive finds nothing: batches
 * of 5, successes deleted, failures left to reappear after the visibility timeout.
 * @returns how many records the handler processed and how many it failed.
 */
export async function drainQueue(options: {
  aws: AwsClients;
  queueUrl: string;
  handler: (
    event: SQSEvent,
    context: ReturnType<typeof localLambdaContext>,
  ) => Promise<SQSBatchResponse>;
  waitTimeSeconds?: number;
}): Promise<{ processed: number; failed: number }> {
  const { aws, queueUrl } = options;
  const totals = { processed: 0, failed: 0 };
  for (;;) {
    const out = await aws.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 5,
        WaitTimeSeconds: options.waitTimeSeconds ?? 0,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return totals;
    const event: SQSEvent = {
      Records: messages.map((m) => toSqsRecord(m, "arn:aws:sqs:us-east-1:000000000000:archive")),
    };
    const response = await options.handler(event, localLambdaContext("archiver", 120_000));
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    const done = messages.filter((m) => !failed.has(m.MessageId ?? ""));
    totals.processed += messages.length;
    totals.failed += failed.size;
    if (done.length > 0) {
      await aws.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
  }
}

/**
 * Which of `allIds` (oldest first) each summary covers: the ids inside its inclusive
 * `[fromMessageId, toMessageId]` range (ids are zero-padded sequence numbers).
 */
export function coveredIds(allIds: readonly string[], summary: SummaryRecord): string[] {
  return allIds.filter((id) => id >= summary.fromMessageId && id <= summary.toMessageId);
}
