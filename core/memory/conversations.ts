import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
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
 * context is one Query.
 */
export class ConversationStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Stores a message and increments the conversation's counter in one transaction. The put is
   * conditional on the id being new, so replaying the same message (a redelivered job with a
   * deterministic id) stores nothing and leaves the counter alone.
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
      await this.db.send(
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
