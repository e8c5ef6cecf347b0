import { Metrics } from "@aws-lambda-powertools/metrics";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  COMPONENT_DIMENSION,
  METRICS_NAMESPACE,
  publishHealthMetrics,
} from "../../core/health-check/check";
import {
  dlqFromRedrivePolicy,
  type Probe,
  ProbeHttpError,
  redactSecrets,
  runProbe,
} from "../../core/health-check/probes";
import { type HealthRecord, parseHealthItem } from "../../core/health-check/records";
import { startHealthCheckSchedule } from "../../core/health-check/schedule";
import { LlmError } from "../../core/llm/errors";

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe("redactSecrets", () => {
  it("masks configured secret values and URL credentials, and bounds the length", () => {
    const text =
      "failed GET http://admin:hunter22@db:2480/x with key sk-ant-123456 (again sk-ant-123456)";
    expect(redactSecrets(text, ["sk-ant-123456", "abc"])).toBe(
      "failed GET http://[redacted]@db:2480/x with key [redacted] (again [redacted])",
    );
    expect(redactSecrets("x".repeat(2_000), [])).toHaveLength(501);
  });
});

describe("dlqFromRedrivePolicy", () => {
  it("reads the DLQ name and account from the policy's ARN", () => {
    const policy = JSON.stringify({
      deadLetterTargetArn: "arn:aws:sqs:eu-west-1:123456789012:chat-dlq",
      maxReceiveCount: 3,
    });
    expect(dlqFromRedrivePolicy(policy)).toEqual({
      QueueName: "chat-dlq",
      QueueOwnerAWSAccountId: "123456789012",
    });
  });

  it("returns undefined for a missing, unparsable or foreign policy", () => {
    expect(dlqFromRedrivePolicy(undefined)).toBeUndefined();
    expect(dlqFromRedrivePolicy("{not json")).toBeUndefined();
    expect(dlqFromRedrivePolicy(JSON.stringify({ deadLetterTargetArn: "chat-dlq" }))).toBe(
      undefined,
    );
  });
});

describe("runProbe", () => {
  const probe = (run: Probe["run"]): Probe => ({ component: "arcadedb", run });

  it("records success with latency and details", async () => {
    let now = 1_000;
    const record = await runProbe(
      probe(async () => {
        now += 42;
        return { status: 204 };
      }),
      { now: () => now },
    );
    expect(record).toEqual({
      component: "arcadedb",
      ok: true,
      latencyMs: 42,
      checkedAt: 1_042,
      details: { status: 204 },
    });
  });

  it("turns a failure into a record with a redacted message and its kind", async () => {
    const auth = await runProbe(
      probe(async () => {
        throw new LlmError({ kind: "auth", provider: "anthropic", message: "401 key sk-secret" });
      }),
      { secrets: ["sk-secret"] },
    );
    expect(auth).toMatchObject({ ok: false, kind: "auth", error: "401 key [redacted]" });
    const http = await runProbe(
      probe(async () => {
        throw new ProbeHttpError(503, "HTTP 503 from /api/v1/ready");
      }),
    );
    expect(http).toMatchObject({ ok: false, kind: "http", error: "HTTP 503 from /api/v1/ready" });
  });

  it("gives up at the timeout, aborts the probe and says so", async () => {
    let aborted: unknown;
    const record = await runProbe(
      probe(
        (signal) =>
          new Promise(() => {
            signal.addEventListener("abort", () => {
              aborted = signal.reason;
            });
          }),
      ),
      { timeoutMs: 50 },
    );
    expect(record).toMatchObject({
      ok: false,
      kind: "timeout",
      error: "arcadedb: no answer within 50 ms",
    });
    expect(record.latencyMs).toBeGreaterThanOrEqual(45);
    expect(aborted).toBeInstanceOf(Error);
  });
});

describe("parseHealthItem", () => {
  it("reads a stored item and drops the keys", () => {
    expect(
      parseHealthItem({
        pk: "HEALTH#chat-queue",
        sk: "STATUS",
        component: "chat-queue",
        ok: true,
        latencyMs: 3,
        checkedAt: 5,
        details: { depth: 2, dlqDepth: 0 },
      }),
    ).toEqual({
      component: "chat-queue",
      ok: true,
      latencyMs: 3,
      checkedAt: 5,
      details: { depth: 2, dlqDepth: 0 },
    });
  });

  it("reads missing or malformed items as never checked", () => {
    expect(parseHealthItem(undefined)).toBeUndefined();
    expect(parseHealthItem({ component: "anthropic", ok: "yes" })).toBeUndefined();
    expect(parseHealthItem({ component: "mystery", ok: true, latencyMs: 1, checkedAt: 1 })).toBe(
      undefined,
    );
  });
});

/** EMF documents Powertools wrote to stdout while `fn` ran. */
function captureEmf(fn: () => void): Record<string, unknown>[] {
  const lines: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    fn();
  } finally {
    vi.mocked(process.stdout.write).mockRestore();
  }
  return lines
    .join("")
    .split("\n")
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("publishHealthMetrics (Powertools EMF)", () => {
  it("emits Healthy and LatencyMs per component, and queue depths for queues", () => {
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: "health-check" });
    const records: HealthRecord[] = [
      { component: "anthropic", ok: false, latencyMs: 12, checkedAt: 1, error: "down" },
      {
        component: "chat-queue",
        ok: true,
        latencyMs: 3,
        checkedAt: 1,
        details: { depth: 4, inFlight: 1, dlqDepth: 2 },
      },
    ];
    const docs = captureEmf(() => publishHealthMetrics(metrics, records));
    expect(docs).toHaveLength(2);

    const [anthropic, queue] = docs;
    expect(anthropic).toMatchObject({
      [COMPONENT_DIMENSION]: "anthropic",
      service: "health-check",
      Healthy: 0,
      LatencyMs: 12,
    });
    expect(anthropic).not.toHaveProperty("QueueDepth");
    expect(queue).toMatchObject({
      [COMPONENT_DIMENSION]: "chat-queue",
      Healthy: 1,
      LatencyMs: 3,
      QueueDepth: 4,
      DlqDepth: 2,
    });
    const aws = queue?._aws as { CloudWatchMetrics: Record<string, unknown>[] } | undefined;
    const directive = aws?.CloudWatchMetrics[0];
    expect(directive?.Namespace).toBe(METRICS_NAMESPACE);
    expect(directive?.Dimensions).toEqual([["service", COMPONENT_DIMENSION]]);
    expect(directive?.Metrics).toEqual([
      { Name: "Healthy", Unit: "Count" },
      { Name: "LatencyMs", Unit: "Milliseconds" },
      { Name: "QueueDepth", Unit: "Count" },
      { Name: "DlqDepth", Unit: "Count" },
    ]);
  });
});

describe("startHealthCheckSchedule", () => {
  const record: HealthRecord = { component: "dynamodb", ok: true, latencyMs: 1, checkedAt: 1 };

  it("serialises runs: runNow waits for the run in flight", async () => {
    const order: string[] = [];
    let release: () => void = () => {};
    let calls = 0;
    const schedule = startHealthCheckSchedule(
      async () => {
        const n = ++calls;
        order.push(`start ${n}`);
        if (n === 1) await new Promise<void>((r) => (release = r));
        order.push(`end ${n}`);
        return [record];
      },
      { intervalMs: 60_000, onError: () => {} },
    );
    const first = schedule.runNow();
    const second = schedule.runNow();
    await Promise.resolve();
    release();
    await expect(first).resolves.toEqual([record]);
    await expect(second).resolves.toEqual([record]);
    expect(order).toEqual(["start 1", "end 1", "start 2", "end 2"]);
    await schedule.stop();
    await expect(schedule.runNow()).rejects.toThrow(/stopped/);
  });

  it("runs on the interval, skips ticks while a run is in flight, and reports errors", async () => {
    vi.useFakeTimers();
    const errors: unknown[] = [];
    let calls = 0;
    let release: () => void = () => {};
    const schedule = startHealthCheckSchedule(
      async () => {
        calls++;
        if (calls === 1) await new Promise<void>((r) => (release = r));
        if (calls === 2) throw new Error("table down");
        return [record];
      },
      { intervalMs: 1_000, onError: (e) => errors.push(e) },
    );
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(calls).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
    await schedule.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls).toBe(2);
  });
});
