import type { Context, ScheduledEvent } from "aws-lambda";
import { createAwsClients } from "../core/compose/aws";
import { buildHealthCheckDeps } from "../core/compose/health-check";
import { loadConfig } from "../core/config";
import { type HealthCheckDeps, runHealthCheck } from "../core/health-check/check";
import type { HealthComponent } from "../core/health-check/records";

/** What one invocation returns (visible in the Lambda console and test invokes). */
export interface HealthCheckSummary {
  /** Epoch ms of the invocation's start. */
  startedAt: number;
  healthy: HealthComponent[];
  unhealthy: HealthComponent[];
}

/**
 * The scheduled handler around `deps`: runs one check. An unhealthy component is a result,
 * not a failure of the invocation; only a failure to store the records (see
 * `HealthCheckStoreError`) rejects, so Lambda's retry of asynchronous invocations (EventBridge
 * Scheduler invokes asynchronously) tries again. The event is ignored: SST's `CronV2` sends
 * `{}`, not an EventBridge `ScheduledEvent`.
 *
 * @throws {HealthCheckStoreError} when records or breaker states could not be stored.
 */
export function createHealthCheckHandler(
  deps: HealthCheckDeps,
): (event?: ScheduledEvent) => Promise<HealthCheckSummary> {
  const now = deps.now ?? Date.now;
  return async () => {
    const startedAt = now();
    const records = await runHealthCheck(deps);
    return {
      startedAt,
      healthy: records.filter((r) => r.ok).map((r) => r.component),
      unhealthy: records.filter((r) => !r.ok).map((r) => r.component),
    };
  };
}

let lambdaHandler: ReturnType<typeof createHealthCheckHandler> | undefined;

/** Lambda entry point for the health-check cron; dependencies built once per container. */
export function handler(event: ScheduledEvent, _context: Context): Promise<HealthCheckSummary> {
  if (!lambdaHandler) {
    const config = loadConfig();
    lambdaHandler = createHealthCheckHandler(
      buildHealthCheckDeps(config, createAwsClients(config)),
    );
  }
  return lambdaHandler(event);
}
