import type { Logger } from "@aws-lambda-powertools/logger";
import { type Config, ConfigError } from "../config";
import { configuredComponents, type HealthReport } from "../health";
import { createLogger } from "../logger";
import { DedupeStore } from "../memory/dedupe";
import { SqsChatQueue } from "../queue/chat-queue";
import type { SlackIngressDeps } from "../slack/ingress";
import type { AwsClients } from "./aws";

/** Everything the HTTP ingress needs. Deliberately free of LLM and Slack Web API clients, so
 * the ingress bundle stays small and cold starts fast. */
export interface IngressDeps {
  slack: SlackIngressDeps;
  /** Cheap readiness report for `GET /health`. */
  health: () => HealthReport;
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
  options: { now?: () => number; logger?: Logger } = {},
): IngressDeps {
  if (!config.chatQueueUrl) throw new ConfigError(["CHAT_QUEUE_URL: is required"]);
  const logger = options.logger ?? createLogger("ingress", config.logLevel);
  const now = options.now ?? Date.now;
  const report = configuredComponents(config);
  return {
    slack: {
      signingSecret: config.slack.signingSecret,
      botUserId: config.slack.botUserId,
      dedupe: new DedupeStore(aws.documents, config.memoryTableName, now),
      queue: new SqsChatQueue(aws.sqs, config.chatQueueUrl),
      logger,
      now,
    },
    health: () => report,
    logger,
  };
}
