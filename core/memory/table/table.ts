import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/**
 * What every DynamoDB-backed store is built from: `new XStore({ client, tableName })`. One
 * single table holds every item (key layout in `keys.ts`).
 */
export interface TableOptions {
  /** Document client (marshals plain JavaScript values). */
  client: DynamoDBDocumentClient;
  /** The single table's name (`MEMORY_TABLE_NAME`). */
  tableName: string;
}

import { TTL_ATTRIBUTE } from "../../constants/storage";

/** Name of the TTL attribute, declared in `core/constants/storage.ts` (`infra/` deploys it). */
export { TTL_ATTRIBUTE };

/**
 * The table definition shared by the local stack and tests (the deployed table is declared in
 * `infra/`): string `pk`/`sk`, on-demand billing.
 */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: "pk", AttributeType: "S" },
      { AttributeName: "sk", AttributeType: "S" },
    ],
    KeySchema: [
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ],
    BillingMode: "PAY_PER_REQUEST",
  };
}

/**
 * Creates the table with TTL on {@link TTL_ATTRIBUTE} unless it exists. Idempotent and safe
 * to race: a concurrent creator's `ResourceInUseException` counts as success.
 *
 * @param maxWaitSeconds - how long to wait for ACTIVE (DynamoDB Local is immediate).
 * @throws the SDK's error for anything but "already exists".
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  maxWaitSeconds = 60,
): Promise<{ created: boolean }> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return { created: false };
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  let created = true;
  try {
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    created = false;
  }
  await waitUntilTableExists({ client, maxWaitTime: maxWaitSeconds }, { TableName: tableName });
  if (created) {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  }
  return { created };
}
