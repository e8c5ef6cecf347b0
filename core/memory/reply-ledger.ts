import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { REPLY_IDEMPOTENCY_TTL_MS } from "../constants/timings";
import type { ReplyLedger } from "../reply/live-reply";
import { replyLedgerKey } from "./table/keys";
import { type TableOptions, TTL_ATTRIBUTE } from "./table/table";

/** How long a job's reply ledger is kept, seconds: as long as its reply idempotency record. */
const REPLY_LEDGER_TTL_SECONDS = REPLY_IDEMPOTENCY_TTL_MS / 1000;

/**
 * The {@link ReplyLedger} on the single table: one item per job (`replyLedgerKey`) holding
 * `messageIds`, written before text is added to a new message, so a redelivered job (after a
 * crash mid-stream, in any container) edits its messages instead of posting again
 * (docs/architecture.md, "Live replies"). Reads are consistent: a redelivery can follow a
 * write within the second.
 */
export class ReplyLedgerStore implements ReplyLedger {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly now: () => number;

  /** @param options.now - epoch-ms clock of the TTL; default `Date.now`. */
  constructor(options: TableOptions & { now?: () => number }) {
    this.db = options.client;
    this.tableName = options.tableName;
    this.now = options.now ?? Date.now;
  }

  /** @inheritdoc */
  async read(jobId: string): Promise<string[]> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: replyLedgerKey(jobId),
        ConsistentRead: true,
      }),
    );
    const ids: unknown = Item?.messageIds;
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === "string") : [];
  }

  /** @inheritdoc */
  async write(jobId: string, messageIds: string[]): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...replyLedgerKey(jobId),
          messageIds,
          [TTL_ATTRIBUTE]: Math.floor(this.now() / 1000) + REPLY_LEDGER_TTL_SECONDS,
        },
      }),
    );
  }
}
