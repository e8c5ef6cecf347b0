import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAwsClients } from "../../core/compose/aws";
import type { HealthRecord } from "../../core/health-check/records";
import { DynamoBreakerStore } from "../../core/llm/breaker-store";
import { DEFAULT_ANTHROPIC_MODEL, DEFAULT_OPENAI_COMPATIBLE_MODEL } from "../../core/llm/models";
import { LOCAL_CREDENTIALS } from "../../local/services";
import { type LocalStack, startLocalStack } from "../../local/stack";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { type FakeOpenAI, startFakeOpenAI } from "../fakes/openai";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import { testAws, testConfig } from "../support/aws";
import { answers, appMentionEnvelope, postSlackEvent, TEST_SIGNING_SECRET } from "../support/slack";

const BOT = "UBOTHEALTH";
const ANTHROPIC_KEY = "sk-ant-health-e2e";
let anthropic: FakeAnthropic;
let anthropicPort: number;
let openai: FakeOpenAI;
let slack: FakeSlack;
let stack: LocalStack;
let breakers: DynamoBreakerStore;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: ANTHROPIC_KEY });
  anthropicPort = Number(new URL(anthropic.url).port);
  openai = await startFakeOpenAI({ models: [DEFAULT_OPENAI_COMPATIBLE_MODEL] });
  slack = await startFakeSlack({ token: "xoxb-health-e2e", botUserId: BOT });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: anthropic.url,
      MODEL_MANAGER_BASE_URL: openai.url,
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_BOT_TOKEN: "xoxb-health-e2e",
      SLACK_BOT_USER_ID: BOT,
      SLACK_API_URL: slack.url,
      PORT: "0",
    }),
    { queue: `e2e-health-${Date.now()}` },
  );
  stack = await startLocalStack(setup.config);
  // A reader of the table with no cache of its own: what another container would see.
  breakers = new DynamoBreakerStore({
    client: createAwsClients(stack.config, LOCAL_CREDENTIALS).documents,
    tableName: stack.config.memoryTableName,
    cacheMs: 0,
  });
});

afterAll(async () => {
  await stack?.stop();
  await Promise.all([anthropic?.close(), openai?.close(), slack?.close()]);
});

beforeEach(() => {
  anthropic.reset();
  openai.reset();
  slack.reset();
});

async function deepHealth(): Promise<Record<string, HealthRecord>> {
  const res = await fetch(`${stack.url}/health?deep=1`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { checks: HealthRecord[] };
  return Object.fromEntries(body.checks.map((c) => [c.component, c]));
}

/** Sends a signed mention and resolves with the one reply Slack receives for it. */
async function mentionAndReply(eventId: string, text: string): Promise<string | undefined> {
  const envelope = appMentionEnvelope({ eventId, text, botUserId: BOT, user: "U0HEALTH" });
  expect(await postSlackEvent(stack.url, envelope)).toBe(200);
  const deadline = Date.now() + 20_000;
  while (answers(slack).length === 0) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the reply");
    await new Promise((r) => setTimeout(r, 50));
  }
  const reply = answers(slack)[0]?.text;
  return typeof reply === "string" ? reply : undefined;
}

describe("scheduled health check drives routing (local stack)", () => {
  it("checks every configured component at start and serves the records on /health?deep=1", async () => {
    const checks = await deepHealth();
    expect(Object.keys(checks)).toEqual(
      expect.arrayContaining(["anthropic", "openai-compatible", "dynamodb", "chat-queue"]),
    );
    expect(checks.anthropic).toMatchObject({ ok: true, details: { models: 1 } });
    expect(checks["openai-compatible"]).toMatchObject({ ok: true, details: { models: 1 } });
    expect(checks.dynamodb).toMatchObject({ ok: true, details: { tableStatus: "ACTIVE" } });
    expect(checks["chat-queue"]?.details).toMatchObject({ depth: 0, dlqDepth: 0 });
    expect(await mentionAndReply("Ev-health-up", "hello")).toBe(
      `fake-anthropic(${DEFAULT_ANTHROPIC_MODEL}): hello`,
    );
  });

  it("stopping Anthropic marks it unhealthy at the next check and routes to the OpenAI-compatible provider", async () => {
    await anthropic.close();
    const records = await stack.runHealthCheckNow();
    expect(records.find((r) => r.component === "anthropic")).toMatchObject({
      ok: false,
      kind: "network",
    });
    expect((await deepHealth()).anthropic).toMatchObject({ ok: false, kind: "network" });
    expect(await breakers.get("anthropic")).toMatchObject({ state: "open" });

    // Anthropic comes back, but no check has run yet: routing keeps skipping it untried.
    anthropic = await startFakeAnthropic({ apiKey: ANTHROPIC_KEY, port: anthropicPort });
    expect(await mentionAndReply("Ev-health-down", "anyone there?")).toBe(
      `fake-openai(${DEFAULT_OPENAI_COMPATIBLE_MODEL}): anyone there?`,
    );
    expect(openai.requests).toHaveLength(1);
    expect(anthropic.requests).toHaveLength(0);
  });

  it("restarting Anthropic recovers routing after the next check", async () => {
    const records = await stack.runHealthCheckNow();
    expect(records.find((r) => r.component === "anthropic")).toMatchObject({ ok: true });
    expect((await deepHealth()).anthropic).toMatchObject({ ok: true });
    expect(await breakers.get("anthropic")).toEqual({ state: "closed", consecutiveFailures: 0 });

    expect(await mentionAndReply("Ev-health-back", "welcome back")).toBe(
      `fake-anthropic(${DEFAULT_ANTHROPIC_MODEL}): welcome back`,
    );
    expect(anthropic.requests).toHaveLength(1);
    expect(openai.requests).toHaveLength(0);
  });
});
