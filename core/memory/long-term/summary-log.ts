import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { cancellationCodes, retryOptimistic } from "../table/dynamo";
import { TTL_ATTRIBUTE } from "../table/table";
import { LongTermIndexError, SummaryItemError } from "./errors";

/**
 * The per-user change log of durable summaries, which lets a container's in-memory index catch
 * up with a few tiny reads instead of re-reading every summary (see `user-index-cache.ts`).
 *
 * Under the user's partition `USER#{platform}#{userId}`:
 * - the head `sk = SUMMARYLOG`, `{version}`: how many changes the user's summaries have seen;
 * - one entry per change, `sk = SUMLOG#{version, 10 digits}`, `{op: "put", id}` or
 *   `{op: "delete", ids}`: ids only, never the text, expiring after {@link LOG_TTL_SECONDS}.
 *
 * Neither sort key starts with `SUMMARY#`, so summary Queries and Scans never see them. The head
 * has no TTL: versions must never restart, or a cache could mistake a new change for one it saw.
 */

/** Sort key of the per-user head item holding the current `version`. */
export const LOG_HEAD_SK = "SUMMARYLOG";
/** Sort-key prefix of change-log entries. */
export const LOG_ENTRY_SK_PREFIX = "SUMLOG#";
/** How long a change-log entry lives (DynamoDB TTL), seconds: 7 days. */
export const LOG_TTL_SECONDS = 7 * 24 * 3600;
/** Most ids in one delete entry, so an entry stays a few KB (a summary id is ~60 bytes). */
export const MAX_IDS_PER_DELETE_ENTRY = 100;
/** Attempts of one optimistic append before {@link SummaryLogConflictError}. */
const MAX_APPEND_ATTEMPTS = 8;
/** Backoff between attempts, ms: full jitter over `min(cap, base × 2^(attempt-1))`. */
const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 400;

/** One change of a user's summaries: `put` (written or replaced) or `delete`. */
export type SummaryChange = { op: "put"; id: string } | { op: "delete"; ids: string[] };

const changeSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("put"), id: z.string().min(1) }),
  z.object({ op: z.literal("delete"), ids: z.array(z.string().min(1)) }),
]);

/** `SUMLOG#{version}`, zero-padded so the entries sort by version. */
export function logEntrySk(version: number): string {
  return `${LOG_ENTRY_SK_PREFIX}${String(version).padStart(10, "0")}`;
}

/** The change-log entry item for `version` under partition `pk` (the shape written). */
export function logEntryItem(
  pk: string,
  version: number,
  change: SummaryChange,
  nowMs: number,
): Record<string, unknown> {
  return {
    pk,
    sk: logEntrySk(version),
    version,
    ...change,
    [TTL_ATTRIBUTE]: Math.floor(nowMs / 1000) + LOG_TTL_SECONDS,
  };
}

/**
 * An append to a user's change log lost the optimistic race {@link MAX_APPEND_ATTEMPTS} times
 * in a row (other writers kept bumping the head). `cause` is the last cancellation.
 */
export class SummaryLogConflictError extends LongTermIndexError {
  override name = "SummaryLogConflictError";

  constructor(
    readonly pk: string,
    cause: unknown,
  ) {
    super(`summary change log of ${pk}: still conflicting after ${MAX_APPEND_ATTEMPTS} attempts`, {
      cause,
    });
  }
}

/**
 * The head version of partition `pk` (0 when no change was ever logged): one strongly
 * consistent GetItem of a ~50-byte item, so 1 read unit
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html).
 * @throws {SummaryItemError} when the head item has no numeric `version`.
 */
export async function readHeadVersion(
  db: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
): Promise<number> {
  const out = await db.send(
    new GetCommand({ TableName: tableName, Key: { pk, sk: LOG_HEAD_SK }, ConsistentRead: true }),
  );
  if (!out.Item) return 0;
  const version = z.number().int().nonnegative().safeParse(out.Item.version);
  if (!version.success) throw new SummaryItemError(pk, LOG_HEAD_SK, version.error);
  return version.data;
}

/**
 * The changes with versions `from..to` (inclusive) in order, or `undefined` when any is missing
 * (expired by TTL, or `from` is past the head): the caller must then rebuild from the summaries.
 * A strongly consistent Query on the entries' sort-key range, paginated.
 * @throws {SummaryItemError} for an entry that is not a valid change.
 */
export async function readChanges(
  db: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
  from: number,
  to: number,
): Promise<SummaryChange[] | undefined> {
  const changes: SummaryChange[] = [];
  let expected = from;
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await db.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
        ExpressionAttributeValues: { ":pk": pk, ":from": logEntrySk(from), ":to": logEntrySk(to) },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of out.Items ?? []) {
      if (item.version !== expected) return undefined;
      const change = changeSchema.safeParse(item);
      if (!change.success) throw new SummaryItemError(pk, String(item.sk), change.error);
      changes.push(change.data);
      expected++;
    }
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return expected === to + 1 ? changes : undefined;
}

/** A write that must commit together with a log append (e.g. the summary Put). */
export type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/**
 * Appends `changes` to the log of `pk` as versions `v+1..v+n`, together with `alongside`, in one
 * TransactWriteItems: the entries, the writes alongside and the head bumped from `v` to `v+n`
 * under the condition that it still reads `v`. `v` is read strongly consistently first; when
 * another writer got in between (ConditionalCheckFailed) or a transaction overlapped
 * (TransactionConflict), it re-reads and retries with jittered backoff. So versions have no gaps
 * and a change is logged iff the writes alongside it committed.
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html)
 *
 * @returns the new head version.
 * @throws {SummaryLogConflictError} after {@link MAX_APPEND_ATTEMPTS} lost races; the AWS SDK's
 *   error for anything else (including a cancellation for another reason).
 */
export async function appendChanges(
  db: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
  changes: readonly SummaryChange[],
  alongside: readonly TransactItem[],
  now: () => number = Date.now,
): Promise<number> {
  return retryOptimistic(
    { attempts: MAX_APPEND_ATTEMPTS, baseMs: BACKOFF_BASE_MS, capMs: BACKOFF_CAP_MS },
    async () => {
      const version = await readHeadVersion(db, tableName, pk);
      const next = version + changes.length;
      // No condition on the entries: the head's condition already serialises appenders, and an
      // entry left from before a lost head item must be overwritable, not block every append.
      const entries: TransactItem[] = changes.map((change, i) => ({
        Put: { TableName: tableName, Item: logEntryItem(pk, version + 1 + i, change, now()) },
      }));
      const first = version === 0;
      const head: TransactItem = {
        Update: {
          TableName: tableName,
          Key: { pk, sk: LOG_HEAD_SK },
          UpdateExpression: "SET version = :next",
          ConditionExpression: first ? "attribute_not_exists(version)" : "version = :current",
          ExpressionAttributeValues: first
            ? { ":next": next }
            : { ":next": next, ":current": version },
        },
      };
      try {
        await db.send(
          new TransactWriteCommand({ TransactItems: [...alongside, ...entries, head] }),
        );
        return { done: true, value: next };
      } catch (error) {
        if (!isLostRace(error)) throw error;
        return { done: false, cause: error };
      }
    },
    (cause) => new SummaryLogConflictError(pk, cause),
  );
}

/** Another writer bumped the head first, or a transaction overlapped: read again and retry. */
function isLostRace(error: unknown): boolean {
  const codes = cancellationCodes(error) ?? [];
  return codes.some((code) => code === "ConditionalCheckFailed" || code === "TransactionConflict");
}
