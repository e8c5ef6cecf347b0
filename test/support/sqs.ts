import type { SQSEvent } from "aws-lambda";
import { toSqsRecord } from "../../local/poller";

/**
 * A Lambda SQS event carrying `bodies` (objects are JSON-encoded, strings sent as they are),
 * built with the local poller's record mapping so tests feed handlers what the poller does.
 * Message ids are `ids[i]` when given, else `{queue}-{i}`.
 */
export function sqsEvent(
  bodies: readonly unknown[],
  options: { queue?: string; ids?: readonly string[] } = {},
): SQSEvent {
  const queue = options.queue ?? "chat";
  return {
    Records: bodies.map((body, i) =>
      toSqsRecord(
        {
          MessageId: options.ids?.[i] ?? `${queue}-${i}`,
          ReceiptHandle: `r-${i}`,
          Body: typeof body === "string" ? body : JSON.stringify(body),
        },
        `arn:aws:sqs:us-east-1:000000000000:${queue}`,
      ),
    ),
  };
}
