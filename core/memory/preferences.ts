import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import { type Platform, PREFERENCE_SK_PREFIX, userPk } from "./table/keys";
import type { TableOptions } from "./table/table";

/** Preference names the agent reads. `model` is a model id or alias. */
export type PreferenceKey = "model" | (string & {});

/** Per-user preferences (`USER#{platform}#{userId}` / `PREF#{key}`), string values. */
export class PreferenceStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: TableOptions) {
    this.db = options.client;
    this.tableName = options.tableName;
  }

  /**
   * All preferences of one user in one Query, as a key → value record (empty if none).
   * @throws the SDK's error when DynamoDB fails (as do `put` and `delete`).
   */
  async getAll(platform: Platform, userId: string): Promise<Record<string, string>> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :pref)",
        ExpressionAttributeValues: {
          ":pk": userPk(platform, userId),
          ":pref": PREFERENCE_SK_PREFIX,
        },
      }),
    );
    const prefs: Record<string, string> = {};
    for (const item of out.Items ?? []) {
      prefs[String(item.sk).slice(PREFERENCE_SK_PREFIX.length)] = String(item.value);
    }
    return prefs;
  }

  /** Sets one preference, replacing any previous value. */
  async put(platform: Platform, userId: string, key: PreferenceKey, value: string): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: userPk(platform, userId),
          sk: `${PREFERENCE_SK_PREFIX}${key}`,
          value,
          updatedAt: Date.now(),
        },
      }),
    );
  }

  /** Removes one preference; removing an absent one is not an error. */
  async delete(platform: Platform, userId: string, key: PreferenceKey): Promise<void> {
    await this.db.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: userPk(platform, userId), sk: `${PREFERENCE_SK_PREFIX}${key}` },
      }),
    );
  }
}
