import { meterCompleter, type TokenMetricsPublisher } from "../chat/spend";
import { type Config, ConfigError } from "../config";
import { DEFAULT_SUMMARY_MODEL } from "../llm/models";
import { createLogger, type Logger } from "../logger";
import { type ArchiveJob, SUMMARY_LLM_BUDGET_MS } from "../memory/archival";
import { ArchiveLedger } from "../memory/archive-ledger";
import { type ArchiveRequester, createArchiveRequester } from "../memory/archive-requester";
import { type ArchiveOutcome, type ArchiverDeps, createArchiver } from "../memory/archiver";
import { ConversationStore } from "../memory/conversations";
import { SqsArchiveQueue } from "../queue/archive-queue";
import { type AwsClients, memoryTable } from "./aws";
import { buildProviderManager } from "./llm";
import { buildLongTermMemory, type LongTermMemory } from "./memory";
import { buildSpend } from "./spend";

/**
 * The coalescing archive requester on the configured archive queue, or `undefined` when
 * `ARCHIVE_QUEUE_URL` is not set (nothing is archived then; the local stack always sets it).
 *
 * @param ledger - the META bookkeeping to mark requests on; default a new one on the table
 *   (the archiver passes its own so one ledger serves both).
 */
export function buildArchiveRequester(
  config: Config,
  aws: AwsClients,
  now: () => number = Date.now,
  ledger: ArchiveLedger = new ArchiveLedger(memoryTable(config, aws)),
): ArchiveRequester | undefined {
  if (!config.archiveQueueUrl) return undefined;
  return createArchiveRequester({
    ledger,
    queue: new SqsArchiveQueue(aws.sqs, config.archiveQueueUrl),
    now,
    highWater: config.archiveHighWater,
  });
}

/** Everything the archiver function needs, built once per container. */
export interface ArchiverHandlerDeps {
  /** Runs one archive job; see `createArchiver`. */
  archive: (job: ArchiveJob, options: { remainingMs: () => number }) => Promise<ArchiveOutcome>;
  logger: Logger;
}

/**
 * Composition root of the archiver: the provider manager (summary model, fallback, shared
 * breaker state, {@link SUMMARY_LLM_BUDGET_MS} per summary, every summary's tokens counted toward
 * its provider's daily total), the durable summary store, the long-term index and the archive
 * queue for follow-up jobs.
 *
 * @param overrides - test seams: clock, logger, lease token, long-term memory (e.g. with a
 *   short ArcadeDB retry policy) and archiver tuning.
 * @throws {Error} when `ARCHIVE_QUEUE_URL` is not set: the archiver re-requests through it.
 */
export function buildArchiverDeps(
  config: Config,
  aws: AwsClients,
  overrides: {
    now?: () => number;
    logger?: Logger;
    memory?: LongTermMemory;
    /** Token metrics; `null` disables them (the local stack). Default: Powertools Metrics. */
    metrics?: TokenMetricsPublisher | null;
    tuning?: Pick<ArchiverDeps, "newToken" | "leaseMs" | "chunkMax" | "minRemainingMs">;
  } = {},
): ArchiverHandlerDeps {
  const logger = overrides.logger ?? createLogger("archiver", config.logLevel);
  const now = overrides.now ?? Date.now;
  const ledger = new ArchiveLedger(memoryTable(config, aws));
  const requestArchival = buildArchiveRequester(config, aws, now, ledger);
  if (!requestArchival) throw new ConfigError(["ARCHIVE_QUEUE_URL: is required by the archiver"]);
  // Summaries count toward the providers' daily totals, never a user's budget.
  const llm = meterCompleter(
    buildProviderManager(config, aws, { logger, budgetMs: SUMMARY_LLM_BUDGET_MS }),
    buildSpend(config, aws, { serviceName: "archiver", logger, now, metrics: overrides.metrics }),
  );
  const memory = overrides.memory ?? buildLongTermMemory(config, aws);
  const archive = createArchiver({
    conversations: new ConversationStore(memoryTable(config, aws)),
    ledger,
    summaries: memory.summaries,
    index: memory.index,
    llm,
    summaryModel: config.summaryModel ?? DEFAULT_SUMMARY_MODEL,
    requestArchival,
    highWater: config.archiveHighWater,
    logger,
    now,
    ...overrides.tuning,
  });
  return { archive, logger };
}
