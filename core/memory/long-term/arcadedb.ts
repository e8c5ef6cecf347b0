/**
 * ArcadeDB long-term search backend: the `Summary` document type, its indexes and the SQL that
 * upserts, searches and deletes summaries (target ArcadeDB 26.x; the FULL_TEXT index scores with
 * BM25 from 26.7). The HTTP transport is `arcadedb-client.ts`.
 *
 * Sources: https://docs.arcadedb.com/#sql (`UPDATE … UPSERT`, `CREATE INDEX … FULL_TEXT`,
 * `SEARCH_INDEX()` and `$score`).
 */
import * as z from "zod";
import { PLATFORMS } from "../../constants/platforms";
import { once } from "../../resilience/once";
import { ArcadeDbClient, type ArcadeDbClientOptions } from "./arcadedb-client";
import { ArcadeDbError } from "./errors";
import type { LongTermIndex, SummaryHit, SummaryQuery, SummaryRecord } from "./types";

/** Document type holding the summaries. */
export const SUMMARY_TYPE = "Summary";

/** Name ArcadeDB gives the FULL_TEXT index on `Summary.text`, as `SEARCH_INDEX` expects it. */
export const SUMMARY_TEXT_INDEX = `${SUMMARY_TYPE}[text]`;

/** Properties of the `Summary` type and their ArcadeDB types (LONG = 64-bit integer). */
export const SUMMARY_PROPERTIES: ReadonlyArray<readonly [name: string, type: string]> = [
  ["id", "STRING"],
  ["platform", "STRING"],
  ["userId", "STRING"],
  ["channelId", "STRING"],
  ["text", "STRING"],
  ["fromMessageId", "STRING"],
  ["toMessageId", "STRING"],
  ["messageCount", "INTEGER"],
  ["model", "STRING"],
  ["createdAt", "LONG"],
];

/**
 * The idempotent DDL that prepares a database for summaries, in order: the document type, its
 * properties, a UNIQUE index on `id` (what makes `UPSERT WHERE id = :id` a point lookup and
 * forbids duplicates) and a FULL_TEXT index on `text` (BM25-scored in ArcadeDB 26.7+).
 */
export function schemaStatements(): string[] {
  return [
    `CREATE DOCUMENT TYPE ${SUMMARY_TYPE} IF NOT EXISTS`,
    ...SUMMARY_PROPERTIES.map(
      ([name, type]) => `CREATE PROPERTY ${SUMMARY_TYPE}.${name} IF NOT EXISTS ${type}`,
    ),
    `CREATE INDEX IF NOT EXISTS ON ${SUMMARY_TYPE} (id) UNIQUE`,
    `CREATE INDEX IF NOT EXISTS ON ${SUMMARY_TYPE} (text) FULL_TEXT`,
  ];
}

/** Upsert by id; every value travels in `params`. */
export const UPSERT_SQL = `UPDATE ${SUMMARY_TYPE} SET ${SUMMARY_PROPERTIES.map(
  ([name]) => `${name} = :${name}`,
).join(", ")} UPSERT WHERE id = :id`;

/** User-scoped BM25 search with an explicit LIMIT; the query text is a parameter. */
export const SEARCH_SQL =
  `SELECT ${SUMMARY_PROPERTIES.map(([name]) => name).join(", ")}, $score FROM ${SUMMARY_TYPE} ` +
  `WHERE SEARCH_INDEX('${SUMMARY_TEXT_INDEX}', :q) = true AND userId = :userId ` +
  "AND platform = :platform ORDER BY $score DESC LIMIT :limit";

/** Delete by a list of ids. */
export const DELETE_SQL = `DELETE FROM ${SUMMARY_TYPE} WHERE id IN :ids`;

/** Characters with a meaning in Lucene's classic query syntax (as `QueryParser.escape` lists). */
const LUCENE_SPECIAL = /[\\+\-!():^[\]"{}~*?|&/]/g;

/**
 * Turns free text into a Lucene query that matches its words literally: every special
 * character (`+ - && || ! ( ) { } [ ] ^ " ~ * ? : \ /`) is backslash-escaped and the bare
 * operators `AND`, `OR`, `NOT` are lower-cased so they become ordinary terms. Terms stay
 * space-separated, which Lucene combines with OR. Syntax:
 * https://lucene.apache.org/core/9_0_0/queryparser/org/apache/lucene/queryparser/classic/package-summary.html#Escaping_Special_Characters
 */
export function escapeLucene(text: string): string {
  return text
    .replace(LUCENE_SPECIAL, (c) => `\\${c}`)
    .replace(/\b(AND|OR|NOT)\b/g, (word) => word.toLowerCase());
}

/**
 * Most whitespace-separated words of a message that go into one search query. Lucene's query
 * parser (which `SEARCH_INDEX` uses) makes one boolean clause per word and refuses more than
 * 1024 (`IndexSearcher.getMaxClauseCount()`, `TooManyClauses`), so a long pasted message would
 * fail the search and recall would quietly bring nothing; its leading words are searched instead.
 */
export const MAX_QUERY_WORDS = 200;

/**
 * The `SEARCH_INDEX` query for a user's message: its first `maxWords` words (default
 * {@link MAX_QUERY_WORDS}), escaped with {@link escapeLucene}.
 */
export function searchQueryText(text: string, maxWords = MAX_QUERY_WORDS): string {
  const words = text.trim().split(/\s+/).filter(Boolean);
  return escapeLucene(words.slice(0, Math.max(0, maxWords)).join(" "));
}

const hitSchema = z.object({
  id: z.string(),
  platform: z.enum(PLATFORMS),
  userId: z.string(),
  channelId: z.string(),
  text: z.string(),
  fromMessageId: z.string(),
  toMessageId: z.string(),
  messageCount: z.number(),
  model: z.string().nullish(),
  createdAt: z.number(),
  $score: z.number(),
});

/** Options of {@link ArcadeDbLongTermIndex}: the client's options. */
export type ArcadeDbIndexOptions = ArcadeDbClientOptions;

/**
 * The ArcadeDB implementation of {@link LongTermIndex}. Schema setup runs once per instance
 * (memoised; a failure is not cached, so the next call tries again) and every other method
 * awaits it first, so callers cannot forget it. All user text travels in `params`; searches
 * always carry a LIMIT and a `userId` + `platform` filter.
 *
 * Every method throws {@link ArcadeDbError} on failure.
 */
export class ArcadeDbLongTermIndex implements LongTermIndex {
  readonly backend = "arcadedb" as const;
  readonly client: ArcadeDbClient;
  readonly #ready = once(() => this.#setup());

  constructor(options: ArcadeDbIndexOptions) {
    this.client = new ArcadeDbClient(options);
  }

  /**
   * Waits for `/ready`, creates the database when `/exists` says it is missing (tolerating a
   * concurrent creator), then runs {@link schemaStatements}. Idempotent.
   */
  ensureReady(): Promise<void> {
    return this.#ready();
  }

  /** `UPDATE Summary SET … UPSERT WHERE id = :id`: one record per id however often it runs. */
  async upsert(summary: SummaryRecord): Promise<void> {
    await this.ensureReady();
    await this.client.command(UPSERT_SQL, {
      id: summary.id,
      platform: summary.platform,
      userId: summary.userId,
      channelId: summary.channelId,
      text: summary.text,
      fromMessageId: summary.fromMessageId,
      toMessageId: summary.toMessageId,
      messageCount: summary.messageCount,
      model: summary.model ?? null,
      createdAt: summary.createdAt,
    });
  }

  /**
   * BM25 search of the user's summaries, best first (`$score` descending), over the first
   * {@link MAX_QUERY_WORDS} words of the text. Returns `[]` without a request when the text has
   * no letter or digit to search for.
   * @throws {ArcadeDbError} `invalid_response` when a returned record lacks a summary field.
   */
  async search(query: SummaryQuery): Promise<SummaryHit[]> {
    if (query.limit <= 0 || !/[\p{L}\p{N}]/u.test(query.text)) return [];
    await this.ensureReady();
    const rows = await this.client.command(SEARCH_SQL, {
      q: searchQueryText(query.text),
      userId: query.userId,
      platform: query.platform,
      limit: Math.floor(query.limit),
    });
    return rows.map((row) => toHit(row));
  }

  /** `DELETE FROM Summary WHERE id IN :ids`; ids that do not exist are ignored. */
  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.ensureReady();
    await this.client.command(DELETE_SQL, { ids: [...ids] });
  }

  async #setup(): Promise<void> {
    await this.client.ready();
    if (!(await this.client.databaseExists())) {
      try {
        await this.client.createDatabase();
      } catch (error) {
        // Two containers starting together both see "missing"; the loser's create fails but
        // the database it wanted now exists.
        if (!(await this.client.databaseExists())) throw error;
      }
    }
    for (const statement of schemaStatements()) await this.client.command(statement);
  }
}

function toHit(row: unknown): SummaryHit {
  const parsed = hitSchema.safeParse(row);
  if (!parsed.success) {
    throw new ArcadeDbError({
      kind: "invalid_response",
      status: 200,
      operation: "search",
      detail: "a result row is not a summary record",
      cause: parsed.error,
    });
  }
  const { $score, model, ...rest } = parsed.data;
  const summary: SummaryRecord = { ...rest };
  if (typeof model === "string") summary.model = model;
  return { summary, score: $score };
}
