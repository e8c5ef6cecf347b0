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
import { contextLimit, DEFAULT_ARCHIVE_HIGH_WATER } from "./archival";
import {
  CONVERSATION_META_SK,
  type ConversationRef,
  conversationPk,
  MESSAGE_SK_PREFIX,
  messageIdOf,
  messageSk,
  turnSk,
} from "./keys";
import { TTL_ATTRIBUTE } from "./table";

/**
 * A message as a turn hands it to the store; the store assigns its id (the conversation's next
 * sequence number) when it appends.
 */
export interface NewMessage {
  role: "user" | "assistant";
  content: string;
  /**
   * When the message was sent, epoch ms: the platform's time for a user message (Slack `ts`,
   * Discord snowflake, KĀDI event `ts`), the post time for an answer. Shown in summary excerpts
   * only; it never orders anything, because platform and worker clocks disagree and jobs run
   * late (backlogs, redeliveries, relayed events).
   */
  sentAt: number;
  /** Model that produced an assistant message. */
  model?: string;
}

/** One stored message: a {@link NewMessage} with the id the store gave it. */
export interface StoredMessage extends NewMessage {
  /** The conversation's sequence number, zero-padded (`messageIdOf`); sorts as stored. */
  messageId: string;
}

/**
 * The conversation's running summary (progressive summarisation): everything archived so far,
 * folded chunk by chunk by the archiver into one bounded text kept on META.
 */
export interface RunningSummary {
  /** Plain text, at most about 600 tokens (bounded by the summary prompt). */
  text: string;
  /** Id of the last message folded in. */
  throughMessageId: string;
  /** When it was last folded, epoch ms. */
  updatedAt: number;
  /** Model that wrote it. */
  model?: string;
}

/** What a turn reads from META before it runs (one strongly consistent GetItem). */
export interface ConversationHead {
  /** Highest sequence number assigned so far; 0 for a new (or forgotten) conversation. */
  lastSeq: number;
  /** Live (not yet archived) messages. */
  messageCount: number;
  /** The archived part of the conversation, once something was archived. */
  runningSummary?: RunningSummary;
}

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
 * answer, however late the job ran. META also counts live messages (`messageCount`), carries the
 * running summary and the archival bookkeeping (pending request, archiver lease, recorded plan,
 * `archivedThrough`), always changed with conditional writes; the lifecycle is described in
 * `docs/architecture.md`.
 */
export class ConversationStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * META as a turn needs it: the last sequence number, the live count and the running summary
   * (one strongly consistent GetItem; a missing META reads as a new conversation).
   * @throws the SDK's error when DynamoDB fails.
   */
  async head(conversation: ConversationRef): Promise<ConversationHead> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: this.metaKey(conversation),
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
   * @throws {AppendContentionError} when the sequence kept moving for every attempt; the SDK's
   *   error for anything else. Nothing is stored in either case.
   */
  async appendTurn(
    conversation: ConversationRef,
    turn: { jobId: string; messages: readonly NewMessage[]; nowMs: number },
    expected?: ConversationHead,
  ): Promise<AppendResult> {
    const pk = conversationPk(conversation);
    let head = expected ?? (await this.head(conversation));
    for (let attempt = 1; ; attempt++) {
      const ids = turn.messages.map((_, i) => messageIdOf(head.lastSeq + 1 + i));
      const next = head.lastSeq + turn.messages.length;
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.tableName,
                  Key: this.metaKey(conversation),
                  UpdateExpression: "SET lastSeq = :next, updatedAt = :now ADD messageCount :n",
                  ConditionExpression:
                    head.lastSeq === 0 ? "attribute_not_exists(lastSeq)" : "lastSeq = :last",
                  ExpressionAttributeValues: {
                    ":next": next,
                    ":now": turn.nowMs,
                    ":n": turn.messages.length,
                    ...(head.lastSeq === 0 ? {} : { ":last": head.lastSeq }),
                  },
                },
              },
              {
                Put: {
                  TableName: this.tableName,
                  Item: {
                    pk,
                    sk: turnSk(turn.jobId),
                    messageIds: ids,
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
        return {
          stored: true,
          messageIds: ids,
          messageCount: head.messageCount + turn.messages.length,
        };
      } catch (error) {
        const codes = cancellationCodes(error);
        if (codes?.[1] === "ConditionalCheckFailed") return { stored: false };
        // A stale `lastSeq` (another writer appended) or a conflicting transaction: read again.
        const retryable =
          error instanceof TransactionConflictException ||
          codes?.every((code) => RETRYABLE_APPEND_CODES.has(code)) === true;
        if (!retryable) throw error;
        if (attempt >= APPEND_ATTEMPTS) {
          throw new AppendContentionError(conversation, attempt, { cause: error });
        }
        await sleep(TRANSACTION_RETRY_BASE_MS * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
        head = await this.head(conversation);
      }
    }
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
   * `archiveRequestedAt = nowMs` only when its counter is above `highWater` and no request made
   * at or after `staleBeforeMs` is pending. One conditional UpdateItem: the step that coalesces
   * archive jobs to one per conversation at a time.
   *
   * @returns `true` when this call set the mark (the caller must then enqueue the job);
   *   `false` when the conversation is not over `highWater` or a request is already pending.
   * @throws the SDK's error for anything but the failed condition.
   */
  async markArchiveRequested(
    conversation: ConversationRef,
    options: { nowMs: number; highWater: number; staleBeforeMs: number },
  ): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.metaKey(conversation),
        UpdateExpression: "SET archiveRequestedAt = :now",
        ConditionExpression:
          "messageCount > :highWater AND (attribute_not_exists(archiveRequestedAt) OR " +
          "archiveRequestedAt < :stale)",
        ExpressionAttributeValues: {
          ":now": options.nowMs,
          ":highWater": options.highWater,
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
   * Commits an archived chunk in one transaction: deletes each message (each delete
   * conditional on the item still existing, so only the ids read are removed and none twice),
   * decrements the counter by their number, records `archivedThrough = toMessageId`, replaces
   * the running summary with the one that folds this chunk in and clears the plan, all
   * conditional on the lease still being `token`'s: a message leaves the live log only in the
   * same write that puts it into the running summary. All or nothing; at most 99
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
    chunk: {
      token: string;
      messageIds: readonly string[];
      toMessageId: string;
      nowMs: number;
      /** The running summary with this chunk folded in, written in the same transaction. */
      runningSummary: RunningSummary;
    },
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
                  "ADD messageCount :minus SET archivedThrough = :to, updatedAt = :now, " +
                  "runningSummary = :running REMOVE archivePlan",
                ConditionExpression: "archiveLease = :token",
                ExpressionAttributeValues: {
                  ":minus": -chunk.messageIds.length,
                  ":to": chunk.toMessageId,
                  ":now": chunk.nowMs,
                  ":token": chunk.token,
                  ":running": chunk.runningSummary,
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
   * Deletes the conversation's messages (BatchWriteItem, 25 per request, unprocessed items
   * resubmitted with backoff) and then META, with its running summary. Turn markers stay until
   * their TTL: they hold only job and message ids, and keep a late redelivery of an answered job
   * from storing its forgotten turn again.
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
  /** Everything archived so far, folded into one text; absent before the first commit. */
  runningSummary?: RunningSummary;
}

/** Calls of {@link ConversationStore.appendTurn}'s transaction before it gives up. */
const APPEND_ATTEMPTS = 6;
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
  const running = toRunningSummary(item.runningSummary);
  if (running) state.runningSummary = running;
  return state;
}

function toHead(item: Record<string, unknown> | undefined): ConversationHead {
  const head: ConversationHead = {
    lastSeq: Number(item?.lastSeq ?? 0),
    messageCount: Number(item?.messageCount ?? 0),
  };
  const running = toRunningSummary(item?.runningSummary);
  if (running) head.runningSummary = running;
  return head;
}

function toRunningSummary(value: unknown): RunningSummary | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const raw = value as Record<string, unknown>;
  if (typeof raw.text !== "string" || typeof raw.throughMessageId !== "string") return undefined;
  const running: RunningSummary = {
    text: raw.text,
    throughMessageId: raw.throughMessageId,
    updatedAt: Number(raw.updatedAt ?? 0),
  };
  if (typeof raw.model === "string") running.model = raw.model;
  return running;
}

/** DynamoDB's per-item cancellation codes of a cancelled transaction, else `undefined`. */
function cancellationCodes(error: unknown): string[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  return (error.CancellationReasons ?? []).map((r) => r.Code ?? "None");
}

function toStoredMessage(item: Record<string, unknown>): StoredMessage {
  const message: StoredMessage = {
    messageId: String(item.messageId),
    role: item.role === "assistant" ? "assistant" : "user",
    content: String(item.content ?? ""),
    sentAt: Number(item.sentAt ?? 0),
  };
  if (typeof item.model === "string") message.model = item.model;
  return message;
}
