import type { Config } from "../config";
import { createLongTermIndex, type LongTermIndexDeps } from "../memory/long-term/index";
import { SummaryStore } from "../memory/long-term/summaries";
import type { LongTermIndex } from "../memory/long-term/types";
import { type AwsClients, memoryTable } from "./aws";

// Kept apart from compose/archiver.ts (which pulls in the LLM SDKs) so the ingress can build
// `/forget` without bundling them.

/** The long-term memory pieces every entry point shares: durable copies and the index. */
export interface LongTermMemory {
  summaries: SummaryStore;
  /** ArcadeDB when `ARCADEDB_URL` is set, else the embedded BM25 search. */
  index: LongTermIndex;
}

/** Builds {@link LongTermMemory} for a configuration (no I/O). */
export function buildLongTermMemory(
  config: Config,
  aws: AwsClients,
  arcadedb?: LongTermIndexDeps["arcadedb"],
): LongTermMemory {
  const summaries = new SummaryStore(memoryTable(config, aws));
  const index = createLongTermIndex(config, { summaries, ...(arcadedb ? { arcadedb } : {}) });
  return { summaries, index };
}
