import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Logger } from "../core/logger";
import {
  type DrainedJobs,
  localLambdaContext,
  readQueueArn,
  type SqsHandler,
  toSqsRecord,
} from "./poller";

/** Options of {@link startConversationPoller}. */
export interface ConversationPollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** Invoked with one record per call, like a Lambda with batch size 1. */
  handler: SqsHandler;
  logger: Logger;
  functionName: string;
  /** Most jobs running at once, ≥ 1 (`LOCAL_CHAT_CONCURRENCY`). */
  concurrency: number;
  /**
   * The key of a message's ordering lane: messages with one key run one after another, in the
   * order they were received (the chat worker's: the job's conversation).
   */
  orderKey: (message: Message) => string;
  /**
   * Time budget each job's context reports, ms, like a Lambda timeout. Powertools idempotency
   * dates an in-progress record's expiry from it.
   */
  timeoutMs: number;
  /** Long-poll wait, seconds (max 20). */
  waitTimeSeconds?: number;
}

/**
 * Feeds an SQS queue to a Lambda-style handler with up to `concurrency` jobs running at once,
 * each in its own invocation (one record, its own context), while keeping order within a lane:
 * a job starts only after the earlier jobs of its lane (same {@link ConversationPollerOptions.orderKey})
 * finished. SQS standard queues promise no order, so order is the order of receipt in this
 * process. A finished job's message is deleted; a failed one (listed in `batchItemFailures`, or
 * the handler threw) is left to become visible again and reach the DLQ through the redrive
 * policy, and its lane goes on.
 *
 * Messages are received only while fewer than `concurrency` jobs run, and at most
 * `2 × concurrency` are held (running or waiting behind their lane), so one busy conversation
 * cannot starve the others and no message waits long enough in memory to outlive its
 * visibility timeout in the usual case.
 *
 * @returns `stop()`, which stops receiving, lets running jobs finish and leaves waiting ones
 *   unstarted (they become visible again; the local stack's outbox also re-enqueues them), and
 *   resolves with how many of each there were.
 */
export function startConversationPoller(options: ConversationPollerOptions): {
  stop(): Promise<DrainedJobs>;
} {
  const { sqs, queueUrl, handler, logger, concurrency } = options;
  const holdLimit = 2 * concurrency;
  const abort = new AbortController();
  const lanes = new Map<string, Message[]>();
  const laneRuns = new Set<Promise<void>>();
  const slotWaiters: (() => void)[] = [];
  let running = 0;
  let held = 0;
  /** Jobs inside the handler (or deleting their message) now. */
  let inFlight = 0;
  let queueArn: string | undefined;
  let changed = signal();
  const stopped = new Promise<void>((resolve) =>
    abort.signal.addEventListener("abort", () => resolve(), { once: true }),
  );

  const acquireSlot = async (): Promise<void> => {
    if (running < concurrency) {
      running++;
      return;
    }
    // The slot is handed over by releaseSlot, so `running` stays counted.
    await new Promise<void>((resolve) => slotWaiters.push(resolve));
  };
  const releaseSlot = () => {
    const next = slotWaiters.shift();
    if (next) next();
    else running--;
  };

  const runOne = async (message: Message) => {
    const record = toSqsRecord(message, queueArn ?? "");
    const context = localLambdaContext(options.functionName, options.timeoutMs);
    let failed = false;
    inFlight++;
    try {
      const response = await handler({ Records: [record] }, context);
      failed = response.batchItemFailures.length > 0;
    } catch (error) {
      logger.error("handler failed the job", { queueUrl, messageId: record.messageId, error });
      failed = true;
    }
    try {
      if (failed) return;
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
    } catch (error) {
      // The job is done; a redelivery is answered from the idempotency record.
      logger.error("could not delete a finished message", {
        queueUrl,
        messageId: record.messageId,
        error,
      });
    } finally {
      inFlight--;
    }
  };

  const runLane = async (key: string, lane: Message[]) => {
    while (lane.length > 0 && !abort.signal.aborted) {
      await acquireSlot();
      try {
        if (!abort.signal.aborted) await runOne(lane[0] as Message);
      } finally {
        releaseSlot();
      }
      lane.shift();
      held--;
      changed.notify();
    }
    held -= lane.length;
    lanes.delete(key);
    changed.notify();
  };

  const take = (message: Message) => {
    held++;
    const key = options.orderKey(message);
    const lane = lanes.get(key);
    if (lane) {
      lane.push(message);
      return;
    }
    const fresh = [message];
    lanes.set(key, fresh);
    const run = runLane(key, fresh);
    laneRuns.add(run);
    void run.finally(() => laneRuns.delete(run));
  };

  const loop = async () => {
    while (!abort.signal.aborted) {
      if (running >= concurrency || held >= holdLimit) {
        await Promise.race([changed.wait, stopped]);
        changed = signal();
        continue;
      }
      try {
        queueArn ??= await readQueueArn(sqs, queueUrl);
        const received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(10, holdLimit - held),
            WaitTimeSeconds: options.waitTimeSeconds ?? 20,
            MessageSystemAttributeNames: ["All"],
            MessageAttributeNames: ["All"],
          }),
          { abortSignal: abort.signal },
        );
        for (const message of received.Messages ?? []) take(message);
      } catch (error) {
        if (abort.signal.aborted) break;
        logger.error("queue poll failed; retrying in 1 s", { queueUrl, error });
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  };
  const polling = loop();
  return {
    async stop() {
      abort.abort();
      // Counted as the abort lands: no job starts after it, the ones inside the handler finish.
      const drained = { finished: inFlight, leftQueued: held - inFlight };
      await polling;
      await Promise.allSettled([...laneRuns]);
      return drained;
    },
  };
}

/** A one-shot notification: `wait` resolves once `notify` was called. */
function signal(): { wait: Promise<void>; notify: () => void } {
  let notify = () => {};
  const wait = new Promise<void>((resolve) => {
    notify = resolve;
  });
  return { wait, notify };
}
