import { randomUUID } from "node:crypto";
import { inject } from "vitest";
import { type AwsClients, createAwsClients } from "../../core/compose/aws";
import { type Config, loadConfig } from "../../core/config";
import { ensureTable } from "../../core/memory/table";
import { ensureQueueWithDlq, LOCAL_CREDENTIALS } from "../../local/services";

/**
 * A config pointing at the run's DynamoDB Local and fauxqs, with a fresh table name so test
 * files do not see each other's items. `env` adds or overrides variables.
 */
export function testConfig(env: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    env: {
      AWS_ENDPOINT_URL_DYNAMODB: inject("dynamodbEndpoint"),
      AWS_ENDPOINT_URL_SQS: inject("sqsEndpoint"),
      MEMORY_TABLE_NAME: `test-${randomUUID()}`,
      LOG_LEVEL: "SILENT",
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
