import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type * as z from "zod";

/**
 * The class of the typed error thrown for a record that is not a valid job (not JSON, or not
 * the schema's shape), e.g. `InvalidChatJobError`; `cause` is the `SyntaxError` or `ZodError`.
 */
export type InvalidJobErrorClass = new (message: string, options: { cause: unknown }) => Error;

/** Options of {@link createSqsJobHandler}. */
export interface SqsJobHandlerOptions<Job> {
  /** What one job is called in logs and error messages, e.g. `"chat job"`. */
  name: string;
  /** Validates the parsed message body; its output is what {@link run} receives. */
  schema: z.ZodType<Job>;
  /** Thrown (and so reported as a batch item failure) for a record that is not a valid job. */
  invalidJobError: InvalidJobErrorClass;
  /**
   * Does the work of one valid job. Throwing fails only this record: SQS redelivers it, and
   * after the queue's `maxReceiveCount` receives moves it to the dead-letter queue.
   */
  run: (job: Job, invocation: { record: SQSRecord; context: Context }) => Promise<unknown>;
  logger: Logger;
  /** Called once per invocation before any record runs (e.g. to hand the context to idempotency). */
  onInvocation?: (context: Context) => void;
}

/**
 * Builds the Lambda handler of an SQS queue of JSON jobs: each record's body is parsed and
 * validated with `schema`, then `run`; records run through Powertools' `processPartialResponse`
 * so only the failed ones are reported in `batchItemFailures` and redelivered
 * (https://docs.powertools.aws.dev/lambda/typescript/latest/features/batch/). A batch whose
 * records all failed is reported like any other (every id listed) rather than thrown
 * (`throwOnFullBatchFailure: false`), so Lambda and the local poller see one shape; the effect
 * is the same retry.
 *
 * Every failed record is logged once, at error level, with its `messageId`, receive count and
 * body size in bytes, never the body itself: an invalid record with the issues' codes and paths
 * (the JSON parser's message quotes the body, so its cause is not logged); a failed run with
 * the error `run` threw.
 */
export function createSqsJobHandler<Job>(
  options: SqsJobHandlerOptions<Job>,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const { name, logger } = options;
  return async (event, context) => {
    // One processor per invocation: it keeps the batch's records and results in fields, and
    // the local stack runs invocations of one handler concurrently (Lambda never does).
    const processor = new BatchProcessor(EventType.SQS);
    options.onInvocation?.(context);
    const processRecord = async (record: SQSRecord) => {
      const facts = {
        messageId: record.messageId,
        receiveCount: record.attributes.ApproximateReceiveCount,
        bodyBytes: Buffer.byteLength(record.body, "utf8"),
      };
      const parsed = parseJob(record, options);
      if (!parsed.ok) {
        logger.error(`invalid ${name}`, {
          ...facts,
          error: { name: parsed.error.name, message: parsed.error.message },
          issues: parsed.issues,
        });
        throw parsed.error;
      }
      try {
        await options.run(parsed.job, { record, context });
      } catch (error) {
        logger.error(`${name} failed; SQS will retry it`, { ...facts, error });
        throw error;
      }
    };
    return processPartialResponse(event, processRecord, processor, {
      context,
      throwOnFullBatchFailure: false,
    });
  };
}

/** Where and why a body failed validation: the schema's issue codes and paths, no values. */
interface IssueSummary {
  code: string;
  path: string;
}

type ParsedJob<Job> = { ok: true; job: Job } | { ok: false; error: Error; issues: IssueSummary[] };

function parseJob<Job>(
  record: SQSRecord,
  options: Pick<SqsJobHandlerOptions<Job>, "name" | "schema" | "invalidJobError">,
): ParsedJob<Job> {
  const id = record.messageId;
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch (cause) {
    return {
      ok: false,
      error: new options.invalidJobError(`message ${id} is not JSON`, { cause }),
      issues: [{ code: "invalid_json", path: "" }],
    };
  }
  const job = options.schema.safeParse(body);
  if (job.success) return { ok: true, job: job.data };
  return {
    ok: false,
    error: new options.invalidJobError(`message ${id} is not a valid ${options.name}`, {
      cause: job.error,
    }),
    issues: job.error.issues.map((issue) => ({
      code: issue.code,
      path: issue.path.map(String).join("."),
    })),
  };
}
