import { ArcadeDbLongTermIndex } from "./arcadedb";
import type { ArcadeDbClientOptions } from "./arcadedb-client";
import { EmbeddedLongTermIndex } from "./embedded";
import type { SummaryStore } from "./summaries";
import type { LongTermIndex } from "./types";

/**
 * Which backend to build: the `ARCADEDB_URL`, `ARCADEDB_USERNAME` and `ARCADEDB_PASSWORD`
 * settings (the application's `Config` has this shape, so it can be passed as is).
 */
export interface LongTermIndexSettings {
  arcadedb: {
    /** `http://host:2480/{database}`; unset selects the embedded backend. */
    url?: string;
    username: string;
    password?: string;
  };
}

/** What {@link createLongTermIndex} needs besides the settings. */
export interface LongTermIndexDeps {
  /** Durable summary copies: the embedded backend's only state. */
  summaries: SummaryStore;
  /** ArcadeDB client tuning (timeouts, retries, injected fetch) for tests and benchmarks. */
  arcadedb?: Omit<ArcadeDbClientOptions, "url" | "username" | "password">;
}

/**
 * The long-term search backend for this configuration: ArcadeDB over HTTP when `ARCADEDB_URL`
 * is set (`settings.arcadedb.url`), else the embedded BM25 search over the durable copies.
 * Builds objects only; no I/O until a method is called.
 */
export function createLongTermIndex(
  settings: LongTermIndexSettings,
  deps: LongTermIndexDeps,
): LongTermIndex {
  const { url, username, password } = settings.arcadedb;
  if (!url) return new EmbeddedLongTermIndex({ summaries: deps.summaries });
  return new ArcadeDbLongTermIndex({ ...deps.arcadedb, url, username, password });
}

export { ArcadeDbError, LongTermIndexError, SummaryItemError } from "./errors";
export { SummaryStore, summaryId } from "./summaries";
export type { LongTermIndex, SummaryHit, SummaryQuery, SummaryRecord } from "./types";
