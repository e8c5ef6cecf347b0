import {
  IdempotencyConfig,
  IdempotencyItemNotFoundError,
  IdempotencyRecordStatus,
  makeIdempotent,
} from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { Logger } from "@aws-lambda-powertools/logger";
import { ApprovalStore } from "../agent/approvals";
import { createToolbox } from "../agent/toolbox";
import type { AbilityBroker } from "../agent/types";
import { type AccessRefused, gateByAccess } from "../chat/access-gate";
import type { DelayingJobSink } from "../chat/approval-jobs";
import type { ChatJob } from "../chat/job";
import type { Replier } from "../chat/replier";
import type { TokenMetricsPublisher } from "../chat/spend";
import { type ChatTurnDeps, createChatTurn, type ReplyRecord } from "../chat/turn";
import { rememberUnrecordedReplies } from "../chat/unrecorded-replies";
import type { Config } from "../config";
import { LLM_BUDGET_MS, REPLY_IDEMPOTENCY_TTL_MS } from "../constants/timings";
import type { KadiToolInvoker } from "../kadi/replier";
import type { ProviderHealthSource } from "../llm/breaker-policy";
import type { BreakerStore } from "../llm/breaker-store";
import { createLogger } from "../logger";
import { ConversationStore } from "../memory/conversations";
import { DedupeStore } from "../memory/dedupe";
import { KnowledgeStore } from "../memory/knowledge";
import { PreferenceStore } from "../memory/preferences";
import { createRecall } from "../memory/recall";
import { TTL_ATTRIBUTE } from "../memory/table/table";
import { SqsChatQueue } from "../queue/chat-queue";
import { buildArchiveRequester } from "./archiver";
import { type AwsClients, memoryTable } from "./aws";
import { buildLazyKadiInvoker } from "./kadi";
import { buildProviderManager } from "./llm";
import { buildLongTermMemory, type LongTermMemory } from "./memory";
import { buildReplyRouter } from "./repliers";
import { buildSpend } from "./spend";

/** How long a finished reply is remembered for redeliveries, seconds (`REPLY_IDEMPOTENCY_TTL_MS`). */
export const REPLY_IDEMPOTENCY_TTL_SECONDS = REPLY_IDEMPOTENCY_TTL_MS / 1000;

/**
 * Where a job's reply stands in the reply idempotency store: never started (or its record
 * expired), posted (`completed`), or started and not finished (`in_progress`). An in-progress
 * record blocks every other run of the job (`IdempotencyAlreadyInProgressError`) until
 * `expiresAtMs` (epoch ms: when it was written plus the invocation's remaining time), then the
 * next run takes it over; without `expiresAtMs` it blocks until the record's TTL.
 */
export type ReplyState =
  | { status: "none" }
  | { status: "completed" }
  | { status: "in_progress"; expiresAtMs?: number };

/** Everything the chat worker needs, built once per container. */
export interface WorkerDeps {
  /** Runs the agent turn for one job; see `createChatTurn`. Not gated (the `chat` tool's). */
  runTurn: (job: ChatJob) => Promise<ReplyRecord>;
  /** One queued job: {@link WorkerDeps.runTurn} behind the allowlists (`gateByAccess`). */
  runJob: (job: ChatJob) => Promise<ReplyRecord | AccessRefused>;
  /**
   * Reads the reply idempotency record of `jobId` (one consistent read). The local stack uses
   * it to re-enqueue a job left in progress by a killed process no sooner than it can run.
   * @throws the SDK's error when DynamoDB fails.
   */
  replyState: (jobId: string) => Promise<ReplyState>;
  /** Registered with each invocation's Lambda context (in-progress expiry). */
  idempotency: IdempotencyConfig;
  logger: Logger;
}

/**
 * Composition root of the chat worker. Reply idempotency uses Powertools idempotency over the
 * single table: items `pk = "IDEMPOTENCY#chat-reply"`, `sk = <hashed jobId>`, expiring through
 * the table's TTL attribute. All records share one partition; at chat volumes (well under the
 * 1000 writes/s a partition sustains) that is fine and keeps the table's key schema unchanged.
 *
 * Recall reads the long-term index (ArcadeDB when `ARCADEDB_URL` is set, else the embedded
 * search); with `ARCHIVE_QUEUE_URL` set, a turn that leaves more live messages than
 * `MEMORY_ARCHIVE_HIGH_WATER` requests one archive job. Every turn checks the user's daily token
 * budget (`USER_DAILY_TOKEN_BUDGET`) and counts its tokens (see `buildSpend`).
 *
 * @param overrides.replier - replaces the whole reply router (tests).
 * @param overrides.breakerStore / overrides.healthSource - share the health check's stores
 *   (one process: the local stack), so a check's verdict routes the very next turn.
 * @throws {ConfigError} never; a missing Slack token surfaces when a Slack job is processed.
 */
export function buildWorkerDeps(
  config: Config,
  aws: AwsClients,
  overrides: {
    now?: () => number;
    logger?: Logger;
    replier?: Replier;
    breakerStore?: BreakerStore;
    healthSource?: ProviderHealthSource;
    /**
     * Replaces the lazy per-container KĀDI client of the reply tools and of the model's broker
     * abilities (the local stack's).
     */
    kadiInvoker?: KadiToolInvoker & AbilityBroker;
    /** Long-term memory for recall (default: built from `config`). */
    memory?: LongTermMemory;
    /**
     * Where approval expiry jobs go (default the chat queue at `CHAT_QUEUE_URL`; the local
     * stack passes its outbox).
     */
    approvalQueue?: DelayingJobSink;
    /** Token metrics; `null` disables them (the local stack). Default: Powertools Metrics. */
    metrics?: TokenMetricsPublisher | null;
  } = {},
): WorkerDeps {
  const logger = overrides.logger ?? createLogger("chat-worker", config.logLevel);
  const now = overrides.now ?? Date.now;
  const llm = buildProviderManager(config, aws, {
    logger,
    // Leaves room inside the worker's Lambda timeout (see infra) to post the reply and store.
    budgetMs: LLM_BUDGET_MS,
    breakerStore: overrides.breakerStore,
    healthSource: overrides.healthSource,
  });

  const idempotency = new IdempotencyConfig({
    eventKeyJmesPath: "jobId",
    expiresAfterSeconds: REPLY_IDEMPOTENCY_TTL_SECONDS,
  });
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: config.memoryTableName,
    awsSdkV3Client: aws.dynamodb,
    keyAttr: "pk",
    sortKeyAttr: "sk",
    staticPkValue: "IDEMPOTENCY#chat-reply",
    expiryAttr: TTL_ATTRIBUTE,
  });
  // A reply posted while the table was unreachable is remembered in memory, so its
  // redelivery stores the turn without posting again (see `rememberUnrecordedReplies`).
  const once: ChatTurnDeps["once"] = rememberUnrecordedReplies(
    (fn) => makeIdempotent(fn, { persistenceStore, config: idempotency }),
    { record: (job, reply) => persistenceStore.saveSuccess(job, { ...reply }), logger },
  );
  const replyState = async (jobId: string): Promise<ReplyState> => {
    // What makeIdempotent does before its first call; later calls keep this configuration.
    persistenceStore.configure({ config: idempotency });
    try {
      const record = await persistenceStore.getRecord({ jobId });
      switch (record.getStatus()) {
        case IdempotencyRecordStatus.COMPLETED:
          return { status: "completed" };
        case IdempotencyRecordStatus.INPROGRESS:
          return record.inProgressExpiryTimestamp === undefined
            ? { status: "in_progress" }
            : { status: "in_progress", expiresAtMs: record.inProgressExpiryTimestamp };
        default:
          return { status: "none" };
      }
    } catch (error) {
      if (error instanceof IdempotencyItemNotFoundError) return { status: "none" };
      throw error;
    }
  };

  // One broker session per container serves the relay's reply tools and the model's abilities.
  const broker = overrides.kadiInvoker ?? buildLazyKadiInvoker(config, logger);
  const replier = overrides.replier ?? buildReplyRouter(config, aws, logger, broker);
  const memory = overrides.memory ?? buildLongTermMemory(config, aws);
  const requestArchival = buildArchiveRequester(config, aws, now);
  const preferences = new PreferenceStore(memoryTable(config, aws));
  // Risky tools are offered only where a decision can come back: the chat queue takes the
  // decision's and the expiry's jobs.
  const approvals = config.chatQueueUrl
    ? {
        store: new ApprovalStore({ ...memoryTable(config, aws), now }),
        queue: overrides.approvalQueue ?? new SqsChatQueue(aws.sqs, config.chatQueueUrl),
        ttlMs: config.agent.approvalTtlMs,
      }
    : undefined;
  const runTurn = createChatTurn({
    recall: createRecall({ index: memory.index, budget: config.recall, logger }),
    ...(requestArchival ? { requestArchival } : {}),
    spend: buildSpend(config, aws, {
      serviceName: "chat-worker",
      logger,
      now,
      metrics: overrides.metrics,
    }),
    conversations: new ConversationStore(memoryTable(config, aws)),
    preferences,
    archiveHighWater: config.archiveHighWater,
    modelFooter: config.reply.modelFooter,
    toolbox: createToolbox({
      own: {
        longTerm: memory.index,
        preferences,
        knowledge: new KnowledgeStore(memoryTable(config, aws)),
      },
      broker,
      networks: config.kadi.networks,
      allowlist: config.agent.toolAllowlist,
      approvalRequired: config.agent.approvalRequired,
      now,
      logger,
    }),
    ...(approvals ? { approvals } : {}),
    loopBounds: {
      maxRounds: config.agent.maxRounds,
      budgetMs: config.agent.budgetMs,
      resultMaxBytes: config.agent.toolResultMaxBytes,
    },
    llm,
    replier,
    logger,
    now,
    once,
  });
  const runJob = gateByAccess(
    {
      lists: config.access,
      marks: new DedupeStore({ ...memoryTable(config, aws), now }),
      replier,
      logger,
    },
    runTurn,
  );
  return { runTurn, runJob, replyState, idempotency, logger };
}
