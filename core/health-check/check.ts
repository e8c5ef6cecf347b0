/**
 * One health check run: probe every configured component in parallel, emit CloudWatch
 * metrics, move the provider breakers, and store one status record per component. The same
 * function runs from the scheduled Lambda (`functions/health-check.ts`) and the local stack's
 * interval.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { METRICS_NAMESPACE } from "../constants/logging";
import { breakerAfterHealthCheck } from "../llm/breaker-policy";
import type { BreakerStore } from "../llm/breaker-store";
import type { LlmErrorKind, ProviderId } from "../llm/types";
import { sameBreakerState } from "../resilience/breaker";
import { type Probe, runProbe } from "./probes";
import type { HealthComponent, HealthRecord } from "./records";

/** CloudWatch namespace of the agent's metrics (declared in `core/constants/logging.ts`). */
export { METRICS_NAMESPACE };

/** Dimension that names the component on every health metric. */
export const COMPONENT_DIMENSION = "component";

/**
 * The slice of Powertools `Metrics` the check uses; a `Metrics` instance satisfies it. Each
 * publish writes one EMF JSON line to stdout, which CloudWatch turns into metrics
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 */
export type MetricsPublisher = Pick<Metrics, "addDimension" | "addMetric" | "publishStoredMetrics">;

/** Dependencies of {@link runHealthCheck}; built by `core/compose/health-check.ts`. */
export interface HealthCheckDeps {
  /** Probes of the configured components; unconfigured ones have none and get no record. */
  probes: readonly Probe[];
  /** Where records go (the table's `HealthRecordStore`). */
  records: { write(record: HealthRecord): Promise<void> };
  /** Provider breakers, shared with the provider manager. */
  breakers: BreakerStore;
  /** EMF metrics; absent where nothing collects them (the local stack logs instead). */
  metrics?: MetricsPublisher;
  logger?: Logger;
  /** Epoch-ms clock (default `Date.now`). */
  now?: () => number;
  /** Per-probe timeout in ms (default `DEFAULT_PROBE_TIMEOUT_MS`). */
  timeoutMs?: number;
  /** Configured secret values, redacted from error messages before they are stored. */
  secrets?: readonly string[];
}

/** Thrown by {@link runHealthCheck} when records or breakers could not be stored. */
export class HealthCheckStoreError extends Error {
  override readonly name = "HealthCheckStoreError";
  constructor(
    /** The probe results, which metrics and logs already carry. */
    readonly records: HealthRecord[],
    cause: AggregateError,
  ) {
    super(`could not store ${cause.errors.length} health check write(s)`, { cause });
  }
}

const PROVIDERS: ReadonlySet<HealthComponent> = new Set<ProviderId>([
  "anthropic",
  "openai-compatible",
]);

/**
 * Emits one EMF document per record, dimension `component`: `Healthy` (Count, 1 or 0),
 * `LatencyMs` (Milliseconds) and, for queues, `QueueDepth` and `DlqDepth` (Count).
 */
export function publishHealthMetrics(metrics: MetricsPublisher, records: readonly HealthRecord[]) {
  for (const record of records) {
    metrics.addDimension(COMPONENT_DIMENSION, record.component);
    metrics.addMetric("Healthy", MetricUnit.Count, record.ok ? 1 : 0);
    metrics.addMetric("LatencyMs", MetricUnit.Milliseconds, record.latencyMs);
    const depth = record.details?.depth;
    if (typeof depth === "number") metrics.addMetric("QueueDepth", MetricUnit.Count, depth);
    const dlqDepth = record.details?.dlqDepth;
    if (typeof dlqDepth === "number") metrics.addMetric("DlqDepth", MetricUnit.Count, dlqDepth);
    metrics.publishStoredMetrics();
  }
}

async function updateBreaker(
  breakers: BreakerStore,
  record: HealthRecord,
  nowMs: number,
): Promise<void> {
  const provider = record.component as ProviderId;
  const state = await breakers.get(provider);
  const check = record.ok ? { ok: true } : { ok: false, kind: record.kind as LlmErrorKind };
  const next = breakerAfterHealthCheck(state, check, nowMs);
  if (!sameBreakerState(state, next)) await breakers.put(provider, next);
}

/**
 * Runs every probe in parallel (each bounded by its timeout), then:
 * 1. publishes the metrics (before any write, so an unreachable table still shows up in
 *    CloudWatch);
 * 2. for each provider, moves its breaker with `breakerAfterHealthCheck` (a failed probe opens
 *    it, a passing one closes it) and stores every record (`HEALTH#{component}` / `STATUS`);
 * 3. logs one line per unhealthy component.
 *
 * @returns the records, in probe order.
 * @throws {HealthCheckStoreError} when any record or breaker write failed (the others are
 *   still attempted); probe failures are results, never thrown.
 */
export async function runHealthCheck(deps: HealthCheckDeps): Promise<HealthRecord[]> {
  const now = deps.now ?? Date.now;
  const probeOptions = {
    now,
    ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}),
    ...(deps.secrets ? { secrets: deps.secrets } : {}),
  };
  const records = await Promise.all(deps.probes.map((probe) => runProbe(probe, probeOptions)));
  if (deps.metrics) publishHealthMetrics(deps.metrics, records);

  const checkedAt = now();
  const writes = await Promise.allSettled(
    records.flatMap((record) => [
      deps.records.write(record),
      ...(PROVIDERS.has(record.component) ? [updateBreaker(deps.breakers, record, checkedAt)] : []),
    ]),
  );
  for (const record of records) {
    if (!record.ok) {
      deps.logger?.warn("component unhealthy", {
        component: record.component,
        kind: record.kind,
        error: record.error,
        latencyMs: record.latencyMs,
      });
    }
  }
  const failed = writes.flatMap((w) => (w.status === "rejected" ? [w.reason as unknown] : []));
  if (failed.length > 0) {
    throw new HealthCheckStoreError(records, new AggregateError(failed, "health check writes"));
  }
  return records;
}
