import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Config } from "../config";
import type { TableOptions } from "../memory/table/table";

/** The AWS clients one container shares. */
export interface AwsClients {
  dynamodb: DynamoDBClient;
  /** Document client over {@link AwsClients.dynamodb}: plain JS values, undefined dropped. */
  documents: DynamoDBDocumentClient;
  sqs: SQSClient;
}

/**
 * Builds the DynamoDB and SQS clients once. Endpoints come from `AWS_ENDPOINT_URL_DYNAMODB` /
 * `AWS_ENDPOINT_URL_SQS` (DynamoDB Local and fauxqs locally, unset on Lambda).
 *
 * @param credentials - explicit credentials for local emulators, which accept any; on Lambda
 *   leave undefined so the SDK's default provider chain uses the execution role.
 */
export function createAwsClients(
  config: Config,
  credentials?: DynamoDBClientConfig["credentials"],
): AwsClients {
  const common = { region: config.aws.region, ...(credentials ? { credentials } : {}) };
  const dynamodb = new DynamoDBClient({
    ...common,
    ...(config.aws.dynamodbEndpoint ? { endpoint: config.aws.dynamodbEndpoint } : {}),
  });
  const documents = DynamoDBDocumentClient.from(dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const sqs = new SQSClient({
    ...common,
    ...(config.aws.sqsEndpoint ? { endpoint: config.aws.sqsEndpoint } : {}),
  });
  return { dynamodb, documents, sqs };
}

/** The single table every memory store lives in (`MEMORY_TABLE_NAME`), as the stores take it. */
export function memoryTable(
  config: Pick<Config, "memoryTableName">,
  aws: AwsClients,
): TableOptions {
  return { client: aws.documents, tableName: config.memoryTableName };
}
