import { pathToFileURL } from "node:url";
import { createAwsClients } from "../core/compose/aws";
import { buildLongTermMemory } from "../core/compose/memory";
import type { LongTermIndex, SummaryRecord } from "../core/memory/long-term/types";
import { loadCommandConfig } from "../local/command-config";
import { LOCAL_CREDENTIALS } from "../local/services";

/** Progress and result of {@link reindexSummaries}. */
export interface ReindexProgress {
  /** Durable summaries read so far. */
  read: number;
  /** Summaries upserted into the index so far. */
  indexed: number;
  /** Ids whose upsert failed, with the error. */
  failures: { id: string; error: unknown }[];
}

/**
 * Rebuilds the long-term index from the durable summary copies in DynamoDB: makes sure the
 * backend is ready (database and schema), then upserts every summary (`SummaryStore.scanAll`).
 * Upserts are idempotent, so running it twice, or while the archiver runs, is safe. A failed
 * upsert is recorded and the run goes on, so one bad record does not hide the rest.
 *
 * @param options.progressEvery - call `onProgress` after this many summaries (default 50) and
 *   once at the end.
 * @throws the backend's error when `ensureReady` fails, the DynamoDB error when the scan fails.
 */
export async function reindexSummaries(options: {
  summaries: { scanAll(): AsyncIterable<SummaryRecord> };
  index: LongTermIndex;
  onProgress?: (progress: ReindexProgress) => void;
  progressEvery?: number;
}): Promise<ReindexProgress> {
  const every = options.progressEvery ?? 50;
  const progress: ReindexProgress = { read: 0, indexed: 0, failures: [] };
  await options.index.ensureReady();
  for await (const record of options.summaries.scanAll()) {
    progress.read++;
    try {
      await options.index.upsert(record);
      progress.indexed++;
    } catch (error) {
      progress.failures.push({ id: record.id, error });
    }
    if (progress.read % every === 0) options.onProgress?.(snapshot(progress));
  }
  options.onProgress?.(snapshot(progress));
  return progress;
}

function snapshot(p: ReindexProgress): ReindexProgress {
  return { read: p.read, indexed: p.indexed, failures: [...p.failures] };
}

/**
 * `npm run memory:reindex`: rebuilds the configured long-term index (ArcadeDB when
 * `ARCADEDB_URL` is set; the embedded backend keeps no state beyond the copies, so there it
 * writes nothing: each container builds its cache from them) from `MEMORY_TABLE_NAME`,
 * printing progress and totals. With `AWS_ENDPOINT_URL_DYNAMODB` set (DynamoDB Local) it signs
 * with dummy credentials. Exits 2 on bad configuration, 1 when any summary could not be indexed.
 */
async function main(): Promise<void> {
  const config = loadCommandConfig();
  const aws = createAwsClients(config, config.aws.dynamodbEndpoint ? LOCAL_CREDENTIALS : undefined);
  const memory = buildLongTermMemory(config, aws);
  console.log(`reindexing ${config.memoryTableName} into the ${memory.index.backend} backend`);
  const total = await reindexSummaries({
    ...memory,
    onProgress: (p) =>
      console.log(`  read ${p.read}, indexed ${p.indexed}, failed ${p.failures.length}`),
  });
  for (const failure of total.failures) {
    console.error(`  failed ${failure.id}: ${String(failure.error)}`);
  }
  console.log(
    `done: ${total.indexed} of ${total.read} summaries indexed, ${total.failures.length} failed`,
  );
  aws.sqs.destroy();
  aws.dynamodb.destroy();
  if (total.failures.length > 0) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((error) => {
    console.error("memory:reindex failed:", error);
    process.exit(1);
  });
}
