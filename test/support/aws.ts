import { randomUUID } from "node:crypto";
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { expect, inject } from "vitest";
import { type ChatJob, chatJobSchema } from "../../core/chat/job";
import { type AwsClients, createAwsClients } from "../../core/compose/aws";
import { type Config, loadConfig } from "../../core/config";
import { ensureTable } from "../../core/memory/table/table";
import { ensureQueueWithDlq, LOCAL_CREDENTIALS } from "../../local/services";

/**
 * A config pointing at the run's DynamoDB Local and fauxqs, with a fresh table name so test
 * files do not see each other's items, and no model footer (`REPLY_MODEL_FOOTER=false`). `env`
 * adds or overrides variables.
 */
export function testConfig(env: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    env: {
      AWS_ENDPOINT_URL_DYNAMODB: inject("dynamodbEndpoint"),
      AWS_ENDPOINT_URL_SQS: inject("sqsEndpoint"),
      MEMORY_TABLE_NAME: `test-${randomUUID()}`,
      LOG_LEVEL: "SILENT",
      // Suites assert answers word for word; the footer has tests of its own
      // (test/e2e/reply-streaming.test.ts), which turn it back on.
      REPLY_MODEL_FOOTER: "false",
      ...env,
    },
  });
}

/** Clients for `config`, with the table created (and a chat queue + DLQ when `queue` is set). */
export async function testAws(
  config: Config,
  options: { queue?: string } = {},
): Promise<{ aws: AwsClients; config: Config; dlqUrl?: string }> {
  const aws = createAwsClients(config, LOCAL_CREDENTIALS);
  await ensureTable(aws.dynamodb, config.memoryTableName);
  if (!options.queue) return { aws, config };
  const { queueUrl, dlqUrl } = await ensureQueueWithDlq(aws.sqs, options.queue);
  return { aws, config: { ...config, chatQueueUrl: queueUrl }, dlqUrl };
}

/** Receives up to 10 waiting messages of `queueUrl` without waiting, bodies parsed as JSON. */
export async function receiveJson(sqs: SQSClient, queueUrl: string): Promise<unknown[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  return (out.Messages ?? []).map((m) => JSON.parse(m.Body ?? "null"));
}

/**
 * The one chat job waiting in `queueUrl`, parsed; fails the test when there is not exactly one
 * or it does not parse as a chat job.
 */
export async function receiveOneJob(sqs: SQSClient, queueUrl: string): Promise<ChatJob> {
  const bodies = await receiveJson(sqs, queueUrl);
  expect(bodies).toHaveLength(1);
  return chatJobSchema.parse(bodies[0]);
}

/**
 * Messages in `queueUrl`: waiting ones, plus in-flight ones (received, not yet deleted) when
 * `inFlight` is set.
 */
export async function queueDepth(
  sqs: SQSClient,
  queueUrl: string,
  options: { inFlight?: boolean } = {},
): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  const waiting = Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
  const inFlight = Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  return options.inFlight ? waiting + inFlight : waiting;
}
