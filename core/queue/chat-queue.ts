import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { ChatJob } from "../chat/job";
import { toQueueBody } from "./body";

/** Anything that accepts chat jobs; ingress depends on this, not on SQS. */
export interface ChatJobSink {
  /**
   * Enqueues one job; `options.delaySeconds` (0–900) keeps it invisible that long first (the
   * expiry of a pending approval).
   * @throws the transport's error when the job was not accepted.
   */
  enqueue(job: ChatJob, options?: { delaySeconds?: number }): Promise<void>;
}

/**
 * The chat queue on SQS (or the fauxqs emulator locally): one message per job, its body the
 * job's JSON as {@link toQueueBody} writes it (so any text, emoji included, is accepted).
 */
export class SqsChatQueue implements ChatJobSink {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /**
   * Sends the job as the message body.
   * @param options.delaySeconds - keep the message invisible this long first, 0–900 s (SQS
   *   `DelaySeconds`); the local stack's outbox uses it to wait out a stale in-progress record.
   * @throws the SDK's error on failure.
   */
  async enqueue(job: ChatJob, options: { delaySeconds?: number } = {}): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: toQueueBody(job),
        ...(options.delaySeconds ? { DelaySeconds: options.delaySeconds } : {}),
        MessageAttributes: { jobId: { DataType: "String", StringValue: job.jobId } },
      }),
    );
  }
}
