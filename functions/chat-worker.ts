import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { chatJobSchema } from "../core/chat/job";
import { createAwsClients } from "../core/compose/aws";
import { buildWorkerDeps, type WorkerDeps } from "../core/compose/worker";
import { loadConfig } from "../core/config";

/** A queue message that is not a valid chat job; it fails until it reaches the DLQ. */
export class InvalidChatJobError extends Error {
  override readonly name = "InvalidChatJobError";
}

/**
 * Builds the SQS handler around the given dependencies: each record is validated and run
 * through the agent turn; failed records are reported in `batchItemFailures` so only they
 * are redelivered (Powertools batch, partial batch responses).
 */
export function createChatWorkerHandler(
  deps: WorkerDeps,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  const processRecord = async (record: SQSRecord) => {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch (cause) {
      throw new InvalidChatJobError(`message ${record.messageId} is not JSON`, { cause });
    }
    const job = chatJobSchema.safeParse(body);
    if (!job.success) {
      deps.logger.error("invalid chat job", {
        messageId: record.messageId,
        issues: job.error.issues,
      });
      throw new InvalidChatJobError(`message ${record.messageId} is not a chat job`, {
        cause: job.error,
      });
    }
    await deps.runTurn(job.data);
  };
  return async (event, context) => {
    deps.idempotency.registerLambdaContext(context);
    // A batch whose records all failed is reported like any other (every id listed) instead
    // of thrown, so Lambda and the local poller see one shape; the effect is the same retry.
    return processPartialResponse(event, processRecord, processor, {
      context,
      throwOnFullBatchFailure: false,
    });
  };
}

let lambdaHandler: ReturnType<typeof createChatWorkerHandler> | undefined;

/** Lambda entry point for the chat queue; dependencies built once per container. */
export function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  if (!lambdaHandler) {
    const config = loadConfig();
    lambdaHandler = createChatWorkerHandler(buildWorkerDeps(config, createAwsClients(config)));
  }
  return lambdaHandler(event, context);
}
