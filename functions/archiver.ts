import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { type ArchiverHandlerDeps, buildArchiverDeps } from "../core/compose/archiver";
import { createAwsClients } from "../core/compose/aws";
import { loadConfig } from "../core/config";
import { archiveJobSchema } from "../core/memory/archival";

/** A queue message that is not a valid archive job; it fails until it reaches the DLQ. */
export class InvalidArchiveJobError extends Error {
  override readonly name = "InvalidArchiveJobError";
}

/**
 * Builds the SQS handler of the archive queue: each record is validated and archived; failed
 * records (LLM or search backend down, invalid body) are reported in `batchItemFailures` so only
 * they are redelivered, and after `maxReceiveCount` receives they land in the archive DLQ with
 * their messages still in DynamoDB (Powertools batch, partial batch responses).
 */
export function createArchiverHandler(
  deps: ArchiverHandlerDeps,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  return async (event, context) => {
    const processRecord = async (record: SQSRecord) => {
      let body: unknown;
      try {
        body = JSON.parse(record.body);
      } catch (cause) {
        throw new InvalidArchiveJobError(`message ${record.messageId} is not JSON`, { cause });
      }
      const job = archiveJobSchema.safeParse(body);
      if (!job.success) {
        deps.logger.error("invalid archive job", {
          messageId: record.messageId,
          issues: job.error.issues,
        });
        throw new InvalidArchiveJobError(`message ${record.messageId} is not an archive job`, {
          cause: job.error,
        });
      }
      try {
        const outcome = await deps.archive(job.data, {
          remainingMs: () => context.getRemainingTimeInMillis(),
        });
        deps.logger.info("archive job done", { messageId: record.messageId, ...outcome });
      } catch (error) {
        deps.logger.error("archive job failed; SQS will retry it", {
          messageId: record.messageId,
          receiveCount: record.attributes.ApproximateReceiveCount,
          error,
        });
        throw error;
      }
    };
    // Same shape on Lambda and in the local poller: every failed id listed, never a throw.
    return processPartialResponse(event, processRecord, processor, {
      context,
      throwOnFullBatchFailure: false,
    });
  };
}

let lambdaHandler: ReturnType<typeof createArchiverHandler> | undefined;

/** Lambda entry point for the archive queue; dependencies built once per container. */
export function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  if (!lambdaHandler) {
    const config = loadConfig({ required: ["ARCHIVE_QUEUE_URL"] });
    lambdaHandler = createArchiverHandler(buildArchiverDeps(config, createAwsClients(config)));
  }
  return lambdaHandler(event, context);
}
