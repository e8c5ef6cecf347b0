import type { Logger } from "@aws-lambda-powertools/logger";
import type { ApprovalStore } from "../agent/approvals";
import { type Config, ConfigError } from "../config";
import { configuredComponents, type HealthReport } from "../health";
import type { HealthRecord, HealthRecordStore } from "../health-check/records";
import type { PipelineDeps, Webhook } from "../ingress/pipeline";
import type { KadiIngressDeps } from "../kadi/ingress";
import { createLogger } from "../logger";
import { DedupeStore } from "../memory/dedupe";
import type { PreferenceStore } from "../memory/preferences";
import { ThreadParticipationStore } from "../memory/threads";
import type { DailyProviderTokens, TokenUsageStore } from "../memory/token-usage";
import type { ForgetConversation, WebhookServices } from "../platforms/adapter";
import { type ChatJobSink, SqsChatQueue } from "../queue/chat-queue";
import { once } from "../resilience/once";
import { type AwsClients, memoryTable } from "./aws";
import { botUserIds, PLATFORM_ADAPTERS } from "./platforms";

/** The route of broker deliveries pushed over HTTP. */
export const KADI_EVENTS_PATH = "/kadi/events";

/**
 * One webhook route: `POST {path}` runs the route's webhook through the shared pipeline. The
 * webhook is built on the route's first request, once per container (see
 * {@link buildIngressDeps}); a failed build is not kept, so the next request tries again.
 */
export interface WebhookRoute {
  path: string;
  /**
   * The route's webhook, built (its modules loaded) on the first call and shared after that.
   * @throws whatever building it threw; callers answer 500.
   */
  webhook: () => Promise<Webhook<unknown>>;
}

/** Everything the HTTP ingress needs. Deliberately free of LLM and platform Web API clients,
 * so the ingress bundle stays small and cold starts fast. */
export interface IngressDeps {
  /**
   * Every platform's webhooks (`/slack/events`, `/slack/interactions`, `/discord/interactions`)
   * and `/kadi/events`.
   */
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
 *
 * Only what every route shares (config, logger, dedupe store, chat queue) is built here. Each
 * route's own pieces are built on its first request, once per container: a webhook's module
 * (schemas, signature library) is loaded then, `/forget`'s long-term memory (with its embedded
 * index) on the first `/forget`, the health-check record store on the first `/health?deep=1`.
 * A cold start serving a Slack mention therefore loads and builds nothing of Discord, KĀDI or
 * the health check (docs/benchmarks.md, "Cold start: import + first mention, as deployed").
 * Each build is logged at debug level as `ingress route built` with its path and duration in
 * ms. Routes, and which requests reach them, are the same as when everything was built here.
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
  const pipeline: PipelineDeps = {
    dedupe: new DedupeStore({ ...memoryTable(config, aws), now }),
    queue: overrides.queue ?? new SqsChatQueue(aws.sqs, config.chatQueueUrl),
    logger,
    now,
  };
  const services = lazyServices(config, aws, now, overrides);
  const route = (path: string, build: () => Promise<Webhook<unknown>>): WebhookRoute => ({
    path,
    webhook: once(async () => {
      const started = performance.now();
      const webhook = await build();
      logger.debug("ingress route built", { path, ms: performance.now() - started });
      return webhook;
    }),
  });
  const webhooks = Object.values(PLATFORM_ADAPTERS).flatMap((adapter) => [
    route(adapter.path, () => adapter.webhook(config, services)),
    ...(adapter.moreWebhooks ?? []).map((more) =>
      route(more.path, () => more.webhook(config, services)),
    ),
  ]);
  webhooks.push(
    route(KADI_EVENTS_PATH, async () => {
      const { kadiWebhook } = await import("../kadi/ingress");
      return kadiWebhook(kadiIngressDeps(config, pipeline));
    }),
  );
  let report: HealthReport | undefined;
  const records = once(async () => {
    if (overrides.healthRecords) return overrides.healthRecords;
    const { HealthRecordStore } = await import("../health-check/records");
    return new HealthRecordStore(memoryTable(config, aws));
  });
  const tokens = once(async (): Promise<Pick<TokenUsageStore, "providerTotals">> => {
    if (overrides.tokenUsage) return overrides.tokenUsage;
    const { TokenUsageStore } = await import("../memory/token-usage");
    return new TokenUsageStore({ ...memoryTable(config, aws), now });
  });
  return {
    webhooks,
    pipeline,
    health: () => {
      report ??= configuredComponents(config);
      return report;
    },
    healthRecords: async () => (await records()).readAll(),
    tokenUsage: async () => (await tokens()).providerTotals(),
    logger,
  };
}

/**
 * The services platform webhooks use, each built on its first use: `/forget` loads and builds
 * the long-term memory (summaries and index) on its first call, `/model` its preference store,
 * an Approve / Deny click the approval store.
 * The thread marks Slack reads for a follow-up are a small store built at once.
 */
function lazyServices(
  config: Config,
  aws: AwsClients,
  now: () => number,
  overrides: Partial<WebhookServices>,
): WebhookServices {
  const forget = once(async (): Promise<ForgetConversation> => {
    if (overrides.forget) return overrides.forget;
    const { buildForgetConversation } = await import("./forget");
    return buildForgetConversation(config, aws);
  });
  const preferences = once(async (): Promise<WebhookServices["preferences"]> => {
    if (overrides.preferences) return overrides.preferences;
    const { PreferenceStore } = await import("../memory/preferences");
    return new PreferenceStore(memoryTable(config, aws));
  });
  const approvals = once(async (): Promise<ApprovalStore> => {
    const { ApprovalStore } = await import("../agent/approvals");
    return new ApprovalStore(memoryTable(config, aws));
  });
  return {
    threads:
      overrides.threads ?? new ThreadParticipationStore({ ...memoryTable(config, aws), now }),
    approvals: overrides.approvals ?? {
      decide: async (id, click) => (await approvals()).decide(id, click, now()),
      reopen: async (id) => (await approvals()).reopen(id),
    },
    forget: async (ref) => (await forget())(ref),
    preferences: {
      put: async (...args: Parameters<PreferenceStore["put"]>) =>
        (await preferences()).put(...args),
    },
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
