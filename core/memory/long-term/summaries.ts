import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  ScanCommand,
} from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { PLATFORMS } from "../../constants/platforms";
import { BATCH_ROUNDS, batchDelete, resubmitUnprocessed } from "../table/dynamo";
import { type ConversationRef, type Platform, userPk } from "../table/keys";
import type { TableOptions } from "../table/table";
import { SummaryItemError } from "./errors";
import {
  appendChanges,
  MAX_IDS_PER_DELETE_ENTRY,
  readChanges,
  readHeadVersion,
  type SummaryChange,
} from "./summary-log";
import type { SummaryRecord } from "./types";

/** Sort-key prefix of durable summary items: `SUMMARY#{id}` under `USER#{platform}#{userId}`. */
export const SUMMARY_SK_PREFIX = "SUMMARY#";

/** `SUMMARY#{id}`. */
export function summarySk(id: string): string {
  return `${SUMMARY_SK_PREFIX}${id}`;
}

/**
 * The deterministic summary id for the archived run of `conversation` that ends at
 * `toMessageId`: `{platform}#{channelId}#{userId}#{toMessageId}`. A retried archive job computes
 * the same id and so upserts instead of duplicating; the owner can be read back from the id
 * with {@link parseSummaryId}, which lets a delete by id find the item's partition without a
 * Scan. Slack and Discord ids never contain `#`.
 */
export function summaryId(conversation: ConversationRef, toMessageId: string): string {
  return [conversation.platform, conversation.channelId, conversation.userId, toMessageId].join(
    "#",
  );
}

/**
 * Inverse of {@link summaryId}: the conversation and last message id, or `undefined` when `id`
 * is not in that form.
 */
export function parseSummaryId(
  id: string,
): (ConversationRef & { toMessageId: string }) | undefined {
  const parts = id.split("#");
  if (parts.length !== 4 || parts.some((p) => p === "")) return undefined;
  const [platform, channelId, userId, toMessageId] = parts as [string, string, string, string];
  if (!isPlatform(platform)) return undefined;
  return { platform, channelId, userId, toMessageId };
}

/** zod schema of {@link SummaryRecord}, applied to every item read back from DynamoDB. */
export const summaryRecordSchema = z.object({
  id: z.string().min(1),
  platform: z.enum(PLATFORMS),
  userId: z.string().min(1),
  channelId: z.string().min(1),
  text: z.string(),
  fromMessageId: z.string(),
  toMessageId: z.string(),
  messageCount: z.number().int().nonnegative(),
  model: z.string().optional(),
  createdAt: z.number(),
});

/** The durable item of `record` (the exact shape {@link SummaryStore.put} writes). */
export function summaryItem(record: SummaryRecord): Record<string, unknown> {
  return { pk: userPk(record.platform, record.userId), sk: summarySk(record.id), ...record };
}

/** Largest number of values DynamoDB accepts in one `IN` list of a filter expression. */
const MAX_IN_VALUES = 100;
/** Largest number of keys in one BatchGetItem call. */
const MAX_BATCH_GET = 100;

/** Thrown by {@link SummaryStore.getMany} when DynamoDB keeps returning unprocessed keys. */
export class SummaryReadError extends Error {
  override name = "SummaryReadError";
}

/**
 * Durable copies of archived-conversation summaries in the single table: one item per summary,
 * `pk = USER#{platform}#{userId}`, `sk = SUMMARY#{id}`, carrying every {@link SummaryRecord}
 * field. These copies are the source of truth; the search backends are projections of them
 * (`npm run memory:reindex` rebuilds ArcadeDB from {@link SummaryStore.scanAll}).
 *
 * Every method throws the AWS SDK's error when DynamoDB fails; reads throw
 * {@link SummaryItemError} for an item that is not a valid summary.
 */
export class SummaryStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: TableOptions) {
    this.db = options.client;
    this.tableName = options.tableName;
  }

  /**
   * Inserts or replaces the summary with `record.id` (idempotent: a retried archive job
   * overwrites its own earlier copy). The item is written once, in the same TransactWriteItems
   * as its `put` change-log entry and the head bump (see `appendChanges`), so the summary is
   * visible to other containers' caches exactly when its entry is.
   * @throws {z.ZodError} when `record` is not a valid {@link SummaryRecord};
   *   `SummaryLogConflictError` when concurrent writers keep winning; the AWS SDK's error.
   */
  async put(record: SummaryRecord): Promise<void> {
    const item = summaryItem(summaryRecordSchema.parse(record) as SummaryRecord);
    await appendChanges(
      this.db,
      this.tableName,
      String(item.pk),
      [{ op: "put", id: String(item.id) }],
      [{ Put: { TableName: this.tableName, Item: item } }],
    );
  }

  /**
   * The user's change-log head version (0 if nothing was ever logged): one strongly consistent
   * GetItem, 1 read unit.
   * @throws `SummaryItemError` for a malformed head item; the AWS SDK's error.
   */
  headVersion(platform: Platform, userId: string): Promise<number> {
    return readHeadVersion(this.db, this.tableName, userPk(platform, userId));
  }

  /**
   * The user's changes `from..to` (versions, inclusive) in order, or `undefined` when the log
   * no longer holds all of them (entries expire after 7 days): rebuild from
   * {@link listForUser} then.
   * @throws `SummaryItemError` for a malformed entry; the AWS SDK's error.
   */
  changes(
    platform: Platform,
    userId: string,
    from: number,
    to: number,
  ): Promise<SummaryChange[] | undefined> {
    return readChanges(this.db, this.tableName, userPk(platform, userId), from, to);
  }

  /**
   * The user's summaries with these ids that exist, in no particular order: strongly
   * consistent BatchGetItem, 100 keys per call.
   * @throws {SummaryReadError} when keys stay unprocessed after `BATCH_ROUNDS`
   *   rounds; {@link SummaryItemError} for a malformed item; the AWS SDK's error.
   */
  async getMany(
    platform: Platform,
    userId: string,
    ids: readonly string[],
  ): Promise<SummaryRecord[]> {
    const pk = userPk(platform, userId);
    const records: SummaryRecord[] = [];
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += MAX_BATCH_GET) {
      const keys: Record<string, unknown>[] = unique
        .slice(i, i + MAX_BATCH_GET)
        .map((id) => ({ pk, sk: summarySk(id) }));
      const left = await resubmitUnprocessed(keys, async (round) => {
        const out = await this.db.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: round, ConsistentRead: true } },
          }),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) records.push(toRecord(item));
        return out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      });
      if (left.length > 0) {
        throw new SummaryReadError(
          `${left.length} summary reads still unprocessed after ${BATCH_ROUNDS} rounds`,
        );
      }
    }
    return records;
  }

  /**
   * Every summary of one user, oldest id first: a strongly consistent Query on the user's
   * partition, following `LastEvaluatedKey` until the end (DynamoDB pages at 1 MB).
   */
  async listForUser(platform: Platform, userId: string): Promise<SummaryRecord[]> {
    const records: SummaryRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: {
            ":pk": userPk(platform, userId),
            ":prefix": SUMMARY_SK_PREFIX,
          },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) records.push(toRecord(item));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return records;
  }

  /**
   * Every summary in the table, page by page (a Scan filtered on the `SUMMARY#` sort-key
   * prefix). Reads the whole table, so it is meant for `memory:reindex`, not the request path.
   */
  async *scanAll(): AsyncGenerator<SummaryRecord, void, undefined> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: "begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":prefix": SUMMARY_SK_PREFIX },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) yield toRecord(item);
      startKey = out.LastEvaluatedKey;
    } while (startKey);
  }

  /**
   * Deletes the summaries with these ids; ids that do not exist are ignored. An id made by
   * {@link summaryId} names its partition directly; any other id is located with a Scan
   * (whole table, so keep such ids to maintenance paths).
   *
   * Per user, the `delete` change-log entries (at most 100 ids each) are committed BEFORE the
   * items go: once this resolves, every container's next search reads the newer head and drops
   * the ids. Deleting first would leave a window, or after a crash in between a permanent state,
   * where caches keep serving a summary that no longer exists. A crash after the log but before
   * the items leaves items that a cache rebuild would show again; the caller's retry (archiver
   * via SQS, `/forget` by the user) logs and deletes them again.
   *
   * @throws {BatchDeleteError} when DynamoDB still reports unprocessed deletes;
   *   `SummaryLogConflictError`; the AWS SDK's error.
   */
  async delete(ids: readonly string[]): Promise<void> {
    const keys: { pk: string; sk: string }[] = [];
    const unparsed: string[] = [];
    for (const id of new Set(ids)) {
      const owner = parseSummaryId(id);
      if (owner) keys.push({ pk: userPk(owner.platform, owner.userId), sk: summarySk(id) });
      else unparsed.push(id);
    }
    for (let i = 0; i < unparsed.length; i += MAX_IN_VALUES) {
      keys.push(...(await this.locate(unparsed.slice(i, i + MAX_IN_VALUES))));
    }
    const byPartition = new Map<string, { pk: string; sk: string }[]>();
    for (const key of keys) byPartition.set(key.pk, [...(byPartition.get(key.pk) ?? []), key]);
    for (const [pk, own] of byPartition) {
      for (let i = 0; i < own.length; i += MAX_IDS_PER_DELETE_ENTRY) {
        const ids = own
          .slice(i, i + MAX_IDS_PER_DELETE_ENTRY)
          .map((k) => k.sk.slice(SUMMARY_SK_PREFIX.length));
        await appendChanges(this.db, this.tableName, pk, [{ op: "delete", ids }], []);
      }
      await batchDelete(this.db, this.tableName, own);
    }
  }

  private async locate(ids: string[]): Promise<{ pk: string; sk: string }[]> {
    const values: Record<string, string> = {};
    ids.forEach((id, i) => {
      values[`:s${i}`] = summarySk(id);
    });
    const found: { pk: string; sk: string }[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: `sk IN (${Object.keys(values).join(", ")})`,
          ExpressionAttributeValues: values,
          ProjectionExpression: "pk, sk",
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) found.push({ pk: String(item.pk), sk: String(item.sk) });
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return found;
  }
}

function toRecord(item: Record<string, unknown>): SummaryRecord {
  const parsed = summaryRecordSchema.safeParse(item);
  if (!parsed.success) throw new SummaryItemError(String(item.pk), String(item.sk), parsed.error);
  const { model, ...rest } = parsed.data;
  return model === undefined ? rest : { ...rest, model };
}

function isPlatform(name: string): name is ConversationRef["platform"] {
  return (PLATFORMS as readonly string[]).includes(name);
}
