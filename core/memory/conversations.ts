import { TransactionConflictException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import { contextLimit, DEFAULT_ARCHIVE_HIGH_WATER } from "./archival";
import {
  type ConversationHead,
  type NewMessage,
  type StoredMessage,
  toHead,
  toStoredMessage,
} from "./conversation-items";
import {
  batchDelete,
  cancellationCodes,
  type OptimisticAttempt,
  retryOptimistic,
} from "./table/dynamo";
import {
  type ConversationRef,
  conversationMetaKey,
  conversationPk,
  MESSAGE_SK_PREFIX,
  messageIdOf,
  messageSk,
  turnSk,
} from "./table/keys";
import { type TableOptions, TTL_ATTRIBUTE } from "./table/table";

/** What became of {@link ConversationStore.appendTurn}. */
export type AppendResult =
  | {
      stored: true;
      /** Ids given to the messages, in order (adjacent sequence numbers). */
      messageIds: string[];
      /** Live messages after this append, as far as this writer knows (may lag an archiver). */
      messageCount: number;
    }
  | {
      /** The job's turn was stored before (a redelivered job): nothing was written. */
      stored: false;
    };

/**
 * How long a turn marker (`TURN#{jobId}`) outlives its job, ms: longer than any redelivery can
 * come (SQS keeps a message, and its DLQ copy, at most 14 days), so a redelivered or redriven
 * job never stores its turn twice.
 */
export const TURN_MARKER_TTL_MS = 15 * 24 * 60 * 60 * 1000;

/**
 * Short-term conversation memory: one item per message plus a META item. A message's sort key
 * is the conversation's own sequence number, assigned on append from META's `lastSeq`, so the
 * conversation reads back in the order it was stored, with each job's question next to its
 * answer, however late the job ran. META also counts live messages (`messageCount`) and carries
 * the running summary; its archival bookkeeping belongs to `ArchiveLedger`
 * (`archive-ledger.ts`). The lifecycle is described in `docs/architecture.md`.
 */
export class ConversationStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: TableOptions) {
    this.db = options.client;
    this.tableName = options.tableName;
  }

  /**
   * META as a turn needs it: the last sequence number, the live count and the running summary
   * (one strongly consistent GetItem; a missing META reads as a new conversation).
   * @throws the SDK's error when DynamoDB fails.
   */
  async head(conversation: ConversationRef): Promise<ConversationHead> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: conversationMetaKey(conversation),
        ConsistentRead: true,
      }),
    );
    return toHead(out.Item);
  }

  /**
   * Stores one job's messages (its question, and its answer when there is one) under the next
   * sequence numbers, adjacent, in one transaction: META's `lastSeq` advances (conditional on
   * the value read, so two writers never take the same numbers), `messageCount` grows, a turn
   * marker `TURN#{jobId}` (expiring after {@link TURN_MARKER_TTL_MS}) is created only if absent,
   * and each message is put. A redelivered job finds its marker and stores nothing. When another
   * writer advanced `lastSeq` first (or a transaction conflict cancels the write), META is read
   * again and the write retried, a few times with jittered backoff.
   *
   * @param expected - META as read earlier in the turn (saves a read); re-read when stale.
   * @param turn.nowMs - the writer's clock, epoch ms (`updatedAt`, the marker's TTL).
   * @throws {AppendContentionError} when the sequence kept moving for every attempt; the SDK's
   *   error for anything else. Nothing is stored in either case.
   */
  async appendTurn(
    conversation: ConversationRef,
    turn: { jobId: string; messages: readonly NewMessage[]; nowMs: number },
    expected?: ConversationHead,
  ): Promise<AppendResult> {
    const pk = conversationPk(conversation);
    const attempt = async (n: number): Promise<OptimisticAttempt<AppendResult>> => {
      const head = n === 1 && expected ? expected : await this.head(conversation);
      const ids = turn.messages.map((_, i) => messageIdOf(head.lastSeq + 1 + i));
      const first = head.lastSeq === 0;
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.tableName,
                  Key: conversationMetaKey(conversation),
                  UpdateExpression: "SET lastSeq = :next, updatedAt = :now ADD messageCount :n",
                  ConditionExpression: first ? "attribute_not_exists(lastSeq)" : "lastSeq = :last",
                  ExpressionAttributeValues: {
                    ":next": head.lastSeq + turn.messages.length,
                    ":now": turn.nowMs,
                    ":n": turn.messages.length,
                    ...(first ? {} : { ":last": head.lastSeq }),
                  },
                },
              },
              {
                Put: {
                  TableName: this.tableName,
                  Item: {
                    pk,
                    sk: turnSk(turn.jobId),
                    [TTL_ATTRIBUTE]: Math.floor((turn.nowMs + TURN_MARKER_TTL_MS) / 1000),
                  },
                  ConditionExpression: "attribute_not_exists(pk)",
                },
              },
              ...turn.messages.map((message, i) => ({
                Put: {
                  TableName: this.tableName,
                  Item: { pk, sk: messageSk(ids[i] as string), messageId: ids[i], ...message },
                  ConditionExpression: "attribute_not_exists(pk)",
                },
              })),
            ],
          }),
        );
        const messageCount = head.messageCount + turn.messages.length;
        return { done: true, value: { stored: true, messageIds: ids, messageCount } };
      } catch (error) {
        const codes = cancellationCodes(error);
        if (codes?.[1] === "ConditionalCheckFailed")
          return { done: true, value: { stored: false } };
        // A stale `lastSeq` (another writer appended) or a conflicting transaction: read again.
        const lostRace =
          error instanceof TransactionConflictException ||
          codes?.every((code) => RETRYABLE_APPEND_CODES.has(code)) === true;
        if (!lostRace) throw error;
        return { done: false, cause: error };
      }
    };
    return retryOptimistic(
      { attempts: APPEND_ATTEMPTS, baseMs: APPEND_RETRY_BASE_MS },
      attempt,
      (cause) => new AppendContentionError(conversation, APPEND_ATTEMPTS, { cause }),
    );
  }

  /**
   * The newest `limit` messages (default: a turn's context with the default high-water mark),
   * returned oldest first, in the order they were stored. One Query on the conversation's
   * partition, newest first, stopping after `limit` items.
   * @throws the SDK's error when DynamoDB fails.
   */
  async recent(
    conversation: ConversationRef,
    limit = contextLimit(DEFAULT_ARCHIVE_HIGH_WATER),
  ): Promise<StoredMessage[]> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :msg)",
        ExpressionAttributeValues: {
          ":pk": conversationPk(conversation),
          ":msg": MESSAGE_SK_PREFIX,
        },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map(toStoredMessage).reverse();
  }

  /**
   * The conversation's live-message counter (0 for a new conversation): {@link head}'s
   * `messageCount`.
   * @throws the SDK's error when DynamoDB fails.
   */
  async messageCount(conversation: ConversationRef): Promise<number> {
    return (await this.head(conversation)).messageCount;
  }

  /**
   * Up to `limit` of the messages older than the newest `keep`, oldest first, and how many such
   * messages there are: two strongly consistent Queries (the newest `keep` keys, then what sorts
   * before the oldest of them). Reading the items rather than trusting the counter means a
   * miscount can never push one of the newest `keep` messages into the archive. `total` comes
   * from the ids: live messages hold consecutive sequence numbers (the archive removes them from
   * the oldest end only), so it is the distance from the first to the oldest kept id.
   * @throws the SDK's error when DynamoDB fails.
   */
  async olderThanNewest(
    conversation: ConversationRef,
    keep: number,
    limit: number,
  ): Promise<{ messages: StoredMessage[]; total: number }> {
    const pk = conversationPk(conversation);
    const newest = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :msg)",
        ExpressionAttributeValues: { ":pk": pk, ":msg": MESSAGE_SK_PREFIX },
        ProjectionExpression: "sk, messageId",
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: keep,
      }),
    );
    const kept = newest.Items ?? [];
    const oldestKept = kept.at(-1);
    if (kept.length < keep || typeof oldestKept?.sk !== "string") {
      return { messages: [], total: 0 };
    }
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND sk BETWEEN :lo AND :cut",
        ExpressionAttributeValues: { ":pk": pk, ":lo": MESSAGE_SK_PREFIX, ":cut": oldestKept.sk },
        ConsistentRead: true,
        Limit: limit + 1,
      }),
    );
    const messages = (out.Items ?? [])
      .filter((item) => item.sk !== oldestKept.sk)
      .slice(0, limit)
      .map(toStoredMessage);
    const first = messages[0];
    const span = first ? Number(oldestKept.messageId) - Number(first.messageId) : 0;
    return { messages, total: Math.max(messages.length, Number.isFinite(span) ? span : 0) };
  }

  /**
   * The stored messages with ids from `fromMessageId` to `toMessageId` inclusive, oldest
   * first, at most `limit` (one strongly consistent Query).
   * @throws the SDK's error when DynamoDB fails.
   */
  async messagesBetween(
    conversation: ConversationRef,
    fromMessageId: string,
    toMessageId: string,
    limit: number,
  ): Promise<StoredMessage[]> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
        ExpressionAttributeValues: {
          ":pk": conversationPk(conversation),
          ":from": messageSk(fromMessageId),
          ":to": messageSk(toMessageId),
        },
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map(toStoredMessage);
  }

  /**
   * Deletes the conversation's messages (`batchDelete`: BatchWriteItem, 25 per request,
   * unprocessed items resubmitted with backoff) and then META, with its running summary. Turn markers stay until
   * their TTL: they hold only job and message ids, and keep a late redelivery of an answered job
   * from storing its forgotten turn again.
   *
   * @returns how many messages were deleted.
   * @throws {BatchDeleteError} when DynamoDB keeps returning unprocessed deletes; the SDK's
   *   error when DynamoDB fails.
   */
  async deleteConversation(conversation: ConversationRef): Promise<number> {
    const pk = conversationPk(conversation);
    let deleted = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :msg)",
          ExpressionAttributeValues: { ":pk": pk, ":msg": MESSAGE_SK_PREFIX },
          ProjectionExpression: "pk, sk",
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      const keys = (page.Items ?? []).map((item) => ({ pk, sk: String(item.sk) }));
      await batchDelete(this.db, this.tableName, keys);
      deleted += keys.length;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    await this.db.send(
      new DeleteCommand({ TableName: this.tableName, Key: conversationMetaKey(conversation) }),
    );
    return deleted;
  }
}

/** Calls of {@link ConversationStore.appendTurn}'s transaction before it gives up. */
const APPEND_ATTEMPTS = 6;
/** First backoff window between append attempts, ms (doubles per attempt, jittered). */
const APPEND_RETRY_BASE_MS = 20;
/**
 * Cancellation codes after which an append is retried with a fresh `lastSeq`: the META
 * condition failed (another writer appended), a message key was taken, or a conflict.
 */
const RETRYABLE_APPEND_CODES: ReadonlySet<string> = new Set([
  "None",
  "ConditionalCheckFailed",
  "TransactionConflict",
]);

/**
 * {@link ConversationStore.appendTurn} found the conversation's sequence moved by another
 * writer on every attempt. Nothing was stored; `cause` is the last cancellation.
 */
export class AppendContentionError extends Error {
  override readonly name = "AppendContentionError";
  constructor(conversation: ConversationRef, attempts: number, options: { cause: unknown }) {
    super(
      `could not append to ${conversation.platform}/${conversation.channelId}/` +
        `${conversation.userId} after ${attempts} attempts`,
      options,
    );
  }
}
