import type { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Config } from "../config";
import {
  type HealthCheckDeps,
  METRICS_NAMESPACE,
  type MetricsPublisher,
} from "../health-check/check";
import {
  anthropicProbe,
  arcadedbProbe,
  dynamodbProbe,
  gatewayHealthProbe,
  openAICompatibleProbe,
  type Probe,
  queueProbe,
} from "../health-check/probes";
import { HealthRecordStore } from "../health-check/records";
import { type BreakerStore, DynamoBreakerStore } from "../llm/breaker-store";
import { configuredProviders } from "../llm/configured";
import { createLogger } from "../logger";
import type { AwsClients } from "./aws";

/**
 * The probes of every configured component (an unconfigured one is not probed and gets no
 * record): Anthropic when `ANTHROPIC_API_KEY` is set; the OpenAI-compatible provider when
 * `MODEL_MANAGER_BASE_URL` is; the gateway's health route when `GATEWAY_URL` is (a plain
 * OpenAI-compatible endpoint such as Ollama has no such route); ArcadeDB when `ARCADEDB_URL`
 * is; DynamoDB always; each queue whose URL is known.
 */
export function buildProbes(
  config: Config,
  aws: AwsClients,
  options: { fetch?: typeof fetch } = {},
): Probe[] {
  const withFetch = options.fetch ? { fetch: options.fetch } : {};
  const configured = configuredProviders(config);
  const probes: Probe[] = [];
  if (configured.anthropic && config.anthropic.apiKey) {
    probes.push(
      anthropicProbe({
        apiKey: config.anthropic.apiKey,
        ...(config.anthropic.baseUrl ? { baseURL: config.anthropic.baseUrl } : {}),
        ...withFetch,
      }),
    );
  }
  if (configured["openai-compatible"] && config.modelManager.baseUrl) {
    probes.push(
      openAICompatibleProbe({
        baseURL: config.modelManager.baseUrl,
        ...(config.modelManager.apiKey ? { apiKey: config.modelManager.apiKey } : {}),
        ...withFetch,
      }),
    );
  }
  if (config.gateway.url) {
    probes.push(
      gatewayHealthProbe({
        url: config.gateway.url,
        dialect: config.gateway.dialect,
        ...withFetch,
      }),
    );
  }
  if (config.arcadedb.url) probes.push(arcadedbProbe({ url: config.arcadedb.url, ...withFetch }));
  probes.push(dynamodbProbe({ client: aws.dynamodb, tableName: config.memoryTableName }));
  if (config.chatQueueUrl) {
    probes.push(
      queueProbe({ component: "chat-queue", sqs: aws.sqs, queueUrl: config.chatQueueUrl }),
    );
  }
  if (config.archiveQueueUrl) {
    probes.push(
      queueProbe({ component: "archive-queue", sqs: aws.sqs, queueUrl: config.archiveQueueUrl }),
    );
  }
  return probes;
}

/** Every configured secret value, for redaction from stored error messages. */
export function configuredSecrets(config: Config): string[] {
  return [
    config.anthropic.apiKey,
    config.modelManager.apiKey,
    config.slack.signingSecret,
    config.slack.botToken,
    config.discord.botToken,
    config.kadi.callbackSecret,
    config.kadi.privateKeyPem,
    config.arcadedb.password,
    config.gateway.adminKey,
  ].filter((v): v is string => typeof v === "string" && v !== "");
}

/** Overrides of {@link buildHealthCheckDeps}. */
export interface HealthCheckOverrides {
  /** Share the provider manager's breaker store (one process: the local stack). */
  breakerStore?: BreakerStore;
  /** Share the reader the manager and `/health?deep=1` use, so they see writes at once. */
  records?: HealthRecordStore;
  /** `null` disables metrics (the local stack, where nothing reads EMF from stdout). */
  metrics?: MetricsPublisher | null;
  logger?: Logger;
  now?: () => number;
  /** Per-probe timeout in ms. */
  timeoutMs?: number;
  /** `fetch` for the SDK and HTTP probes (tests). */
  fetch?: typeof fetch;
}

/**
 * Composition root of the health check: probes, the table's record and breaker stores, and
 * Powertools Metrics (namespace {@link METRICS_NAMESPACE}, service `health-check`). One call
 * per container or process.
 */
export function buildHealthCheckDeps(
  config: Config,
  aws: AwsClients,
  overrides: HealthCheckOverrides = {},
): HealthCheckDeps {
  const table = { client: aws.documents, tableName: config.memoryTableName };
  const metrics =
    overrides.metrics === null
      ? undefined
      : (overrides.metrics ??
        new Metrics({ namespace: METRICS_NAMESPACE, serviceName: "health-check" }));
  const deps: HealthCheckDeps = {
    probes: buildProbes(config, aws, overrides.fetch ? { fetch: overrides.fetch } : {}),
    records: overrides.records ?? new HealthRecordStore(table),
    breakers: overrides.breakerStore ?? new DynamoBreakerStore(table),
    logger: overrides.logger ?? createLogger("health-check", config.logLevel),
    secrets: configuredSecrets(config),
  };
  if (metrics) deps.metrics = metrics;
  if (overrides.now) deps.now = overrides.now;
  if (overrides.timeoutMs !== undefined) deps.timeoutMs = overrides.timeoutMs;
  return deps;
}
