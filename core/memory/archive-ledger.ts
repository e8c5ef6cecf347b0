import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { type RunningSummary, toRunningSummary } from "./conversation-items";
import { cancellationCodes, sendConditional, sendTransaction } from "./table/dynamo";
import { type ConversationRef, conversationMetaKey, conversationPk, messageSk } from "./table/keys";
import type { TableOptions } from "./table/table";

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

/**
 * The archive ledger: the archival bookkeeping on a conversation's META item (pending request,
 * archiver lease, recorded plan, `archivedThrough`, running summary), always changed with
 * conditional writes, and the commit that removes an archived chunk from the message log. The
 * protocol (coalesced requests, lease, fencing, plan resumption) is described in
 * `docs/architecture.md` (Memory lifecycle); `archiver.ts` drives it.
 */
export class ArchiveLedger {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: TableOptions) {
    this.db = options.client;
    this.tableName = options.tableName;
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
    return this.updateMeta(conversation, {
      update: "SET archiveRequestedAt = :now",
      condition:
        "messageCount > :highWater AND (attribute_not_exists(archiveRequestedAt) OR " +
        "archiveRequestedAt < :stale)",
      values: {
        ":now": options.nowMs,
        ":highWater": options.highWater,
        ":stale": options.staleBeforeMs,
      },
    });
  }

  /**
   * Clears the mark set by {@link markArchiveRequested} at `requestedAt` (when enqueueing the
   * job failed), so the next turn can request again; a newer mark is left alone.
   * @throws the SDK's error for anything but the failed condition.
   */
  async clearArchiveRequest(conversation: ConversationRef, requestedAt: number): Promise<void> {
    await this.updateMeta(conversation, {
      update: "REMOVE archiveRequestedAt",
      condition: "archiveRequestedAt = :at",
      values: { ":at": requestedAt },
    });
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
        Key: conversationMetaKey(conversation),
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
          Key: conversationMetaKey(conversation),
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
    return this.updateMeta(conversation, {
      update: "SET archiveLeaseUntil = :until",
      condition: "archiveLease = :token",
      values: { ":token": token, ":until": nowMs + leaseMs },
    });
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
    return this.updateMeta(conversation, {
      update: plan ? "SET archivePlan = :plan" : "REMOVE archivePlan",
      condition: "archiveLease = :token",
      values: { ":token": token, ...(plan ? { ":plan": plan } : {}) },
    });
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
    return this.updateMeta(conversation, {
      update: `REMOVE ${remove.join(", ")}`,
      condition: "archiveLease = :token",
      values: { ":token": token },
    });
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
      await sendTransaction(
        this.db,
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: conversationMetaKey(conversation),
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
      const reasons = cancellationCodes(error);
      if (reasons?.includes("ConditionalCheckFailed")) return { committed: false, reasons };
      throw error;
    }
  }

  /** A conditional UpdateItem on META; `false` when its condition failed. */
  private updateMeta(
    conversation: ConversationRef,
    expression: { update: string; condition: string; values: Record<string, unknown> },
  ): Promise<boolean> {
    return sendConditional(
      this.db,
      new UpdateCommand({
        TableName: this.tableName,
        Key: conversationMetaKey(conversation),
        UpdateExpression: expression.update,
        ConditionExpression: expression.condition,
        ExpressionAttributeValues: expression.values,
      }),
    );
  }
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
