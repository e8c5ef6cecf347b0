import { PurgeQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { AwsClients } from "../../core/compose/aws";
import {
  buildHealthCheckDeps,
  buildProbes,
  configuredSecrets,
} from "../../core/compose/health-check";
import { buildIngressDeps } from "../../core/compose/ingress";
import type { Config } from "../../core/config";
import { HealthCheckStoreError, runHealthCheck } from "../../core/health-check/check";
import {
  anthropicProbe,
  arcadedbProbe,
  dynamodbProbe,
  gatewayHealthProbe,
  openAICompatibleProbe,
  queueProbe,
  runProbe,
} from "../../core/health-check/probes";
import { HealthRecordStore } from "../../core/health-check/records";
import { DynamoBreakerStore, InMemoryBreakerStore } from "../../core/llm/breaker-store";
import { createHealthCheckHandler } from "../../functions/health-check";
import { createApp } from "../../functions/http";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { type FakeArcadeDb, startFakeArcadeDb } from "../fakes/arcadedb";
import {
  type FakeGatewayAdmin,
  startFakeLiteLLM,
  startFakeModelManager,
} from "../fakes/gateway-admin";
import { type HttpFake, startHttpFake } from "../fakes/http-fake";
import { type FakeOpenAI, startFakeOpenAI } from "../fakes/openai";
import { testAws, testConfig } from "../support/aws";
import { TEST_SIGNING_SECRET } from "../support/slack";

const MM_KEY = "sk-mm-health-secret";
let anthropic: FakeAnthropic;
let openai: FakeOpenAI;
let litellm: FakeGatewayAdmin;
let arcadedb: FakeArcadeDb;
/** Accepts connections and never answers. */
let silent: HttpFake;
let aws: AwsClients;
let config: Config;
let dlqUrl: string;

beforeAll(async () => {
  [anthropic, openai, litellm, arcadedb, silent] = await Promise.all([
    startFakeAnthropic({ apiKey: "sk-ant-health-secret" }),
    startFakeOpenAI({ apiKey: MM_KEY }),
    startFakeLiteLLM(),
    startFakeArcadeDb(),
    startHttpFake(() => new Promise<void>(() => {})),
  ]);
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: anthropic.apiKey,
      ANTHROPIC_BASE_URL: anthropic.url,
      MODEL_MANAGER_BASE_URL: openai.url,
      MODEL_MANAGER_API_KEY: MM_KEY,
      GATEWAY_URL: litellm.url,
      GATEWAY_ADMIN_KEY: litellm.masterKey,
      ARCADEDB_URL: arcadedb.databaseUrl,
      ARCADEDB_PASSWORD: arcadedb.password,
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_BOT_TOKEN: "xoxb-health-secret",
    }),
    { queue: `health-${Date.now()}` },
  );
  aws = setup.aws;
  config = setup.config;
  dlqUrl = setup.dlqUrl as string;
});

afterAll(async () => {
  await Promise.all([
    anthropic?.close(),
    openai?.close(),
    litellm?.close(),
    arcadedb?.close(),
    silent?.close(),
  ]);
});

beforeEach(() => {
  anthropic.reset();
  openai.reset();
  litellm.reset();
  arcadedb.reset();
});

describe("probes against the fakes", () => {
  it("Anthropic: lists one model with the configured key", async () => {
    const record = await runProbe(
      anthropicProbe({ apiKey: anthropic.apiKey, baseURL: anthropic.url }),
    );
    expect(record).toMatchObject({ component: "anthropic", ok: true, details: { models: 1 } });
    expect(record.latencyMs).toBeGreaterThanOrEqual(0);
    expect(anthropic.listRequests).toHaveLength(1);
    expect(anthropic.requests).toHaveLength(0);
  });

  it("Anthropic: a rejected key (401) is unhealthy with the API's message, kind auth", async () => {
    const wrongKey = "sk-ant-wrong-key";
    const record = await runProbe(anthropicProbe({ apiKey: wrongKey, baseURL: anthropic.url }), {
      secrets: [wrongKey],
    });
    expect(record).toMatchObject({ ok: false, kind: "auth" });
    expect(record.error).toContain("invalid x-api-key");
    expect(record.error).not.toContain(wrongKey);
  });

  it("Anthropic: a server that never answers times out", async () => {
    const record = await runProbe(anthropicProbe({ apiKey: "k", baseURL: silent.url }), {
      timeoutMs: 200,
    });
    expect(record).toMatchObject({ ok: false, kind: "timeout" });
    expect(record.latencyMs).toBeGreaterThanOrEqual(190);
  });

  it("Anthropic: a closed port is a network failure", async () => {
    const closed = await startFakeAnthropic();
    await closed.close();
    const record = await runProbe(anthropicProbe({ apiKey: "k", baseURL: closed.url }));
    expect(record).toMatchObject({ ok: false, kind: "network" });
  });

  it("OpenAI-compatible provider: lists models; a wrong key is unhealthy, kind auth", async () => {
    const ok = await runProbe(openAICompatibleProbe({ baseURL: openai.url, apiKey: MM_KEY }));
    expect(ok).toMatchObject({ ok: true, details: { models: openai.models.length } });
    const bad = await runProbe(openAICompatibleProbe({ baseURL: openai.url, apiKey: "sk-wrong" }));
    expect(bad).toMatchObject({ ok: false, kind: "auth" });
    expect(bad.error).toContain("Incorrect API key");
  });

  it("gateway: LiteLLM's liveliness route and the model manager's /health", async () => {
    const probe = gatewayHealthProbe({ url: litellm.url, dialect: "litellm" });
    expect(await runProbe(probe)).toMatchObject({ ok: true, details: { status: 200 } });
    litellm.setHealthy(false);
    expect(await runProbe(probe)).toMatchObject({
      ok: false,
      kind: "http",
      error: "HTTP 503 from /health/liveliness",
    });

    const mm = await startFakeModelManager();
    try {
      const record = await runProbe(gatewayHealthProbe({ url: mm.url, dialect: "model-manager" }));
      expect(record).toMatchObject({ ok: true });
      expect(mm.healthProbes()).toBe(1);
    } finally {
      await mm.close();
    }
  });

  it("ArcadeDB: ready, unavailable, and too slow", async () => {
    const probe = arcadedbProbe({ url: arcadedb.databaseUrl });
    expect(await runProbe(probe)).toMatchObject({ ok: true, details: { status: 204 } });
    expect(arcadedb.requests).toContain("GET /api/v1/ready");

    arcadedb.setAvailable(false);
    expect(await runProbe(probe)).toMatchObject({ ok: false, kind: "http" });
    arcadedb.setAvailable(true);

    arcadedb.setLatencyMs(2_000);
    expect(await runProbe(probe, { timeoutMs: 100 })).toMatchObject({
      ok: false,
      kind: "timeout",
    });
  });

  it("DynamoDB: the table is ACTIVE; a missing table is unhealthy", async () => {
    const ok = await runProbe(
      dynamodbProbe({ client: aws.dynamodb, tableName: config.memoryTableName }),
    );
    expect(ok).toMatchObject({ ok: true, details: { tableStatus: "ACTIVE" } });
    const missing = await runProbe(
      dynamodbProbe({ client: aws.dynamodb, tableName: "no-such-table-here" }),
    );
    expect(missing).toMatchObject({ ok: false, kind: "error" });
    expect(missing.error).toMatch(/non-existent table|not found|ResourceNotFound/i);
  });

  it("queues: depth of the queue and of its DLQ found through the RedrivePolicy", async () => {
    const queueUrl = config.chatQueueUrl as string;
    await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: dlqUrl }));
    for (const body of ["a", "b"]) {
      await aws.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    }
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: "dead" }));

    const record = await runProbe(queueProbe({ component: "chat-queue", sqs: aws.sqs, queueUrl }));
    expect(record).toMatchObject({
      component: "chat-queue",
      ok: true,
      details: { depth: 2, inFlight: 0, dlqDepth: 1 },
    });
  });

  it("queues: a queue without a DLQ reports no dlqDepth; a missing queue is unhealthy", async () => {
    const dlqOnly = await runProbe(
      queueProbe({ component: "archive-queue", sqs: aws.sqs, queueUrl: dlqUrl }),
    );
    expect(dlqOnly.ok).toBe(true);
    expect(dlqOnly.details).not.toHaveProperty("dlqDepth");

    const gone = `${dlqUrl.slice(0, dlqUrl.lastIndexOf("/"))}/no-such-queue`;
    const missing = await runProbe(
      queueProbe({ component: "archive-queue", sqs: aws.sqs, queueUrl: gone }),
    );
    expect(missing).toMatchObject({ ok: false, kind: "error" });
  });
});

describe("buildProbes", () => {
  it("probes only what is configured", () => {
    const all = buildProbes(config, aws).map((p) => p.component);
    expect(all).toEqual([
      "anthropic",
      "openai-compatible",
      "gateway",
      "arcadedb",
      "dynamodb",
      "chat-queue",
    ]);
    const bare: Config = {
      ...config,
      anthropic: {},
      modelManager: {},
      gateway: { ...config.gateway, url: undefined },
      arcadedb: { ...config.arcadedb, url: undefined },
      chatQueueUrl: undefined,
    };
    expect(buildProbes(bare, aws).map((p) => p.component)).toEqual(["dynamodb"]);
  });
});

describe("HealthRecordStore (DynamoDB Local)", () => {
  it("writes HEALTH#{component}/STATUS items and reads them back, one or all", async () => {
    const store = new HealthRecordStore({
      client: aws.documents,
      tableName: config.memoryTableName,
      cacheMs: 0,
    });
    await store.write({ component: "dynamodb", ok: true, latencyMs: 4, checkedAt: 10 });
    await store.write({
      component: "anthropic",
      ok: false,
      latencyMs: 9,
      checkedAt: 11,
      error: "down",
      kind: "network",
    });
    const fresh = new HealthRecordStore({
      client: aws.documents,
      tableName: config.memoryTableName,
    });
    expect(await fresh.read("dynamodb")).toEqual({
      component: "dynamodb",
      ok: true,
      latencyMs: 4,
      checkedAt: 10,
    });
    expect(await fresh.lastCheck("anthropic")).toEqual({
      ok: false,
      checkedAt: 11,
      kind: "network",
    });
    expect(await fresh.lastCheck("openai-compatible")).toBeUndefined();
    const all = await fresh.readAll();
    expect(all.map((r) => r.component)).toEqual(expect.arrayContaining(["anthropic", "dynamodb"]));
    expect(all.findIndex((r) => r.component === "anthropic")).toBeLessThan(
      all.findIndex((r) => r.component === "dynamodb"),
    );
  });

  it("gives routing the failure kind, reading a kind that is no LlmErrorKind as unknown", async () => {
    const table = { client: aws.documents, tableName: config.memoryTableName };
    await new HealthRecordStore(table).write({
      component: "openai-compatible",
      ok: false,
      latencyMs: 2,
      checkedAt: 20,
      error: "boom",
      kind: "error",
    });
    expect(await new HealthRecordStore(table).lastCheck("openai-compatible")).toEqual({
      ok: false,
      checkedAt: 20,
      kind: "unknown",
    });
  });

  it("caches reads for cacheMs and sees its own writes at once", async () => {
    let now = 0;
    const table = { client: aws.documents, tableName: config.memoryTableName };
    const reader = new HealthRecordStore({ ...table, cacheMs: 5_000, now: () => now });
    const writer = new HealthRecordStore(table);
    await writer.write({ component: "gateway", ok: true, latencyMs: 1, checkedAt: 1 });
    expect((await reader.read("gateway"))?.ok).toBe(true);
    await writer.write({ component: "gateway", ok: false, latencyMs: 1, checkedAt: 2 });
    expect((await reader.read("gateway"))?.ok).toBe(true);
    now += 5_000;
    expect((await reader.read("gateway"))?.ok).toBe(false);
    await reader.write({ component: "gateway", ok: true, latencyMs: 1, checkedAt: 3 });
    expect((await reader.read("gateway"))?.checkedAt).toBe(3);
  });
});

/** Everything Powertools wrote to stdout while `fn` ran, as EMF documents. */
async function captureEmf<T>(fn: () => Promise<T>): Promise<[T, Record<string, unknown>[]]> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    const result = await fn();
    const docs = chunks
      .join("")
      .split("\n")
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return [result, docs];
  } finally {
    spy.mockRestore();
  }
}

describe("runHealthCheck", () => {
  it("stores a record per component, emits EMF metrics, and moves the provider breakers", async () => {
    const breakers = new DynamoBreakerStore({
      client: aws.documents,
      tableName: config.memoryTableName,
      cacheMs: 0,
    });
    const deps = buildHealthCheckDeps(config, aws, { breakerStore: breakers });
    arcadedb.setAvailable(false);
    const failing = new DynamoBreakerStore({
      client: aws.documents,
      tableName: config.memoryTableName,
    });
    await failing.put("anthropic", { state: "open", consecutiveFailures: 3, openedAt: 1 });

    const [records, docs] = await captureEmf(() => runHealthCheck(deps));
    const byComponent = Object.fromEntries(records.map((r) => [r.component, r]));
    expect(Object.keys(byComponent).sort()).toEqual(
      ["anthropic", "arcadedb", "chat-queue", "dynamodb", "gateway", "openai-compatible"].sort(),
    );
    expect(byComponent.arcadedb).toMatchObject({ ok: false, kind: "http" });
    expect(byComponent.anthropic?.ok).toBe(true);

    const healthy = Object.fromEntries(docs.map((d) => [d.component, d.Healthy]));
    expect(healthy).toEqual({
      anthropic: 1,
      "openai-compatible": 1,
      gateway: 1,
      arcadedb: 0,
      dynamodb: 1,
      "chat-queue": 1,
    });
    expect(docs.every((d) => typeof d.LatencyMs === "number")).toBe(true);
    expect(docs.find((d) => d.component === "chat-queue")).toHaveProperty("DlqDepth");

    const stored = await new HealthRecordStore({
      client: aws.documents,
      tableName: config.memoryTableName,
    }).readAll();
    expect(stored.find((r) => r.component === "arcadedb")).toMatchObject({ ok: false });
    // The passing Anthropic probe closed the breaker that user traffic had opened.
    expect(await breakers.get("anthropic")).toEqual({ state: "closed", consecutiveFailures: 0 });
  });

  it("a failed provider probe opens its breaker at once", async () => {
    const breakers = new InMemoryBreakerStore();
    const down = await startFakeAnthropic();
    await down.close();
    const deps = buildHealthCheckDeps(
      { ...config, anthropic: { apiKey: "k", baseUrl: down.url } },
      aws,
      { breakerStore: breakers, metrics: null, now: () => 1_700_000_000_000 },
    );
    const records = await runHealthCheck(deps);
    expect(records.find((r) => r.component === "anthropic")).toMatchObject({
      ok: false,
      kind: "network",
    });
    expect(await breakers.get("anthropic")).toEqual({
      state: "open",
      consecutiveFailures: 1,
      openedAt: 1_700_000_000_000,
    });
    expect(await breakers.get("openai-compatible")).toEqual({
      state: "closed",
      consecutiveFailures: 0,
    });
  });

  it("rejects with HealthCheckStoreError, after metrics, when records cannot be stored", async () => {
    const deps = buildHealthCheckDeps(config, aws, {
      records: new HealthRecordStore({ client: aws.documents, tableName: "no-such-table-here" }),
      breakerStore: new InMemoryBreakerStore(),
    });
    deps.probes = deps.probes.filter((p) => p.component === "dynamodb");
    const [error, docs] = await captureEmf(() =>
      runHealthCheck(deps).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(error).toBeInstanceOf(HealthCheckStoreError);
    expect((error as HealthCheckStoreError).records).toHaveLength(1);
    expect(docs).toHaveLength(1);
  });

  it("the Lambda handler summarises healthy and unhealthy components", async () => {
    arcadedb.setAvailable(false);
    const handler = createHealthCheckHandler(
      buildHealthCheckDeps(config, aws, {
        metrics: null,
        breakerStore: new InMemoryBreakerStore(),
      }),
    );
    const summary = await handler();
    expect(summary.unhealthy).toEqual(["arcadedb"]);
    expect(summary.healthy).toContain("anthropic");
  });
});

describe("GET /health?deep=1", () => {
  it("returns the latest records and never a configured secret, even when an error echoed one", async () => {
    // A transport that fails with the request's headers in its message, as some libraries do.
    const leakyFetch: typeof fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.startsWith(anthropic.url)) {
        const headers = new Headers(init?.headers);
        const auth = `${headers.get("x-api-key")} ${headers.get("authorization")}`;
        throw new Error(`connect failed for ${url} with credentials ${auth}`);
      }
      return fetch(input, init);
    };
    const records = new HealthRecordStore({
      client: aws.documents,
      tableName: config.memoryTableName,
    });
    const deps = buildHealthCheckDeps(config, aws, {
      records,
      breakerStore: new InMemoryBreakerStore(),
      metrics: null,
      fetch: leakyFetch,
    });
    const checked = await runHealthCheck(deps);
    const anthropicCheck = checked.find((r) => r.component === "anthropic");
    expect(anthropicCheck).toMatchObject({ ok: false, kind: "network" });
    expect(anthropicCheck?.error).toContain("[redacted]");

    const app = createApp(buildIngressDeps(config, aws, { healthRecords: records }));
    const res = await app.request("/health?deep=1");
    expect(res.status).toBe(200);
    const text = await res.text();
    const body = JSON.parse(text) as { status: string; checks: { component: string }[] };
    expect(body.status).toBe("ok");
    expect(body.checks.map((c) => c.component)).toEqual([
      "anthropic",
      "openai-compatible",
      "gateway",
      "arcadedb",
      "dynamodb",
      "chat-queue",
    ]);
    const secrets = configuredSecrets(config);
    expect(secrets).toEqual(
      expect.arrayContaining([
        anthropic.apiKey,
        MM_KEY,
        TEST_SIGNING_SECRET,
        "xoxb-health-secret",
        arcadedb.password,
        litellm.masterKey,
      ]),
    );
    for (const secret of secrets) expect(text).not.toContain(secret);
  });

  it("leaves plain /health unchanged and answers 503 when the records cannot be read", async () => {
    const deps = buildIngressDeps(config, aws, {
      healthRecords: new HealthRecordStore({ client: aws.documents, tableName: "no-such-table" }),
    });
    const app = createApp(deps);
    const plain = (await (await app.request("/health")).json()) as Record<string, unknown>;
    expect(plain).not.toHaveProperty("checks");
    expect(plain).toEqual(deps.health());
    const deep = await app.request("/health?deep=1");
    expect(deep.status).toBe(503);
    expect(await deep.json()).toMatchObject({ checks: null, error: "health_records_unavailable" });
  });
});
