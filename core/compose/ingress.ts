import type { Logger } from "@aws-lambda-powertools/logger";
import { type Config, ConfigError } from "../config";
import type { DiscordIngressDeps } from "../discord/ingress";
import { createInteractionVerifier } from "../discord/verify";
import { configuredComponents, type HealthReport } from "../health";
import { type HealthRecord, HealthRecordStore } from "../health-check/records";
import type { KadiIngressDeps } from "../kadi/ingress";
import { createLogger } from "../logger";
import { DedupeStore } from "../memory/dedupe";
import { PreferenceStore } from "../memory/preferences";
import { SqsChatQueue } from "../queue/chat-queue";
import type { SlackIngressDeps } from "../slack/ingress";
import type { AwsClients } from "./aws";
import { buildForgetConversation, memoryTable } from "./memory";

/** Everything the HTTP ingress needs. Deliberately free of LLM and Slack Web API clients, so
 * the ingress bundle stays small and cold starts fast. */
export interface IngressDeps {
  slack: SlackIngressDeps;
  /** `POST /kadi/events`: broker deliveries pushed over HTTP. */
  kadi: KadiIngressDeps;
  /** `POST /discord/interactions`: slash commands (`/ask`, `/forget`, `/model`). */
  discord: DiscordIngressDeps;
  /** Cheap readiness report for `GET /health`. */
  health: () => HealthReport;
  /** Latest health-check records for `GET /health?deep=1` (secret-free by construction). */
  healthRecords: () => Promise<HealthRecord[]>;
  logger: Logger;
}

/**
 * Composition root of the ingress: one call per container (Lambda) or per process (local
 * stack, tests), with the clients passed in.
 * @throws {ConfigError} when `CHAT_QUEUE_URL` is missing.
 */
export function buildIngressDeps(
  config: Config,
  aws: AwsClients,
  options: { now?: () => number; logger?: Logger; healthRecords?: HealthRecordStore } = {},
): IngressDeps {
  if (!config.chatQueueUrl) throw new ConfigError(["CHAT_QUEUE_URL: is required"]);
  const logger = options.logger ?? createLogger("ingress", config.logLevel);
  const now = options.now ?? Date.now;
  const report = configuredComponents(config);
  const records =
    options.healthRecords ??
    new HealthRecordStore({ client: aws.documents, tableName: config.memoryTableName });
  const dedupe = new DedupeStore({ ...memoryTable(config, aws), now });
  const queue = new SqsChatQueue(aws.sqs, config.chatQueueUrl);
  return {
    slack: {
      signingSecret: config.slack.signingSecret,
      botUserId: config.slack.botUserId,
      dedupe,
      queue,
      logger,
      now,
    },
    kadi: {
      callbackSecret: config.kadi.callbackSecret,
      bots: { slackBotUserId: config.slack.botUserId, discordBotUserId: config.discord.botUserId },
      dedupe,
      queue,
      logger,
      now,
    },
    discord: {
      ...(config.discord.publicKey
        ? { verifier: createInteractionVerifier(config.discord.publicKey) }
        : {}),
      dedupe,
      queue,
      preferences: new PreferenceStore(memoryTable(config, aws)),
      forget: buildForgetConversation(config, aws),
      logger,
      now,
    },
    health: () => report,
    healthRecords: () => records.readAll(),
    logger,
  };
}
