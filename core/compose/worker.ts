import { IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { ChatJob } from "../chat/job";
import { createReplyRouter, inlineReplier, type Replier, type ReplierTable } from "../chat/replier";
import { type ChatTurnDeps, createChatTurn, type ReplyRecord } from "../chat/turn";
import type { Config } from "../config";
import { DynamoBreakerStore } from "../llm/breaker";
import { createProviderManager } from "../llm/manager";
import { createConfiguredProviders } from "../llm/providers";
import { createLogger } from "../logger";
import { ConversationStore } from "../memory/conversations";
import { PreferenceStore } from "../memory/preferences";
import { TTL_ATTRIBUTE } from "../memory/table";
import { SlackReplier } from "../slack/replier";
import type { AwsClients } from "./aws";

/** How long a finished reply is remembered for redeliveries, seconds (SQS retention max is
 * 14 days, but redeliveries come within the visibility timeout × maxReceiveCount). */
export const REPLY_IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

/** Wall-time budget of the model call(s) of one turn, ms, retries and fallback included. */
export const LLM_BUDGET_MS = 45_000;

/** Everything the chat worker needs, built once per container. */
export interface WorkerDeps {
  /** Runs the agent turn for one job; see `createChatTurn`. */
  runTurn: (job: ChatJob) => Promise<ReplyRecord>;
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
 * @param overrides.replier - replaces the Slack replier (tests of other platforms).
 * @throws {ConfigError} never; a missing Slack token surfaces when a Slack job is processed.
 */
export function buildWorkerDeps(
  config: Config,
  aws: AwsClients,
  overrides: { now?: () => number; logger?: Logger; replier?: Replier } = {},
): WorkerDeps {
  const logger = overrides.logger ?? createLogger("chat-worker", config.logLevel);
  const now = overrides.now ?? Date.now;
  const llm = createProviderManager({
    ...createConfiguredProviders(config),
    ...(config.defaultModel ? { defaultModel: config.defaultModel } : {}),
    breakerStore: new DynamoBreakerStore({
      client: aws.documents,
      tableName: config.memoryTableName,
    }),
    // Leaves room inside the worker's Lambda timeout (see infra) to post the reply and store.
    budgetMs: LLM_BUDGET_MS,
    onAttempt: (attempt) => logger.info("llm attempt", { ...attempt }),
    onStoreError: (info) =>
      logger.warn("breaker store unavailable; using in-memory state", { ...info }),
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
  const once: ChatTurnDeps["once"] = (fn) =>
    makeIdempotent(fn, { persistenceStore, config: idempotency });

  const replier = overrides.replier ?? createReplyRouter(buildRepliers(config), MISSING_PLATFORM);
  const runTurn = createChatTurn({
    conversations: new ConversationStore(aws.documents, config.memoryTableName),
    preferences: new PreferenceStore(aws.documents, config.memoryTableName),
    llm,
    replier,
    logger,
    now,
    once,
  });
  return { runTurn, idempotency, logger };
}

/** What to set for each reply kind whose replier is missing (error text). */
const MISSING_PLATFORM: Partial<Record<ReplierKind, string>> = {
  slack: "SLACK_BOT_TOKEN is not set",
  "discord-interaction": "DISCORD_APPLICATION_ID is not set",
  "kadi-slack": "KADI_BROKER_URL is not set",
  "kadi-discord": "KADI_BROKER_URL is not set",
};

type ReplierKind = keyof ReplierTable;

/** One replier per configured platform; each is built once per container. */
function buildRepliers(config: Config): ReplierTable {
  const table: ReplierTable = { inline: inlineReplier };
  if (config.slack.botToken) {
    table.slack = new SlackReplier({
      botToken: config.slack.botToken,
      apiUrl: config.slack.apiUrl,
    });
  }
  return table;
}
