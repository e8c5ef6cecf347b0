import type { Config } from "../../config";
import { type ArcadeDbClientOptions, ArcadeDbLongTermIndex } from "./arcadedb";
import { EmbeddedLongTermIndex } from "./embedded";
import type { SummaryStore } from "./summaries";
import type { LongTermIndex } from "./types";

/** What {@link createLongTermIndex} needs besides the config. */
export interface LongTermIndexDeps {
  /** Durable summary copies: the embedded backend's only state. */
  summaries: SummaryStore;
  /** ArcadeDB client tuning (timeouts, retries, injected fetch) for tests and benchmarks. */
  arcadedb?: Omit<ArcadeDbClientOptions, "url" | "username" | "password">;
}

/**
 * The long-term search backend for this configuration: ArcadeDB over HTTP when `ARCADEDB_URL`
 * is set (`config.arcadedb.url`), else the embedded BM25 search over the durable copies.
 * Builds objects only; no I/O until a method is called.
 */
export function createLongTermIndex(
  config: Pick<Config, "arcadedb">,
  deps: LongTermIndexDeps,
): LongTermIndex {
  const { url, username, password } = config.arcadedb;
  if (!url) return new EmbeddedLongTermIndex({ summaries: deps.summaries });
  return new ArcadeDbLongTermIndex({ ...deps.arcadedb, url, username, password });
}

export { ArcadeDbError, LongTermIndexError, SummaryItemError } from "./errors";
export { SummaryStore, summaryId } from "./summaries";
export type { LongTermIndex, SummaryHit, SummaryQuery, SummaryRecord } from "./types";
