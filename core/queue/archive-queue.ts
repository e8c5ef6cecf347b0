import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { type ArchiveJob, archiveJobSchema } from "../memory/archival";
import type { ArchiveJobSink } from "../memory/archive-requester";
import { toQueueBody } from "./body";

/**
 * The archive queue on SQS (or fauxqs locally): one message per job, its body the job's JSON as
 * {@link toQueueBody} writes it. The archive requester (`core/memory/archive-requester.ts`)
 * sends its jobs through this.
 */
export class SqsArchiveQueue implements ArchiveJobSink {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /**
   * Validates and sends the job as the message body.
   * @throws {z.ZodError} for a malformed job; the SDK's error when SQS rejects it.
   */
  async enqueue(job: ArchiveJob): Promise<void> {
    const body = archiveJobSchema.parse(job);
    await this.sqs.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: toQueueBody(body) }),
    );
  }
}
