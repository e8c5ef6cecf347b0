import type { SummaryStore } from "./summaries";
import type { LongTermIndex, SummaryHit, SummaryQuery, SummaryRecord } from "./types";
import { UserIndexCache } from "./user-index-cache";

/** Dependencies of {@link EmbeddedLongTermIndex}. */
export interface EmbeddedIndexDeps {
  /** The durable copies and their change log in DynamoDB: the source of truth. */
  summaries: SummaryStore;
  /**
   * The container's cache of per-user indexes; default a new one over `summaries`. Build the
   * index (or this cache) once per container so warm invocations reuse it.
   */
  cache?: UserIndexCache;
}

/**
 * The in-process long-term search backend, used when `ARCADEDB_URL` is unset: no server to
 * run. Searches go through a per-container {@link UserIndexCache}: one strongly consistent
 * GetItem of the user's change-log head per search when the container already holds that
 * user's index (the usual warm case), a few tiny reads more when other containers changed the
 * user's summaries since, and one full read of the user's summaries when the container has no
 * index for them yet (cold container, evicted, or log entries expired). Correct across Lambda
 * containers: a put or delete that resolved before a search started is always reflected.
 *
 * Ranking is MiniSearch's BM25+ with the options of `createSummaryIndex` (`ranking.ts`):
 * OR, prefix matching for 4+ character terms, no fuzzy matching, stop words dropped. MiniSearch
 * tokenises plain text and has no query syntax, so the user's text needs no escaping.
 *
 * User scoping is structural: only the asking user's partition is read and indexed.
 */
export class EmbeddedLongTermIndex implements LongTermIndex {
  readonly backend = "embedded" as const;
  private readonly cache: UserIndexCache;

  constructor(deps: EmbeddedIndexDeps) {
    this.cache = deps.cache ?? new UserIndexCache(deps.summaries);
  }

  /** Nothing to create: the table is provisioned with the rest of the stack. */
  async ensureReady(): Promise<void> {}

  /**
   * Nothing to do, on purpose: this backend's only durable state is the summary item, which
   * `SummaryStore.put` wrote (once) before the archiver calls this, and that put's change-log
   * entry is what makes every container's cache pick the summary up on its next search.
   * Writing the item again would double the write cost and bump the version for nothing.
   */
  async upsert(_summary: SummaryRecord): Promise<void> {}

  /**
   * Best matches among the user's summaries, best first, at most `query.limit`; empty when the
   * text has no searchable term or the limit is 0 (then nothing is read).
   * @throws the AWS SDK's error when DynamoDB fails; `SummaryItemError` for a malformed item;
   *   `SummaryReadError` when a BatchGet keeps returning unprocessed keys.
   */
  async search(query: SummaryQuery): Promise<SummaryHit[]> {
    if (query.limit <= 0) return [];
    return this.cache.search(query);
  }

  /**
   * Nothing to do, on purpose, like {@link upsert}: this backend's records are the durable
   * copies, and every caller (`/forget`, the archiver's undo) deletes them next with
   * `SummaryStore.delete`, whose logged delete drops them from every container's cache. Deleting
   * here too would log each removal twice.
   */
  async remove(_ids: readonly string[]): Promise<void> {}
}
