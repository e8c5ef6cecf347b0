import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { ChatJob } from "../chat/job";
import { toQueueBody } from "./body";

/** Anything that accepts chat jobs; ingress depends on this, not on SQS. */
export interface ChatJobSink {
  /** Enqueues one job. @throws the transport's error when the job was not accepted. */
  enqueue(job: ChatJob): Promise<void>;
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

  /** Sends the job as the message body. @throws the SDK's error on failure. */
  async enqueue(job: ChatJob): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: toQueueBody(job),
        MessageAttributes: { jobId: { DataType: "String", StringValue: job.jobId } },
      }),
    );
  }
}
