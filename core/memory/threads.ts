import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { THREAD_PARTICIPATION_TTL_MS } from "../constants/timings";
import { type Platform, threadKey } from "./table/keys";
import { type TableOptions, TTL_ATTRIBUTE } from "./table/table";

/** A thread on a platform: the channel and the thread's id (Slack: the parent message's `ts`). */
export interface ThreadRef {
  platform: Platform;
  channelId: string;
  threadId: string;
}

/**
 * Which threads the agent takes part in: one item per thread (`THREAD#…` / `THREAD`, see
 * `threadKey`) whose only attribute is its TTL, so follow-ups in a thread the agent was asked in
 * are answered without a new mention (docs/architecture.md, "Storage"). DynamoDB deletes
 * expired items lazily (up to days later), so an expired mark that still exists counts as absent.
 */
export class ThreadParticipationStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly now: () => number;
  private readonly ttlMs: number;

  /**
   * @param options.now - epoch-ms clock; default `Date.now`.
   * @param options.ttlMs - how long a mark lives after the last {@link join}, ms; default
   *   `THREAD_PARTICIPATION_TTL_MS` (30 days).
   */
  constructor(options: TableOptions & { now?: () => number; ttlMs?: number }) {
    this.db = options.client;
    this.tableName = options.tableName;
    this.now = options.now ?? Date.now;
    this.ttlMs = options.ttlMs ?? THREAD_PARTICIPATION_TTL_MS;
  }

  /**
   * Records that the agent takes part in `thread`, for the TTL from now: one unconditional
   * PutItem, so a repeat (a Slack retry, a later follow-up) only extends the mark.
   * @throws the SDK's error when DynamoDB fails.
   */
  async join(thread: ThreadRef): Promise<void> {
    const expiresAt = Math.floor((this.now() + this.ttlMs) / 1000);
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...this.key(thread), [TTL_ATTRIBUTE]: expiresAt },
      }),
    );
  }

  /**
   * Whether the agent took part in `thread` within the TTL: one eventually consistent GetItem
   * (a mark written a moment ago may be missed; follow-ups come seconds after the answer).
   * @throws the SDK's error when DynamoDB fails.
   */
  async joined(thread: ThreadRef): Promise<boolean> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: this.key(thread),
        ProjectionExpression: "#ttl",
        ExpressionAttributeNames: { "#ttl": TTL_ATTRIBUTE },
      }),
    );
    const expiresAt = Item?.[TTL_ATTRIBUTE];
    return typeof expiresAt === "number" && expiresAt * 1000 > this.now();
  }

  private key(thread: ThreadRef): { pk: string; sk: string } {
    return threadKey(thread.platform, thread.channelId, thread.threadId);
  }
}
