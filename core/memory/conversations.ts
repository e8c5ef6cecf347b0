import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  TransactionConflictException,
} from "@aws-sdk/client-dynamodb";
import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  CONVERSATION_META_SK,
  type ConversationRef,
  conversationPk,
  MESSAGE_SK_PREFIX,
  messageSk,
} from "./keys";

/** Number of recent messages loaded as context for a turn (design.md, Flow step 2). */
export const CONTEXT_WINDOW_MESSAGES = 20;

/** One stored message. `createdAt` is epoch milliseconds. */
export interface StoredMessage {
  messageId: string;
  role: "user" | "assistant";
  content: string;
  createdAt: number;
  /** Model that produced an assistant message. */
  model?: string;
}

/**
 * Short-term conversation memory: one item per message plus a meta item with an atomic
 * message counter. Appending is one transaction regardless of history length; reading
 * context is one Query. META also carries the archival bookkeeping (pending request, archiver
 * lease, recorded plan, `archivedThrough`), always changed with conditional writes; the
 * lifecycle is described in `docs/architecture.md`.
 */
export class ConversationStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Stores a message and increments the conversation's counter in one transaction. The put is
   * conditional on the id being new, so replaying the same message (a redelivered job with a
   * deterministic id) stores nothing and leaves the counter alone. A cancellation caused only
   * by a concurrent transaction on META (an archiver's commit) is retried briefly.
   *
   * @returns `{ stored: false }` when the message id already existed; otherwise the counter
   *   after this write is NOT returned (transactions return no attributes): call
   *   {@link messageCount} when needed.
   * @throws the SDK's error for anything except the duplicate-id cancellation.
   */
  async append(
    conversation: ConversationRef,
    message: StoredMessage,
  ): Promise<{ stored: boolean }> {
    const pk = conversationPk(conversation);
    try {
      await this.sendTransaction(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: { pk, sk: messageSk(message.messageId), ...message },
                ConditionExpression: "attribute_not_exists(pk)",
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: { pk, sk: CONVERSATION_META_SK },
                UpdateExpression: "ADD messageCount :one SET updatedAt = :now",
                ExpressionAttributeValues: { ":one": 1, ":now": message.createdAt },
              },
            },
          ],
        }),
      );
      return { stored: true };
    } catch (error) {
      if (isDuplicatePut(error)) return { stored: false };
      throw error;
    }
  }

  /**
   * The newest `limit` messages, returned oldest first. One Query on the conversation's
   * partition, newest first, stopping after `limit` items.
   * @throws the SDK's error when DynamoDB fails.
   */
  async recent(
    conversation: ConversationRef,
    limit = CONTEXT_WINDOW_MESSAGES,
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
   * The conversation's atomic message counter (0 for a new conversation), read strongly
   * consistent from the meta item.
   * @throws the SDK's error when DynamoDB fails.
   */
  async messageCount(conversation: ConversationRef): Promise<number> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: conversationPk(conversation), sk: CONVERSATION_META_SK },
        ConsistentRead: true,
      }),
    );
    return Number(out.Item?.messageCount ?? 0);
  }

  /**
   * Marks the conversation as waiting for archival unless it already is: sets META
   * `archiveRequestedAt = nowMs` only when its counter is above `keep` and no request made at
   * or after `staleBeforeMs` is pending. One conditional UpdateItem: the step that coalesces
   * archive jobs to one per conversation at a time.
   *
   * @returns `true` when this call set the mark (the caller must then enqueue the job);
   *   `false` when the conversation is not over `keep` or a request is already pending.
   * @throws the SDK's error for anything but the failed condition.
   */
  async markArchiveRequested(
    conversation: ConversationRef,
    options: { nowMs: number; keep: number; staleBeforeMs: number },
  ): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.metaKey(conversation),
        UpdateExpression: "SET archiveRequestedAt = :now",
        ConditionExpression:
          "messageCount > :keep AND (attribute_not_exists(archiveRequestedAt) OR " +
          "archiveRequestedAt < :stale)",
        ExpressionAttributeValues: {
          ":now": options.nowMs,
          ":keep": options.keep,
          ":stale": options.staleBeforeMs,
        },
      }),
    );
  }

  /**
   * Clears the mark set by {@link markArchiveRequested} at `requestedAt` (when enqueueing the
   * job failed), so the next turn can request again; a newer mark is left alone.
   * @throws the SDK's error for anything but the failed condition.
   */
  async clearArchiveRequest(conversation: ConversationRef, requestedAt: number): Promise<void> {
    await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.metaKey(conversation),
        UpdateExpression: "REMOVE archiveRequestedAt",
        ConditionExpression: "archiveRequestedAt = :at",
        ExpressionAttributeValues: { ":at": requestedAt },
      }),
    );
  }

  /**
   * The archival bookkeeping on META, read strongly consistent; `undefined` when the
   * conversation has no META item (never written, or forgotten).
   * @throws the SDK's error when DynamoDB fails.
   */
  async archiveState(conversation: ConversationRef): Promise<ArchiveState | undefined> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: this.metaKey(conversation),
        ConsistentRead: true,
      }),
    );
    return out.Item ? toArchiveState(out.Item) : undefined;
  }

  /**
   * Takes the conversation's archive lease for `leaseMs` under `token`, if META exists and no
   * unexpired lease is held (a conditional UpdateItem, so exactly one of several racing
   * archivers wins).
   *
   * @returns the META state after taking the lease (including a plan left by an earlier
   *   attempt), or `undefined` when another archiver holds it or there is no META.
   * @throws the SDK's error for anything but the failed condition.
   */
  async acquireArchiveLease(
    conversation: ConversationRef,
    token: string,
    nowMs: number,
    leaseMs: number,
  ): Promise<ArchiveState | undefined> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.metaKey(conversation),
          UpdateExpression: "SET archiveLease = :token, archiveLeaseUntil = :until",
          ConditionExpression:
            "attribute_exists(pk) AND (attribute_not_exists(archiveLeaseUntil) OR " +
            "archiveLeaseUntil < :now)",
          ExpressionAttributeValues: { ":token": token, ":until": nowMs + leaseMs, ":now": nowMs },
          ReturnValues: "ALL_NEW",
        }),
      );
      return out.Attributes ? toArchiveState(out.Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /**
   * Extends the lease held under `token` to `nowMs + leaseMs`.
   * @returns `false` when the lease is no longer this token's (taken over, or META deleted).
   * @throws the SDK's error for anything but the failed condition.
   */
  async renewArchiveLease(
    conversation: ConversationRef,
    token: string,
    nowMs: number,
    leaseMs: number,
  ): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.metaKey(conversation),
        UpdateExpression: "SET archiveLeaseUntil = :until",
        ConditionExpression: "archiveLease = :token",
        ExpressionAttributeValues: { ":token": token, ":until": nowMs + leaseMs },
      }),
    );
  }

  /**
   * Records (or with `undefined`, clears) the chunk the lease holder is archiving, before it
   * writes anything else: an archiver that takes the lease over later resumes exactly this
   * range, so its summary gets the same deterministic id.
   * @returns `false` when the lease is no longer this token's.
   * @throws the SDK's error for anything but the failed condition.
   */
  async saveArchivePlan(
    conversation: ConversationRef,
    token: string,
    plan: ArchivePlan | undefined,
  ): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.metaKey(conversation),
        UpdateExpression: plan ? "SET archivePlan = :plan" : "REMOVE archivePlan",
        ConditionExpression: "archiveLease = :token",
        ExpressionAttributeValues: { ":token": token, ...(plan ? { ":plan": plan } : {}) },
      }),
    );
  }

  /**
   * Gives the lease held under `token` back; with `clearRequest`, also clears
   * `archiveRequestedAt` so the next turn (or the archiver's own re-check) can request again.
   * @returns `false` when the lease was no longer this token's (nothing changed).
   * @throws the SDK's error for anything but the failed condition.
   */
  async releaseArchiveLease(
    conversation: ConversationRef,
    token: string,
    options: { clearRequest: boolean },
  ): Promise<boolean> {
    const remove = ["archiveLease", "archiveLeaseUntil"];
    if (options.clearRequest) remove.push("archiveRequestedAt");
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.metaKey(conversation),
        UpdateExpression: `REMOVE ${remove.join(", ")}`,
        ConditionExpression: "archiveLease = :token",
        ExpressionAttributeValues: { ":token": token },
      }),
    );
  }

  /**
   * Up to `limit` of the messages older than the newest `keep`, oldest first: two strongly
   * consistent Queries (the newest `keep` keys, then what sorts before the oldest of them).
   * Reading the items rather than trusting the counter means a miscount can never push one of
   * the newest `keep` messages into the archive.
   * @throws the SDK's error when DynamoDB fails.
   */
  async olderThanNewest(
    conversation: ConversationRef,
    keep: number,
    limit: number,
  ): Promise<StoredMessage[]> {
    const pk = conversationPk(conversation);
    const newest = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :msg)",
        ExpressionAttributeValues: { ":pk": pk, ":msg": MESSAGE_SK_PREFIX },
        ProjectionExpression: "sk",
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: keep,
      }),
    );
    const kept = newest.Items ?? [];
    const oldestKept = kept.at(-1)?.sk;
    if (kept.length < keep || typeof oldestKept !== "string") return [];
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND sk BETWEEN :lo AND :cut",
        ExpressionAttributeValues: { ":pk": pk, ":lo": MESSAGE_SK_PREFIX, ":cut": oldestKept },
        ConsistentRead: true,
        Limit: limit + 1,
      }),
    );
    return (out.Items ?? [])
      .filter((item) => item.sk !== oldestKept)
      .slice(0, limit)
      .map(toStoredMessage);
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
   * Commits an archived chunk in one transaction: deletes each message (each delete
   * conditional on the item still existing, so only the ids read are removed and none twice),
   * decrements the counter by their number, records `archivedThrough = toMessageId` and clears
   * the plan, all conditional on the lease still being `token`'s. All or nothing; at most 99
   * messages (DynamoDB's 100-action limit). Transaction conflicts with concurrent writers are
   * retried briefly. `toMessageId` is written as given: the archiver passes the highest id
   * committed so far, so `archivedThrough` never moves backwards.
   *
   * @returns `{ committed: false, reasons }` with DynamoDB's cancellation codes (META first,
   *   then one per message) when a condition failed.
   * @throws the SDK's error for anything but a failed condition.
   */
  async commitArchive(
    conversation: ConversationRef,
    chunk: { token: string; messageIds: readonly string[]; toMessageId: string; nowMs: number },
  ): Promise<{ committed: true } | { committed: false; reasons: string[] }> {
    const pk = conversationPk(conversation);
    try {
      await this.sendTransaction(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: this.metaKey(conversation),
                UpdateExpression:
                  "ADD messageCount :minus SET archivedThrough = :to, updatedAt = :now " +
                  "REMOVE archivePlan",
                ConditionExpression: "archiveLease = :token",
                ExpressionAttributeValues: {
                  ":minus": -chunk.messageIds.length,
                  ":to": chunk.toMessageId,
                  ":now": chunk.nowMs,
                  ":token": chunk.token,
                },
              },
            },
            ...chunk.messageIds.map((id) => ({
              Delete: {
                TableName: this.tableName,
                Key: { pk, sk: messageSk(id) },
                ConditionExpression: "attribute_exists(pk)",
              },
            })),
          ],
        }),
      );
      return { committed: true };
    } catch (error) {
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.some((r) => r.Code === "ConditionalCheckFailed")
      ) {
        return {
          committed: false,
          reasons: (error.CancellationReasons ?? []).map((r) => r.Code ?? "None"),
        };
      }
      throw error;
    }
  }

  /**
   * Deletes every item of the conversation: its messages (BatchWriteItem, 25 per request,
   * unprocessed items resubmitted with backoff) and then META.
   *
   * @returns how many messages were deleted.
   * @throws {ConversationDeleteError} when DynamoDB keeps returning unprocessed deletes; the
   *   SDK's error when DynamoDB fails.
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
      for (let i = 0; i < keys.length; i += BATCH_WRITE_MAX) {
        await this.deleteBatch(keys.slice(i, i + BATCH_WRITE_MAX));
      }
      deleted += keys.length;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    await this.db.send(
      new DeleteCommand({ TableName: this.tableName, Key: this.metaKey(conversation) }),
    );
    return deleted;
  }

  private metaKey(conversation: ConversationRef): { pk: string; sk: string } {
    return { pk: conversationPk(conversation), sk: CONVERSATION_META_SK };
  }

  /** Sends a conditional write; `false` when its condition failed. */
  private async conditional(command: UpdateCommand): Promise<boolean> {
    try {
      await this.db.send(command);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Sends a transaction, retrying a few times with jittered backoff when DynamoDB cancels it
   * only because another request touched the same item at the same moment
   * (`TransactionConflict`); the SDK does not retry those itself.
   */
  private async sendTransaction(command: TransactWriteCommand): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.db.send(command);
        return;
      } catch (error) {
        if (attempt >= TRANSACTION_ATTEMPTS || !isTransactionConflict(error)) throw error;
        await sleep(TRANSACTION_RETRY_BASE_MS * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
      }
    }
  }

  private async deleteBatch(keys: { pk: string; sk: string }[]): Promise<void> {
    let requests: Record<string, unknown>[] = keys.map((Key) => ({ DeleteRequest: { Key } }));
    for (let round = 0; round < BATCH_WRITE_ROUNDS && requests.length > 0; round++) {
      // AWS asks for exponential backoff before resubmitting UnprocessedItems.
      if (round > 0) await sleep(50 * 2 ** round);
      const out = await this.db.send(
        new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
      );
      requests = (out.UnprocessedItems?.[this.tableName] ?? []) as Record<string, unknown>[];
    }
    if (requests.length > 0) {
      throw new ConversationDeleteError(
        `${requests.length} message deletes still unprocessed after ${BATCH_WRITE_ROUNDS} rounds`,
      );
    }
  }
}

/** Thrown by {@link ConversationStore.deleteConversation} when deletes stay unprocessed. */
export class ConversationDeleteError extends Error {
  override readonly name = "ConversationDeleteError";
}

/** The chunk an archiver is working on, recorded on META before anything else is written. */
export interface ArchivePlan {
  fromMessageId: string;
  toMessageId: string;
  /** Deterministic id of the chunk's summary (`summaryId(conversation, toMessageId)`). */
  summaryId: string;
}

/** Archival bookkeeping read from a conversation's META item. */
export interface ArchiveState {
  messageCount: number;
  /** When the pending archive job was requested, epoch ms; absent when none is pending. */
  archiveRequestedAt?: number;
  /** The archiver lease: holder token and expiry (epoch ms). */
  lease?: { token: string; until: number };
  /** The chunk being archived, if an archiver recorded one and has not committed it. */
  plan?: ArchivePlan;
  /** Highest `toMessageId` of any committed chunk (never lowered). */
  archivedThrough?: string;
}

/** Calls per transaction before a `TransactionConflict` is rethrown. */
const TRANSACTION_ATTEMPTS = 5;
/** First backoff window after a transaction conflict, ms (doubles per attempt). */
const TRANSACTION_RETRY_BASE_MS = 20;
/** Largest number of requests in one BatchWriteItem call. */
const BATCH_WRITE_MAX = 25;
/** Rounds of resubmitting `UnprocessedItems` before giving up. */
const BATCH_WRITE_ROUNDS = 5;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isTransactionConflict(error: unknown): boolean {
  if (error instanceof TransactionConflictException) return true;
  if (!(error instanceof TransactionCanceledException)) return false;
  const codes = (error.CancellationReasons ?? []).map((r) => r.Code);
  return codes.includes("TransactionConflict") && !codes.includes("ConditionalCheckFailed");
}

function toArchiveState(item: Record<string, unknown>): ArchiveState {
  const state: ArchiveState = { messageCount: Number(item.messageCount ?? 0) };
  if (typeof item.archiveRequestedAt === "number") {
    state.archiveRequestedAt = item.archiveRequestedAt;
  }
  if (typeof item.archiveLease === "string") {
    state.lease = { token: item.archiveLease, until: Number(item.archiveLeaseUntil ?? 0) };
  }
  const plan = item.archivePlan as Partial<ArchivePlan> | undefined;
  if (plan?.fromMessageId && plan.toMessageId && plan.summaryId) {
    state.plan = {
      fromMessageId: String(plan.fromMessageId),
      toMessageId: String(plan.toMessageId),
      summaryId: String(plan.summaryId),
    };
  }
  if (typeof item.archivedThrough === "string") state.archivedThrough = item.archivedThrough;
  return state;
}

function isDuplicatePut(error: unknown): boolean {
  return (
    error instanceof TransactionCanceledException &&
    error.CancellationReasons?.[0]?.Code === "ConditionalCheckFailed"
  );
}

function toStoredMessage(item: Record<string, unknown>): StoredMessage {
  const message: StoredMessage = {
    messageId: String(item.messageId),
    role: item.role === "assistant" ? "assistant" : "user",
    content: String(item.content ?? ""),
    createdAt: Number(item.createdAt ?? 0),
  };
  if (typeof item.model === "string") message.model = item.model;
  return message;
}
