import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from "@aws-sdk/lib-dynamodb";
import { KNOWLEDGE_PK, KNOWLEDGE_SK_PREFIX } from "./table/keys";
import type { TableOptions } from "./table/table";

/** One entry of the shared knowledge base. `updatedAt` is epoch milliseconds. */
export interface KnowledgeEntry {
  key: string;
  value: string;
  updatedAt: number;
  /** Who wrote it, e.g. `slack:U123` or a KĀDI agent id. */
  author?: string;
}

/** Largest value accepted, in bytes of UTF-8; DynamoDB items are capped at 400 KB. */
export const MAX_KNOWLEDGE_VALUE_BYTES = 64 * 1024;

/** Thrown by {@link KnowledgeStore.put} for an empty key or an oversized value. */
export class KnowledgeValidationError extends Error {
  override readonly name = "KnowledgeValidationError";
}

/** Knowledge shared by every user of the agent (`KNOWLEDGE` / `ENTRY#{key}`). */
export class KnowledgeStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: TableOptions) {
    this.db = options.client;
    this.tableName = options.tableName;
  }

  /** The entry under `key`, or `undefined`. @throws the SDK's error when DynamoDB fails. */
  async get(key: string): Promise<KnowledgeEntry | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(key), ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const entry: KnowledgeEntry = {
      key,
      value: String(out.Item.value),
      updatedAt: Number(out.Item.updatedAt),
    };
    if (typeof out.Item.author === "string") entry.author = out.Item.author;
    return entry;
  }

  /**
   * Stores or replaces an entry.
   * @throws {KnowledgeValidationError} for an empty key or a value over
   *   {@link MAX_KNOWLEDGE_VALUE_BYTES}.
   */
  async put(entry: Omit<KnowledgeEntry, "updatedAt">): Promise<KnowledgeEntry> {
    if (!entry.key.trim()) throw new KnowledgeValidationError("knowledge key must not be empty");
    const bytes = Buffer.byteLength(entry.value, "utf8");
    if (bytes > MAX_KNOWLEDGE_VALUE_BYTES) {
      throw new KnowledgeValidationError(
        `knowledge value is ${bytes} bytes; the limit is ${MAX_KNOWLEDGE_VALUE_BYTES}`,
      );
    }
    const stored: KnowledgeEntry = { ...entry, updatedAt: Date.now() };
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: { ...this.key(entry.key), ...stored } }),
    );
    return stored;
  }

  /** Deletes an entry; deleting an absent key is not an error. @throws the SDK's error. */
  async delete(key: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: this.key(key) }));
  }

  private key(key: string) {
    return { pk: KNOWLEDGE_PK, sk: `${KNOWLEDGE_SK_PREFIX}${key}` };
  }
}
