import type { Platform } from "../table/keys";

/**
 * One archived-conversation summary: the unit the long-term search backends index. The durable
 * copy lives in DynamoDB (`pk = USER#{platform}#{userId}`, `sk = SUMMARY#{id}`); the backends
 * (ArcadeDB or the embedded BM25 index) are rebuildable projections of those copies.
 */
export interface SummaryRecord {
  /**
   * Deterministic id: derived from the conversation and the last archived message id, so a
   * retried archive job upserts the same record instead of adding a second one.
   */
  id: string;
  platform: Platform;
  /** Owner of the conversation; every search is scoped to one user. */
  userId: string;
  channelId: string;
  /** The LLM-written summary, plain text. */
  text: string;
  /** First and last archived message ids (the conversation's zero-padded sequence numbers), inclusive. */
  fromMessageId: string;
  toMessageId: string;
  /** Number of messages the summary replaced. */
  messageCount: number;
  /** Model that wrote the summary. */
  model?: string;
  /** When the summary was written, epoch ms. */
  createdAt: number;
}

/** A search hit: the record and the backend's relevance score (higher is better; BM25). */
export interface SummaryHit {
  summary: SummaryRecord;
  score: number;
}

/** A query against one user's summaries. */
export interface SummaryQuery {
  platform: Platform;
  userId: string;
  /** Free text of the user's new message; backends escape any query syntax in it. */
  text: string;
  /** Most hits to return (always sent as an explicit LIMIT). */
  limit: number;
}

/**
 * The long-term search backend: ArcadeDB over HTTP (`arcadedb.ts`) when `ARCADEDB_URL` is set,
 * else in-process BM25 over the durable copies (`embedded.ts`). Implementations throw typed
 * errors on failure (never return partial success silently); the archiver lets those throw so
 * SQS retries the job.
 */
export interface LongTermIndex {
  /** `arcadedb` or `embedded`, for logs and `/health`. */
  readonly backend: "arcadedb" | "embedded";
  /** Creates the database and schema if missing; idempotent. */
  ensureReady(): Promise<void>;
  /** Inserts or replaces the record with `summary.id`; idempotent. */
  upsert(summary: SummaryRecord): Promise<void>;
  /** Best matches of `query.text` among that user's summaries only, best first. */
  search(query: SummaryQuery): Promise<SummaryHit[]>;
  /**
   * Removes records by id from the index; missing ids are ignored. Callers (`/forget`, the
   * archiver's undo) delete the durable copies with `SummaryStore.delete` right after.
   */
  remove(ids: readonly string[]): Promise<void>;
}
