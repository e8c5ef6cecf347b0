import type { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { createSpend, type Spend, type TokenMetricsPublisher } from "../chat/spend";
import type { Config } from "../config";
import { METRICS_NAMESPACE } from "../constants/logging";
import { TokenUsageStore } from "../memory/token-usage";
import { type AwsClients, memoryTable } from "./aws";

/**
 * The token budget and accounting of one entry point (chat worker, KĀDI listener, archiver):
 * the daily counters in the table, `USER_DAILY_TOKEN_BUDGET`, and Powertools Metrics
 * (namespace {@link METRICS_NAMESPACE}, service `serviceName`) for the per-completion token
 * metrics.
 *
 * @param options.metrics - `null` disables the metrics (the local stack, where nothing reads
 *   EMF from stdout); default a new `Metrics`.
 */
export function buildSpend(
  config: Config,
  aws: AwsClients,
  options: {
    serviceName: string;
    logger: Logger;
    now: () => number;
    metrics?: TokenMetricsPublisher | null | undefined;
  },
): Spend {
  const metrics =
    options.metrics === null
      ? undefined
      : (options.metrics ??
        new Metrics({ namespace: METRICS_NAMESPACE, serviceName: options.serviceName }));
  return createSpend({
    usage: new TokenUsageStore({ ...memoryTable(config, aws), now: options.now }),
    dailyBudget: config.userDailyTokenBudget,
    metrics,
    logger: options.logger,
    now: options.now,
  });
}
