import { randomUUID } from "node:crypto";
import type { Logger } from "@aws-lambda-powertools/logger";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { type ChatJob, chatJobSchema } from "../core/chat/job";
import { REPLY_IDEMPOTENCY_TTL_SECONDS, type ReplyState } from "../core/compose/worker";
import { SQS_MAX_DELAY_SECONDS } from "../core/constants/timings";
import { CHAT_OUTBOX_PK, chatOutboxKey } from "../core/memory/table/keys";
import { type TableOptions, TTL_ATTRIBUTE } from "../core/memory/table/table";
import type { ChatJobSink, SqsChatQueue } from "../core/queue/chat-queue";

/**
 * The local stack's chat outbox (docs/reliability/local.md). The SQS emulator keeps its queues
 * in memory, so a job acked by the ingress and then lost with the process would never be
 * answered, while its dedupe mark, on disk in DynamoDB Local, would make the platform's retries
 * duplicates. So the local stack writes every chat job to DynamoDB before it enqueues it, the
 * chat worker removes it once the job is done (reply posted, turn stored), and the next start
 * re-enqueues whatever is left. The Lambda path does not use it: SQS is durable there.
 */

/**
 * How long an outbox item is worth re-enqueueing, seconds. No longer than the reply
 * idempotency records live: a job re-enqueued after its record expired would be answered again.
 */
export const CHAT_OUTBOX_TTL_SECONDS = REPLY_IDEMPOTENCY_TTL_SECONDS;

/** One outbox item as read back: the job, or why it is unusable. */
export interface OutboxEntry {
  jobId: string;
  /** When the ingress wrote it, epoch ms. */
  createdAt: number;
  /** The job, or `undefined` when the stored text no longer parses as a {@link ChatJob}. */
  job?: ChatJob;
  /** Its TTL passed (DynamoDB deletes expired items lazily, DynamoDB Local not at all). */
  expired: boolean;
}

/** The outbox items, `OUTBOX#chat` / `{jobId}` in the single table (docs/architecture.md, Storage). */
export class ChatOutbox {
  private readonly table: TableOptions;
  private readonly now: () => number;

  /** @param options.now - epoch-ms clock of `createdAt` and the TTL; default `Date.now`. */
  constructor(table: TableOptions, options: { now?: () => number } = {}) {
    this.table = table;
    this.now = options.now ?? Date.now;
  }

  /**
   * Writes (or overwrites) the job's item.
   * @returns a token naming this write, for {@link remove} to take back only its own item.
   * @throws the SDK's error when DynamoDB fails.
   */
  async put(job: ChatJob): Promise<string> {
    const token = randomUUID();
    const now = this.now();
    await this.table.client.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: {
          ...chatOutboxKey(job.jobId),
          job: JSON.stringify(job),
          createdAt: now,
          token,
          [TTL_ATTRIBUTE]: Math.floor(now / 1000) + CHAT_OUTBOX_TTL_SECONDS,
        },
      }),
    );
    return token;
  }

  /**
   * Deletes the job's item; with `token`, only if it is still the item that write made (another
   * path may have admitted the same job since, e.g. a Slack message relayed by a KĀDI broker).
   * @throws the SDK's error when DynamoDB fails.
   */
  async remove(jobId: string, token?: string): Promise<void> {
    try {
      await this.table.client.send(
        new DeleteCommand({
          TableName: this.table.tableName,
          Key: chatOutboxKey(jobId),
          ...(token
            ? {
                ConditionExpression: "#token = :token",
                ExpressionAttributeNames: { "#token": "token" },
                ExpressionAttributeValues: { ":token": token },
              }
            : {}),
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * Every item, oldest first (by `createdAt`).
   * @throws the SDK's error when DynamoDB fails.
   */
  async list(): Promise<OutboxEntry[]> {
    const entries: OutboxEntry[] = [];
    const nowSeconds = Math.floor(this.now() / 1000);
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.table.client.send(
        new QueryCommand({
          TableName: this.table.tableName,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": CHAT_OUTBOX_PK },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const parsed = parseJob(item.job);
        entries.push({
          jobId: String(item.sk),
          createdAt: Number(item.createdAt ?? 0),
          ...(parsed ? { job: parsed } : {}),
          expired: Number(item[TTL_ATTRIBUTE] ?? 0) < nowSeconds,
        });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return entries.sort((a, b) => a.createdAt - b.createdAt);
  }
}

function parseJob(text: unknown): ChatJob | undefined {
  if (typeof text !== "string") return undefined;
  try {
    const parsed = chatJobSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A {@link ChatJobSink} that writes each job to the outbox before handing it to `queue`. If the
 * queue refuses the job, the ingress answers an error and releases the dedupe mark, so the
 * platform's retry (or nobody: Discord never retries) owns the message; the item this write
 * made is taken back so a restart does not answer it behind the caller's back.
 */
export class OutboxChatSink implements ChatJobSink {
  constructor(
    private readonly outbox: ChatOutbox,
    private readonly queue: ChatJobSink,
    private readonly logger: Logger,
  ) {}

  /** @throws DynamoDB's error (nothing enqueued) or the queue's (outbox item taken back). */
  async enqueue(job: ChatJob, options?: { delaySeconds?: number }): Promise<void> {
    const token = await this.outbox.put(job);
    try {
      await this.queue.enqueue(job, options);
    } catch (error) {
      await this.outbox.remove(job.jobId, token).catch((removeError: unknown) =>
        this.logger.error("could not take back the outbox item of a job the queue refused", {
          jobId: job.jobId,
          error: removeError,
        }),
      );
      throw error;
    }
  }
}

/**
 * Wraps the chat worker's turn so a job that completed (reply posted, turn stored) leaves the
 * outbox. If the removal fails the job fails and SQS redelivers it: the redelivery posts nothing
 * (reply idempotency) and stores nothing twice (turn marker), and removes the item.
 */
export function removingFromOutbox<R>(
  outbox: ChatOutbox,
  runJob: (job: ChatJob) => Promise<R>,
): (job: ChatJob) => Promise<R> {
  return async (job) => {
    const reply = await runJob(job);
    await outbox.remove(job.jobId);
    return reply;
  };
}

/** What {@link redeliverOutbox} did. */
export interface RedeliveryReport {
  /** Jobs put back on the chat queue (including delayed ones). */
  redelivered: number;
  /** Of those, jobs delayed behind an in-progress reply record. */
  delayed: number;
  /** Items dropped: expired, or no longer a valid job. */
  dropped: number;
}

/**
 * Puts every unanswered outbox job back on the chat queue; the local stack runs it at start,
 * before it takes events or polls, when its emulator's queue is empty. Exactly-once answers:
 *
 * - a job whose reply was posted (`completed`) is enqueued at once; the turn returns the
 *   recorded reply without posting and stores the turn if the killed process had not;
 * - a job left `in_progress` by the killed process (killed while the model was answering) is
 *   enqueued with `DelaySeconds` until its in-progress record expires (the local chat context's
 *   timeout after it started, see `startConversationPoller`); before then any run would fail
 *   with `IdempotencyAlreadyInProgressError`, after it the run takes the record over and answers;
 * - a job never started is enqueued at once.
 *
 * A conversation's jobs keep their order: none is delayed less than an earlier one of its
 * conversation. Expired and unreadable items are deleted.
 *
 * @param deps.queue - the chat queue (a delayed send needs SQS's `DelaySeconds`).
 * @throws DynamoDB's or SQS's error; whatever was enqueued before stays enqueued, and the next
 *   start enqueues the rest (and those again, answered once by the same idempotency).
 */
export async function redeliverOutbox(deps: {
  outbox: ChatOutbox;
  queue: Pick<SqsChatQueue, "enqueue">;
  replyState: (jobId: string) => Promise<ReplyState>;
  logger: Logger;
  now?: () => number;
}): Promise<RedeliveryReport> {
  const now = deps.now ?? Date.now;
  const report: RedeliveryReport = { redelivered: 0, delayed: 0, dropped: 0 };
  const conversationDelay = new Map<string, number>();
  for (const entry of await deps.outbox.list()) {
    const { job } = entry;
    if (!job || entry.expired) {
      deps.logger.warn("dropping an outbox item", {
        jobId: entry.jobId,
        reason: job ? "expired" : "not a valid chat job",
      });
      await deps.outbox.remove(entry.jobId);
      report.dropped++;
      continue;
    }
    const state = await deps.replyState(job.jobId);
    let delaySeconds = 0;
    if (state.status === "in_progress") {
      // Powertools takes a record over only once `in_progress_expiry < now` (ms): one more
      // second covers rounding up to SQS's whole seconds.
      delaySeconds =
        state.expiresAtMs === undefined
          ? SQS_MAX_DELAY_SECONDS
          : Math.max(0, Math.ceil((state.expiresAtMs - now()) / 1000) + 1);
      if (state.expiresAtMs === undefined) {
        deps.logger.warn("outbox job in progress without an in-progress expiry", {
          jobId: job.jobId,
        });
      }
    }
    const conversation = conversationKey(job);
    delaySeconds = Math.min(
      SQS_MAX_DELAY_SECONDS,
      Math.max(delaySeconds, conversationDelay.get(conversation) ?? 0),
    );
    conversationDelay.set(conversation, delaySeconds);
    await deps.queue.enqueue(job, { delaySeconds });
    report.redelivered++;
    if (delaySeconds > 0) report.delayed++;
    deps.logger.info("outbox job re-enqueued", {
      jobId: job.jobId,
      replyState: state.status,
      delaySeconds,
    });
  }
  return report;
}

/** The ordering key of a chat job: its conversation (platform, channel, user). */
export function conversationKey(job: Pick<ChatJob, "conversation">): string {
  const { platform, channelId, userId } = job.conversation;
  return JSON.stringify([platform, channelId, userId]);
}
