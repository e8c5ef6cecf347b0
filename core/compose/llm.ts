import type { Logger } from "@aws-lambda-powertools/logger";
import type { Config } from "../config";
import { HealthRecordStore } from "../health-check/records";
import { type BreakerStore, DynamoBreakerStore, type ProviderHealthSource } from "../llm/breaker";
import { createProviderManager } from "../llm/manager";
import { createConfiguredProviders } from "../llm/providers";
import type { AwsClients } from "./aws";

/**
 * The provider manager as every consumer builds it (chat worker, archiver): the configured
 * providers, breaker state and the health check's last verdicts shared through the table, and
 * attempts and store failures logged.
 *
 * @param options.budgetMs - wall time of one `complete` call, retries and fallback included, ms.
 * @param options.defaultModel - overrides `config.defaultModel` (the archiver's summary model).
 * @param options.breakerStore / options.healthSource - one process sharing the health check's
 *   stores (the local stack), so a check's verdict routes the very next call.
 */
export function buildProviderManager(
  config: Config,
  aws: AwsClients,
  options: {
    logger: Logger;
    budgetMs: number;
    defaultModel?: string | undefined;
    breakerStore?: BreakerStore | undefined;
    healthSource?: ProviderHealthSource | undefined;
  },
): ReturnType<typeof createProviderManager> {
  const { logger } = options;
  const table = { client: aws.documents, tableName: config.memoryTableName };
  const defaultModel = options.defaultModel ?? config.defaultModel;
  return createProviderManager({
    ...createConfiguredProviders(config),
    ...(defaultModel ? { defaultModel } : {}),
    breakerStore: options.breakerStore ?? new DynamoBreakerStore(table),
    healthSource: options.healthSource ?? new HealthRecordStore(table),
    budgetMs: options.budgetMs,
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
