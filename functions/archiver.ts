import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { type ArchiverHandlerDeps, buildArchiverDeps } from "../core/compose/archiver";
import { createAwsClients } from "../core/compose/aws";
import { loadConfig } from "../core/config";
import { archiveJobSchema } from "../core/memory/archival";
import { createSqsJobHandler } from "../core/queue/record-handler";

/** A queue message that is not a valid archive job; it fails until it reaches the DLQ. */
export class InvalidArchiveJobError extends Error {
  override readonly name = "InvalidArchiveJobError";
}

/**
 * Builds the SQS handler of the archive queue: each record is validated and archived; failed
 * records (LLM or search backend down, invalid body) are logged and reported in
 * `batchItemFailures` so only they are redelivered, and after `maxReceiveCount` receives they
 * land in the archive DLQ with their messages still in DynamoDB (see `createSqsJobHandler`).
 */
export function createArchiverHandler(
  deps: ArchiverHandlerDeps,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return createSqsJobHandler({
    name: "archive job",
    schema: archiveJobSchema,
    invalidJobError: InvalidArchiveJobError,
    run: async (job, { record, context }) => {
      const outcome = await deps.archive(job, {
        remainingMs: () => context.getRemainingTimeInMillis(),
      });
      deps.logger.info("archive job done", { messageId: record.messageId, ...outcome });
    },
    logger: deps.logger,
  });
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
