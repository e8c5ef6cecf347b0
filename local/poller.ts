import { randomUUID } from "node:crypto";
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { Logger } from "../core/logger";

/** A Lambda SQS handler with partial batch responses, as the functions export it. */
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * A Lambda `Context` for running handlers outside Lambda: `getRemainingTimeInMillis` counts
 * down from `timeoutMs` (Powertools idempotency uses it to expire in-progress records).
 */
export function localLambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: "1024",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** What a poller's `stop()` waited for and what it left on the queue. */
export interface DrainedJobs {
  /** Jobs that were running when it stopped and were let finish (answered or failed). */
  finished: number;
  /** Jobs received but not started; their messages become visible again on the queue. */
  leftQueued: number;
}

/** Options of {@link startQueuePoller}. */
export interface QueuePollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  handler: SqsHandler;
  logger: Logger;
  functionName: string;
  /** Messages per batch, 1–10 (SQS ReceiveMessage limit). */
  batchSize?: number;
  /** Long-poll wait, seconds (max 20). */
  waitTimeSeconds?: number;
  /** Handler time budget per batch, ms, like a Lambda timeout. */
  timeoutMs?: number;
}

/**
 * Feeds an SQS queue to a Lambda-style handler the way Lambda's event source mapping does:
 * long-poll, hand over a batch as an `SQSEvent`, delete the records not listed in
 * `batchItemFailures`, leave the failures to become visible again (and reach the DLQ through
 * the queue's redrive policy). A handler that throws fails the whole batch.
 *
 * @returns `stop()`, which aborts the pending poll, waits for the batch in hand and resolves
 *   with its size (`finished`; nothing is left received but unstarted).
 */
export function startQueuePoller(options: QueuePollerOptions): { stop(): Promise<DrainedJobs> } {
  const { sqs, queueUrl, handler, logger } = options;
  const abort = new AbortController();
  let queueArn: string | undefined;
  /** Messages of the batch being handled now. */
  let inHand = 0;

  const loop = async () => {
    while (!abort.signal.aborted) {
      try {
        queueArn ??= await readQueueArn(sqs, queueUrl);
        const received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: options.batchSize ?? 10,
            WaitTimeSeconds: options.waitTimeSeconds ?? 20,
            MessageSystemAttributeNames: ["All"],
            MessageAttributeNames: ["All"],
          }),
          { abortSignal: abort.signal },
        );
        const messages = received.Messages ?? [];
        if (messages.length === 0) continue;
        const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, queueArn ?? "")) };
        const context = localLambdaContext(options.functionName, options.timeoutMs ?? 60_000);
        let failed = new Set<string>();
        inHand = messages.length;
        try {
          const response = await handler(event, context);
          failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
        } catch (error) {
          logger.error("handler failed the whole batch", { queueUrl, error });
          failed = new Set(messages.map((m) => m.MessageId ?? ""));
        } finally {
          inHand = 0;
        }
        const done = messages.filter((m) => !failed.has(m.MessageId ?? ""));
        if (done.length > 0) {
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
            }),
          );
        }
      } catch (error) {
        if (abort.signal.aborted) break;
        logger.error("queue poll failed; retrying in 1 s", { queueUrl, error });
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  };
  const running = loop();
  return {
    async stop() {
      abort.abort();
      const finished = inHand;
      await running;
      return { finished, leftQueued: 0 };
    },
  };
}

/** The queue's ARN (`QueueArn` attribute), for the records' `eventSourceARN`. */
export async function readQueueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
  );
  return out.Attributes?.QueueArn ?? "";
}

/**
 * One received SQS message as the record Lambda's SQS event source delivers
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html, event shape); missing system
 * attributes default to a first receive now. `awsRegion` comes from the queue ARN.
 */
export function toSqsRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? "local",
      ApproximateFirstReceiveTimestamp:
        attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        { stringValue: value.StringValue, dataType: value.DataType ?? "String" },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(":")[3] ?? "us-east-1",
  };
}
