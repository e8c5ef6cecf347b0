import { pathToFileURL } from "node:url";
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { createAwsClients } from "../core/compose/aws";
import { loadCommandConfig } from "../local/command-config";
import { LOCAL_CREDENTIALS } from "../local/services";

/** The queue has no redrive policy, so there is no DLQ to read from. */
export class NoDeadLetterQueueError extends Error {
  override readonly name = "NoDeadLetterQueueError";
}

/**
 * The URL of `queueUrl`'s DLQ, read from its `RedrivePolicy` attribute
 * (`deadLetterTargetArn`, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html)
 * and resolved with GetQueueUrl.
 * @throws {NoDeadLetterQueueError} when the queue has no redrive policy; the SDK's error.
 */
export async function deadLetterQueueUrl(sqs: SQSClient, queueUrl: string): Promise<string> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["RedrivePolicy"] }),
  );
  const policy = out.Attributes?.RedrivePolicy;
  const arn = policy ? (JSON.parse(policy) as { deadLetterTargetArn?: unknown }) : undefined;
  // arn:aws:sqs:{region}:{account}:{name}
  const parts =
    typeof arn?.deadLetterTargetArn === "string" ? arn.deadLetterTargetArn.split(":") : [];
  const [account, name] = [parts[4], parts[5]];
  if (!account || !name) throw new NoDeadLetterQueueError(`${queueUrl} has no redrive policy`);
  const url = await sqs.send(
    new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }),
  );
  if (!url.QueueUrl) throw new NoDeadLetterQueueError(`GetQueueUrl returned no URL for ${name}`);
  return url.QueueUrl;
}

/** Progress of {@link redriveDlq}, reported after every batch. */
export interface RedriveProgress {
  /** Messages moved so far. */
  moved: number;
  /** Messages whose send failed so far (left in the DLQ). */
  failed: number;
}

/**
 * Moves every message of `dlqUrl` back to `queueUrl`: receive up to 10 (1 s long poll), send
 * them with SendMessageBatch (body and message attributes kept), then delete from the DLQ only
 * the ones that were sent. A message whose send failed stays in the DLQ (it becomes visible again
 * after `visibilityTimeoutSeconds`, past the end of this run). It stops when a receive comes back
 * empty or after `limit` messages. At least once: a crash between send and delete leaves a copy
 * in both queues, which the archiver's idempotency absorbs.
 *
 * The SQS API's own StartMessageMoveTask would do this server-side on AWS, but the fauxqs
 * emulator answers it with `InvalidAction`, so this one code path serves both.
 *
 * @throws the SDK's error when SQS fails (messages already moved stay moved).
 */
export async function redriveDlq(options: {
  sqs: SQSClient;
  dlqUrl: string;
  queueUrl: string;
  onProgress?: (progress: RedriveProgress) => void;
  /** Most messages to move in one run (default 100 000). */
  limit?: number;
  /** How long received DLQ messages stay hidden while being moved, seconds (default 60). */
  visibilityTimeoutSeconds?: number;
}): Promise<RedriveProgress> {
  const { sqs, dlqUrl, queueUrl } = options;
  const limit = options.limit ?? 100_000;
  const progress: RedriveProgress = { moved: 0, failed: 0 };
  while (progress.moved + progress.failed < limit) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: Math.min(10, limit - progress.moved - progress.failed),
        WaitTimeSeconds: 1,
        VisibilityTimeout: options.visibilityTimeoutSeconds ?? 60,
        MessageAttributeNames: ["All"],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) break;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({
          Id: String(i),
          MessageBody: m.Body ?? "",
          ...(m.MessageAttributes && Object.keys(m.MessageAttributes).length > 0
            ? { MessageAttributes: m.MessageAttributes }
            : {}),
        })),
      }),
    );
    const ok = new Set((sent.Successful ?? []).map((entry) => entry.Id));
    const moved = messages.filter((_, i) => ok.has(String(i)));
    if (moved.length > 0) await deleteAll(sqs, dlqUrl, moved);
    progress.moved += moved.length;
    progress.failed += messages.length - moved.length;
    options.onProgress?.({ ...progress });
  }
  return progress;
}

async function deleteAll(sqs: SQSClient, queueUrl: string, messages: Message[]): Promise<void> {
  const out = await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
    }),
  );
  if (out.Failed && out.Failed.length > 0) {
    throw new Error(
      `moved ${messages.length} messages but could not delete ${out.Failed.length} from the ` +
        `DLQ (${out.Failed.map((f) => f.Message ?? f.Code).join("; ")}); they will be redriven again`,
    );
  }
}

/**
 * `npm run memory:redrive`: moves the archive DLQ's messages back to the archive queue
 * (`ARCHIVE_QUEUE_URL`; its DLQ comes from the queue's redrive policy) and prints progress and
 * totals. With `AWS_ENDPOINT_URL_SQS` set (a local emulator) it signs with dummy credentials.
 * Exits 2 on bad configuration, 1 when any message could not be moved.
 */
async function main(): Promise<void> {
  const config = loadCommandConfig(["ARCHIVE_QUEUE_URL"]);
  const aws = createAwsClients(config, config.aws.sqsEndpoint ? LOCAL_CREDENTIALS : undefined);
  const queueUrl = config.archiveQueueUrl as string;
  const dlqUrl = await deadLetterQueueUrl(aws.sqs, queueUrl);
  console.log(`redriving ${dlqUrl} -> ${queueUrl}`);
  const total = await redriveDlq({
    sqs: aws.sqs,
    dlqUrl,
    queueUrl,
    onProgress: (p) => console.log(`  moved ${p.moved}, failed ${p.failed}`),
  });
  console.log(`done: moved ${total.moved} message(s), ${total.failed} failed`);
  aws.sqs.destroy();
  aws.dynamodb.destroy();
  if (total.failed > 0) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((error) => {
    console.error("memory:redrive failed:", error);
    process.exit(1);
  });
}
