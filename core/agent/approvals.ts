/**
 * Pending approvals of risky tool calls (docs/architecture.md, "The agent turn"): one item per
 * paused call on the single table (`approvalKey`: `APPROVAL#{approvalId}` / `APPROVAL`), with
 * the paused loop, the original job and a status that only moves forward through conditional
 * writes:
 *
 * ```
 * pending ──decide──► approved ──claimRun──► running ──finish──► done
 *    │    └─decide──► denied
 *    └──────expire──► expired
 * ```
 *
 * Every expected state (a second click, the wrong person, a late click) comes back as a typed
 * result, never as an exception: the ingress answers each with a sentence to the clicker.
 */
import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { APPROVAL_ITEM_MAX_BYTES } from "../constants/limits";
import type { Platform } from "../constants/platforms";
import { APPROVAL_RECORD_GRACE_MS } from "../constants/timings";
import { sendConditional } from "../memory/table/dynamo";
import { approvalKey } from "../memory/table/keys";
import { type TableOptions, TTL_ATTRIBUTE } from "../memory/table/table";
import type { PausedLoop, ToolCallRecord } from "./types";

/** Where a pending approval stands; see the module comment for the transitions. */
export type ApprovalStatus = "pending" | "approved" | "denied" | "expired" | "running" | "done";

/** What the person decided with a button. */
export type ApprovalDecision = "approve" | "deny";

/** One pending (or settled) approval as stored. */
export interface ApprovalRecord {
  /** Key of the approval; the only thing the buttons carry. */
  approvalId: string;
  /** The original chat job's id (the turn that paused). */
  jobId: string;
  /** The original `ChatJob`'s JSON, opaque here: the resume job takes its conversation and reply. */
  job: string;
  /** Platform user id of the person who asked: the only one who may decide. */
  requesterUserId: string;
  platform: Platform;
  /** The tool's name as the broker advertises it. */
  toolName: string;
  /** One line saying what will run, secrets redacted. */
  summary: string;
  /** Platform id of the message with the buttons, once posted (Slack `ts`, Discord message id). */
  promptMessageId?: string;
  /** The loop to resume (stored as JSON). */
  loop: PausedLoop;
  status: ApprovalStatus;
  /** Platform user id of who decided, once decided. */
  decidedBy?: string;
  /** How the approved call ended, once `done`. */
  outcome?: ToolCallRecord["outcome"];
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms after which a click counts as expired. */
  expiresAt: number;
}

/** What {@link ApprovalStore.create} takes: the record without its status (always `pending`). */
export type NewApproval = Omit<
  ApprovalRecord,
  "approvalId" | "status" | "decidedBy" | "outcome" | "promptMessageId"
> & { approvalId?: string; promptMessageId?: string };

/** Why a decision (or an expiry) was not taken. */
export type DecideRefusal =
  | { ok: false; reason: "not_found" }
  /** Someone other than the requester clicked. */
  | { ok: false; reason: "not_requester"; status: ApprovalStatus }
  /** Already approved, denied, running or done. */
  | { ok: false; reason: "already_decided"; status: ApprovalStatus }
  /** Past `expiresAt` (even if the TTL sweeper has not deleted it), or already expired. */
  | { ok: false; reason: "expired"; status: ApprovalStatus };

/** What {@link ApprovalStore.decide} gives: the approval as decided, or why not. */
export type DecideResult = { ok: true; approval: ApprovalRecord } | DecideRefusal;

/** What {@link ApprovalStore.expire} gives. */
export type ExpireResult =
  | { ok: true; approval: ApprovalRecord }
  | { ok: false; reason: "not_found" }
  /** `expiresAt` is still ahead (a delay capped at SQS's 900 s): schedule the rest. */
  | { ok: false; reason: "not_due"; approval: ApprovalRecord }
  /** Decided (or expired) before: it stays as it is. */
  | { ok: false; reason: "already_decided"; status: ApprovalStatus };

/** The paused loop and job are too big for one DynamoDB item; nothing was written. */
export class ApprovalTooLargeError extends Error {
  override readonly name = "ApprovalTooLargeError";
  constructor(
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(`pending approval is ${bytes} bytes, over the ${limitBytes}-byte limit`);
  }
}

/**
 * The pending approvals on the single table. Reads are consistent: a click can follow the
 * write of its prompt within the second.
 */
export class ApprovalStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly now: () => number;

  /** @param options.now - epoch-ms clock of `createdAt`; default `Date.now`. */
  constructor(options: TableOptions & { now?: () => number }) {
    this.db = options.client;
    this.tableName = options.tableName;
    this.now = options.now ?? Date.now;
  }

  /**
   * Stores a new `pending` approval under `approvalId` (a random UUID when not given), with a
   * TTL of `expiresAt` + `APPROVAL_RECORD_GRACE_MS` (epoch seconds in `TTL_ATTRIBUTE`), so the
   * delayed expiry job still finds it. Idempotent for a given id: a redelivered turn that
   * pauses again gets the stored approval back with `created: false`.
   * @throws {ApprovalTooLargeError} when the loop, job and summary exceed
   *   `APPROVAL_ITEM_MAX_BYTES` (350 000 bytes; DynamoDB's item limit is 400 KB).
   * @throws the SDK's error when DynamoDB fails.
   */
  async create(record: NewApproval): Promise<{ created: boolean; approval: ApprovalRecord }> {
    const approvalId = record.approvalId ?? randomUUID();
    const loop = JSON.stringify(record.loop);
    const bytes =
      Buffer.byteLength(loop, "utf8") +
      Buffer.byteLength(record.job, "utf8") +
      Buffer.byteLength(record.summary, "utf8");
    if (bytes > APPROVAL_ITEM_MAX_BYTES) {
      throw new ApprovalTooLargeError(bytes, APPROVAL_ITEM_MAX_BYTES);
    }
    const approval: ApprovalRecord = { ...record, approvalId, status: "pending" };
    const written = await sendConditional(
      this.db,
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...approvalKey(approvalId),
          ...toItem(approval),
          loop,
          [TTL_ATTRIBUTE]: Math.ceil((record.expiresAt + APPROVAL_RECORD_GRACE_MS) / 1000),
        },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
    if (written) return { created: true, approval };
    const existing = await this.get(approvalId);
    // Deleted between the two calls (its TTL passed): nothing sensible is left to resume.
    if (!existing) throw new Error(`approval ${approvalId} vanished while being created`);
    return { created: false, approval: existing };
  }

  /**
   * Records the platform id of the message with the buttons.
   * @returns `false` when no such approval exists.
   * @throws the SDK's error when DynamoDB fails.
   */
  async setPromptMessage(approvalId: string, messageId: string): Promise<boolean> {
    return sendConditional(
      this.db,
      new UpdateCommand({
        TableName: this.tableName,
        Key: approvalKey(approvalId),
        UpdateExpression: "SET promptMessageId = :m",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":m": messageId },
      }),
    );
  }

  /**
   * The approval, or `undefined` when there is none (never created, or deleted by its TTL).
   * @throws the SDK's error when DynamoDB fails; a `SyntaxError` for a corrupt stored loop.
   */
  async get(approvalId: string): Promise<ApprovalRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: approvalKey(approvalId),
        ConsistentRead: true,
      }),
    );
    return Item ? fromItem(Item) : undefined;
  }

  /**
   * The person's Approve or Deny: `pending` → `approved` / `denied`, in one conditional write,
   * only by the requester and only before `expiresAt` (`nowMs < expiresAt`). Of any number of
   * concurrent clicks exactly one is `ok`.
   * @throws the SDK's error when DynamoDB fails.
   */
  async decide(
    approvalId: string,
    click: { userId: string; decision: ApprovalDecision },
    nowMs: number,
  ): Promise<DecideResult> {
    const status: ApprovalStatus = click.decision === "approve" ? "approved" : "denied";
    const updated = await this.transition(approvalId, {
      update: "SET #status = :to, decidedBy = :user",
      condition: "#status = :pending AND requesterUserId = :user AND expiresAtMs > :now",
      values: { ":to": status, ":pending": "pending", ":user": click.userId, ":now": nowMs },
    });
    if (updated) return { ok: true, approval: updated };
    const current = await this.get(approvalId);
    if (!current) return { ok: false, reason: "not_found" };
    if (current.requesterUserId !== click.userId) {
      return { ok: false, reason: "not_requester", status: current.status };
    }
    if (
      current.status === "expired" ||
      (current.status === "pending" && nowMs >= current.expiresAt)
    ) {
      return { ok: false, reason: "expired", status: current.status };
    }
    return { ok: false, reason: "already_decided", status: current.status };
  }

  /**
   * Takes back a decision whose resume job could not be enqueued (`approved` / `denied` →
   * `pending`), so the person can click again; a run already claimed is never taken back.
   * @returns `false` when it was not `approved` or `denied`.
   * @throws the SDK's error when DynamoDB fails.
   */
  async reopen(approvalId: string): Promise<boolean> {
    const updated = await this.transition(approvalId, {
      update: "SET #status = :pending REMOVE decidedBy",
      condition: "#status IN (:approved, :denied)",
      values: { ":pending": "pending", ":approved": "approved", ":denied": "denied" },
    });
    return updated !== undefined;
  }

  /**
   * The delayed expiry: `pending` → `expired` once `nowMs >= expiresAt`. A decided approval
   * stays decided.
   * @throws the SDK's error when DynamoDB fails.
   */
  async expire(approvalId: string, nowMs: number): Promise<ExpireResult> {
    const updated = await this.transition(approvalId, {
      update: "SET #status = :expired",
      condition: "#status = :pending AND expiresAtMs <= :now",
      values: { ":expired": "expired", ":pending": "pending", ":now": nowMs },
    });
    if (updated) return { ok: true, approval: updated };
    const current = await this.get(approvalId);
    if (!current) return { ok: false, reason: "not_found" };
    if (current.status === "pending") return { ok: false, reason: "not_due", approval: current };
    return { ok: false, reason: "already_decided", status: current.status };
  }

  /**
   * Claims the run of an approved call: `approved` → `running`. `true` exactly once, however
   * many resume jobs (a redelivery) try: only the one that gets `true` runs the tool.
   * @throws the SDK's error when DynamoDB fails.
   */
  async claimRun(approvalId: string): Promise<boolean> {
    const updated = await this.transition(approvalId, {
      update: "SET #status = :running",
      condition: "#status = :approved",
      values: { ":running": "running", ":approved": "approved" },
    });
    return updated !== undefined;
  }

  /**
   * Records how the claimed run ended: `running` → `done`.
   * @returns `false` when it was not `running`.
   * @throws the SDK's error when DynamoDB fails.
   */
  async finish(approvalId: string, outcome: ToolCallRecord["outcome"]): Promise<boolean> {
    const updated = await this.transition(approvalId, {
      update: "SET #status = :done, outcome = :outcome",
      condition: "#status = :running",
      values: { ":done": "done", ":running": "running", ":outcome": outcome },
    });
    return updated !== undefined;
  }

  /** One conditional UpdateItem; the item after it, or `undefined` when the condition failed. */
  private async transition(
    approvalId: string,
    change: { update: string; condition: string; values: Record<string, unknown> },
  ): Promise<ApprovalRecord | undefined> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: approvalKey(approvalId),
          UpdateExpression: change.update,
          ConditionExpression: `attribute_exists(pk) AND ${change.condition}`,
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: change.values,
          ReturnValues: "ALL_NEW",
        }),
      );
      return Attributes ? fromItem(Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}

/** The record's attributes as stored (`expiresAt` in ms is `expiresAtMs`: the TTL owns the name). */
function toItem(record: ApprovalRecord): Record<string, unknown> {
  const { expiresAt, loop: _loop, ...rest } = record;
  return { ...rest, expiresAtMs: expiresAt };
}

function fromItem(item: Record<string, unknown>): ApprovalRecord {
  const {
    pk: _pk,
    sk: _sk,
    [TTL_ATTRIBUTE]: _ttl,
    expiresAtMs,
    loop,
    ...rest
  } = item as Record<string, unknown> & { expiresAtMs: number; loop: string };
  return {
    ...(rest as Omit<ApprovalRecord, "expiresAt" | "loop">),
    expiresAt: expiresAtMs,
    loop: JSON.parse(loop),
  };
}
