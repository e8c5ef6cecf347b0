import type { Logger } from "@aws-lambda-powertools/logger";
import type { Config } from "../config";
import { HealthRecordStore } from "../health-check/records";
import type { ProviderHealthSource } from "../llm/breaker-policy";
import { type BreakerStore, DynamoBreakerStore } from "../llm/breaker-store";
import { createProviderManager, type ProviderManager } from "../llm/manager";
import { createConfiguredProviders } from "../llm/providers";
import type { AwsClients } from "./aws";

/**
 * The provider manager as every consumer builds it (chat worker, archiver): the configured
 * providers, breaker state and the health check's last verdicts shared through the table, and
 * attempts and store failures logged.
 *
 * @param options.budgetMs - wall time of one `complete` call, retries and fallback included, ms.
 * @param options.breakerStore / options.healthSource - one process sharing the health check's
 *   stores (the local stack), so a check's verdict routes the very next call.
 */
export function buildProviderManager(
  config: Config,
  aws: AwsClients,
  options: {
    logger: Logger;
    budgetMs: number;
    breakerStore?: BreakerStore | undefined;
    healthSource?: ProviderHealthSource | undefined;
  },
): ProviderManager {
  const { logger } = options;
  const table = { client: aws.documents, tableName: config.memoryTableName };
  return createProviderManager({
    ...createConfiguredProviders(config),
    ...(config.defaultModel ? { defaultModel: config.defaultModel } : {}),
    breakerStore: options.breakerStore ?? new DynamoBreakerStore(table),
    healthSource: options.healthSource ?? new HealthRecordStore(table),
    budgetMs: options.budgetMs,
    streamIdleTimeoutMs: config.reply.streamIdleTimeoutMs,
    onAttempt: (attempt) => logger.info("llm attempt", { ...attempt }),
    onStoreError: (info) =>
      logger.warn(
        info.operation === "health"
          ? "health records unavailable; routing on breaker state alone"
          : "breaker store unavailable; using in-memory state",
        { ...info },
      ),
  });
}
