import type { Logger } from "@aws-lambda-powertools/logger";
import { type Config, ConfigError } from "../config";
import { configuredComponents, type HealthReport } from "../health";
import { type HealthRecord, HealthRecordStore } from "../health-check/records";
import type { PipelineDeps, Webhook } from "../ingress/pipeline";
import { type KadiIngressDeps, kadiWebhook } from "../kadi/ingress";
import { createLogger } from "../logger";
import { DedupeStore } from "../memory/dedupe";
import { PreferenceStore } from "../memory/preferences";
import { type DailyProviderTokens, TokenUsageStore } from "../memory/token-usage";
import type { WebhookServices } from "../platforms/adapter";
import { type ChatJobSink, SqsChatQueue } from "../queue/chat-queue";
import type { AwsClients } from "./aws";
import { buildForgetConversation, memoryTable } from "./memory";
import { botUserIds, PLATFORM_ADAPTERS } from "./platforms";

/** The route of broker deliveries pushed over HTTP. */
export const KADI_EVENTS_PATH = "/kadi/events";

/** One webhook route: `POST {path}` runs `webhook` through the shared pipeline. */
export interface WebhookRoute {
  path: string;
  webhook: Webhook<unknown>;
}

/** Everything the HTTP ingress needs. Deliberately free of LLM and platform Web API clients,
 * so the ingress bundle stays small and cold starts fast. */
export interface IngressDeps {
  /** Every platform's webhook (`/slack/events`, `/discord/interactions`) and `/kadi/events`. */
  webhooks: WebhookRoute[];
  /** Dedupe store, chat queue, logger and clock shared by every webhook. */
  pipeline: PipelineDeps;
  /** Cheap readiness report for `GET /health`. */
  health: () => HealthReport;
  /** Latest health-check records for `GET /health?deep=1` (secret-free by construction). */
  healthRecords: () => Promise<HealthRecord[]>;
  /** Today's tokens per provider for `GET /health?deep=1` (one Query, cached briefly). */
  tokenUsage: () => Promise<DailyProviderTokens>;
  logger: Logger;
}

/**
 * Composition root of the ingress: one call per container (Lambda) or per process (local
 * stack, tests), with the clients passed in. `overrides` replace what would be built from
 * `config` (tests: a failing queue, a counting `/forget`).
 * @throws {ConfigError} when `CHAT_QUEUE_URL` is missing.
 */
export function buildIngressDeps(
  config: Config,
  aws: AwsClients,
  overrides: {
    now?: () => number;
    logger?: Logger;
    healthRecords?: HealthRecordStore;
    tokenUsage?: Pick<TokenUsageStore, "providerTotals">;
    queue?: ChatJobSink;
  } & Partial<WebhookServices> = {},
): IngressDeps {
  if (!config.chatQueueUrl) throw new ConfigError(["CHAT_QUEUE_URL: is required"]);
  const logger = overrides.logger ?? createLogger("ingress", config.logLevel);
  const now = overrides.now ?? Date.now;
  const report = configuredComponents(config);
  const records =
    overrides.healthRecords ??
    new HealthRecordStore({ client: aws.documents, tableName: config.memoryTableName });
  const tokens = overrides.tokenUsage ?? new TokenUsageStore({ ...memoryTable(config, aws), now });
  const pipeline: PipelineDeps = {
    dedupe: new DedupeStore({ ...memoryTable(config, aws), now }),
    queue: overrides.queue ?? new SqsChatQueue(aws.sqs, config.chatQueueUrl),
    logger,
    now,
  };
  const services: WebhookServices = {
    forget: overrides.forget ?? buildForgetConversation(config, aws),
    preferences: overrides.preferences ?? new PreferenceStore(memoryTable(config, aws)),
  };
  const webhooks: WebhookRoute[] = Object.values(PLATFORM_ADAPTERS).map((adapter) => ({
    path: adapter.path,
    webhook: adapter.webhook(config, services),
  }));
  webhooks.push({
    path: KADI_EVENTS_PATH,
    webhook: kadiWebhook(kadiIngressDeps(config, pipeline)),
  });
  return {
    webhooks,
    pipeline,
    health: () => report,
    healthRecords: () => records.readAll(),
    tokenUsage: () => tokens.providerTotals(),
    logger,
  };
}

/**
 * What broker deliveries need, over HTTP (`POST /kadi/events`) or the listener's socket: the
 * pipeline's store and queue, the callback secret, and which platforms' mentions to route.
 */
export function kadiIngressDeps(config: Config, pipeline: PipelineDeps): KadiIngressDeps {
  return {
    ...pipeline,
    callbackSecret: config.kadi.callbackSecret,
    routing: { adapters: Object.values(PLATFORM_ADAPTERS), bots: botUserIds(config) },
  };
}
