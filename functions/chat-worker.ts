import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { chatJobSchema } from "../core/chat/job";
import { createAwsClients } from "../core/compose/aws";
import { buildWorkerDeps, type WorkerDeps } from "../core/compose/worker";
import { loadConfig } from "../core/config";
import { createSqsJobHandler } from "../core/queue/record-handler";

/** A queue message that is not a valid chat job; it fails until it reaches the DLQ. */
export class InvalidChatJobError extends Error {
  override readonly name = "InvalidChatJobError";
}

/**
 * Builds the SQS handler around the given dependencies: each record is validated and run
 * through the agent turn behind the allowlists; failed records are logged and reported in `batchItemFailures` so only
 * they are redelivered (see `createSqsJobHandler`).
 */
export function createChatWorkerHandler(
  deps: WorkerDeps,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return createSqsJobHandler({
    name: "chat job",
    schema: chatJobSchema,
    invalidJobError: InvalidChatJobError,
    run: (job) => deps.runJob(job),
    logger: deps.logger,
    onInvocation: (context) => deps.idempotency.registerLambdaContext(context),
  });
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
