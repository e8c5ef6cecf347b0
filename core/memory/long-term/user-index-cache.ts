import type MiniSearch from "minisearch";
import type { Platform } from "../table/keys";
import { createSummaryIndex, searchSummaryIndex } from "./ranking";
import type { SummaryStore } from "./summaries";
import type { SummaryHit, SummaryQuery, SummaryRecord } from "./types";

/** Default bound of {@link UserIndexCache}: users kept. */
export const DEFAULT_MAX_CACHED_USERS = 500;
/**
 * Default bound of {@link UserIndexCache}: summaries kept over all users. A ~100-word summary
 * costs about 4–4.5 KB of heap with its record and index postings (`bench/memory-recall.ts`
 * measured 4.3 KB at 5000 summaries), so 10,000 take about 45 MB of the chat worker's 1 GB.
 */
export const DEFAULT_MAX_CACHED_DOCUMENTS = 10_000;

/** Bounds of {@link UserIndexCache}. */
export interface UserIndexCacheOptions {
  /** Most users kept; default {@link DEFAULT_MAX_CACHED_USERS}. */
  maxUsers?: number;
  /** Most summaries kept over all users; default {@link DEFAULT_MAX_CACHED_DOCUMENTS}. */
  maxDocuments?: number;
}

/** One user's in-memory index and the change-log version it reflects. */
interface Entry {
  version: number;
  index: MiniSearch<SummaryRecord>;
  byId: Map<string, SummaryRecord>;
}

/**
 * Per-container cache of per-user MiniSearch indexes over the durable summaries, kept current
 * through the user's change log (`summary-log.ts`). Build one per container (composition root)
 * and keep it for the container's life; it holds no module-level state.
 *
 * Each search first reads the user's head version (one strongly consistent GetItem, 1 RCU):
 * - equal to the cached version: search in memory, nothing else is read;
 * - newer: Query the log entries cached+1..head, BatchGet the summaries they put, drop the ids
 *   they delete (last change per id wins), then search;
 * - no cached index, a gap in the log (entries expired by TTL), or a head older than the cache
 *   (head item recreated): rebuild from `listForUser` (reads every summary once).
 * The head is read before anything else, so the index always reflects at least that version:
 * a put or delete that resolved before the search began is always seen.
 *
 * Bounded LRU: least recently searched users are dropped beyond `maxUsers` users or
 * `maxDocuments` summaries (the user being searched is always kept, even if larger). Searches
 * of the same user run one after another, so log changes are applied in order.
 */
export class UserIndexCache {
  private readonly entries = new Map<string, Entry>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly maxUsers: number;
  private readonly maxDocuments: number;

  constructor(
    private readonly summaries: SummaryStore,
    options: UserIndexCacheOptions = {},
  ) {
    this.maxUsers = options.maxUsers ?? DEFAULT_MAX_CACHED_USERS;
    this.maxDocuments = options.maxDocuments ?? DEFAULT_MAX_CACHED_DOCUMENTS;
  }

  /**
   * Best matches among the user's summaries, best first, at most `query.limit`.
   * @throws the AWS SDK's error when DynamoDB fails; `SummaryItemError` for a malformed summary
   *   or log item; `SummaryReadError` when a BatchGet keeps returning unprocessed keys.
   */
  async search(query: SummaryQuery): Promise<SummaryHit[]> {
    const entry = await this.serialize(cacheKey(query.platform, query.userId), () =>
      this.sync(query.platform, query.userId),
    );
    return searchSummaryIndex(entry.index, entry.byId, query);
  }

  /** Users and summaries currently held, for tests and the benchmark. */
  size(): { users: number; documents: number } {
    let documents = 0;
    for (const entry of this.entries.values()) documents += entry.byId.size;
    return { users: this.entries.size, documents };
  }

  private async sync(platform: Platform, userId: string): Promise<Entry> {
    const key = cacheKey(platform, userId);
    const head = await this.summaries.headVersion(platform, userId);
    const cached = this.entries.get(key);
    if (cached && cached.version === head) return this.keep(key, cached);
    if (cached && cached.version < head) {
      const changes = await this.summaries.changes(platform, userId, cached.version + 1, head);
      if (changes) {
        const last = new Map<string, "put" | "delete">();
        for (const change of changes) {
          if (change.op === "put") last.set(change.id, "put");
          else for (const id of change.ids) last.set(id, "delete");
        }
        const wanted = [...last].filter(([, op]) => op === "put").map(([id]) => id);
        const fetched =
          wanted.length > 0 ? await this.summaries.getMany(platform, userId, wanted) : [];
        const found = new Map(fetched.map((r) => [r.id, r]));
        // A put whose summary is gone was deleted after the head was read; its delete entry is
        // in the log already and the next search applies it, so dropping it now is equivalent.
        for (const id of last.keys()) {
          if (cached.index.has(id)) cached.index.discard(id);
          cached.byId.delete(id);
          const record = found.get(id);
          if (record) {
            cached.index.add(record);
            cached.byId.set(id, record);
          }
        }
        cached.version = head;
        return this.keep(key, cached);
      }
    }
    const records = await this.summaries.listForUser(platform, userId);
    const index = createSummaryIndex();
    index.addAll(records);
    return this.keep(key, { version: head, index, byId: new Map(records.map((r) => [r.id, r])) });
  }

  /** Marks `key` most recently used (re-inserting it if evicted meanwhile), then evicts. */
  private keep(key: string, entry: Entry): Entry {
    this.entries.delete(key);
    this.entries.set(key, entry);
    let { users, documents } = this.size();
    for (const [oldest, victim] of this.entries) {
      if (oldest === key || (users <= this.maxUsers && documents <= this.maxDocuments)) break;
      this.entries.delete(oldest);
      users--;
      documents -= victim.byId.size;
    }
    return entry;
  }

  private serialize<T>(key: string, task: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(key) ?? Promise.resolve()).then(task);
    // The chain only orders the tasks; each caller still receives its own task's error.
    const tail = run.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }
}

function cacheKey(platform: Platform, userId: string): string {
  return `${platform}#${userId}`;
}
