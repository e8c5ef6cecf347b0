import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { dedupeKey } from "./table/keys";
import { type TableOptions, TTL_ATTRIBUTE } from "./table/table";

/** How long a dedupe mark lives. Slack retries within about an hour; a day is generous. */
export const DEFAULT_DEDUPE_TTL_SECONDS = 24 * 60 * 60;

/**
 * First-writer-wins marks for inbound event ids (Slack `event_id`, Discord interaction id),
 * with a TTL so the table does not grow. DynamoDB deletes expired items lazily (up to days
 * later), so an expired mark that still exists is treated as absent.
 */
export class DedupeStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly now: () => number;

  /** @param options.now - epoch-ms clock that decides whether a mark expired; default `Date.now`. */
  constructor(options: TableOptions & { now?: () => number }) {
    this.db = options.client;
    this.tableName = options.tableName;
    this.now = options.now ?? Date.now;
  }

  /**
   * Records `id` under `scope` if no live mark exists.
   * @param ttlSeconds - lifetime of the mark in seconds.
   * @returns `true` for the first claim, `false` for a duplicate.
   * @throws the SDK's error for anything but the failed condition.
   */
  async claim(
    scope: string,
    id: string,
    ttlSeconds = DEFAULT_DEDUPE_TTL_SECONDS,
  ): Promise<boolean> {
    const nowSeconds = Math.floor(this.now() / 1000);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...dedupeKey(scope, id), [TTL_ATTRIBUTE]: nowSeconds + ttlSeconds },
          ConditionExpression: "attribute_not_exists(pk) OR #ttl < :now",
          ExpressionAttributeNames: { "#ttl": TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ":now": nowSeconds },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Drops a mark, so that a retry of an event we failed to enqueue is accepted again.
   * @throws the SDK's error when DynamoDB fails.
   */
  async release(scope: string, id: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: dedupeKey(scope, id) }));
  }
}

/** What became of {@link runOnce}. */
export type OnceOutcome<T> =
  | { status: "done"; value: T }
  /** The id was claimed before (by an earlier delivery); `work` did not run. */
  | { status: "duplicate" }
  /** The dedupe store failed; `work` did not run and nothing was claimed. */
  | { status: "claim_failed"; error: unknown }
  /**
   * `work` threw; the mark was released so a redelivery is taken, unless `releaseError` says
   * the release failed too (then redeliveries of this id are dropped until the mark expires).
   */
  | { status: "work_failed"; error: unknown; releaseError?: unknown };

/**
 * Claims `scope`/`id` with a conditional write and runs `work` only for the first claim. If
 * `work` fails the mark is released, so the platform's retry (Slack's `X-Slack-Retry-Num`, a
 * broker redelivery, a re-run command) is accepted instead of acked blind. Never throws: every
 * failure comes back as an {@link OnceOutcome} for the caller to log and map to its answer.
 */
export async function runOnce<T>(
  dedupe: Pick<DedupeStore, "claim" | "release">,
  scope: string,
  id: string,
  work: () => Promise<T>,
): Promise<OnceOutcome<T>> {
  try {
    if (!(await dedupe.claim(scope, id))) return { status: "duplicate" };
  } catch (error) {
    return { status: "claim_failed", error };
  }
  try {
    return { status: "done", value: await work() };
  } catch (error) {
    try {
      await dedupe.release(scope, id);
      return { status: "work_failed", error };
    } catch (releaseError) {
      return { status: "work_failed", error, releaseError };
    }
  }
}
