import { PurgeQueueCommand } from "@aws-sdk/client-sqs";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { chatJobSchema } from "../../core/chat/job";
import type { AwsClients } from "../../core/compose/aws";
import { buildIngressDeps } from "../../core/compose/ingress";
import type { Config } from "../../core/config";
import type { ChatJobSink } from "../../core/queue/chat-queue";
import { createApp } from "../../functions/http";
import { queueDepth, receiveJson, testAws, testConfig } from "../support/aws";
import { appMentionEnvelope, signedHeaders, TEST_SIGNING_SECRET } from "../support/slack";

let aws: AwsClients;
let config: Config;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  const setup = await testAws(
    testConfig({ SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET, SLACK_BOT_USER_ID: "UBOT" }),
    { queue: `ingress-${Date.now()}` },
  );
  aws = setup.aws;
  config = setup.config;
  app = createApp(buildIngressDeps(config, aws));
});

beforeEach(async () => {
  await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: config.chatQueueUrl }));
});

function queued(): Promise<unknown[]> {
  return receiveJson(aws.sqs, config.chatQueueUrl as string);
}

function chatQueueDepth(): Promise<number> {
  return queueDepth(aws.sqs, config.chatQueueUrl as string);
}

function post(body: string, headers: Record<string, string>, target = app) {
  return target.request("/slack/events", { method: "POST", body, headers });
}

describe("POST /slack/events", () => {
  it("answers the url_verification handshake", async () => {
    const body = JSON.stringify({ type: "url_verification", token: "t", challenge: "3eZbrw1aB" });
    const res = await post(body, signedHeaders(body));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: "3eZbrw1aB" });
  });

  it("enqueues one valid ChatJob for a signed app_mention", async () => {
    const body = JSON.stringify(appMentionEnvelope({ eventId: "Ev-one", text: "hello there" }));
    const res = await post(body, signedHeaders(body));
    expect(res.status).toBe(200);
    const jobs = await queued();
    expect(jobs).toHaveLength(1);
    const job = chatJobSchema.parse(jobs[0]);
    expect(job).toMatchObject({ text: "hello there", source: { eventId: "Ev-one" } });
  });

  it("acks Slack's retries of one event and enqueues it once", async () => {
    const body = JSON.stringify(appMentionEnvelope({ eventId: "Ev-retried", text: "once please" }));
    const statuses = [];
    for (const retryNum of [0, 1, 2, 3]) {
      statuses.push((await post(body, signedHeaders(body, { retryNum }))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(await chatQueueDepth()).toBe(1);
  });

  it.each([
    ["a wrong signature", (b: string) => signedHeaders(b, { secret: "wrong" }), 401],
    [
      "a timestamp over five minutes old",
      (b: string) => signedHeaders(b, { timestamp: Math.floor(Date.now() / 1000) - 301 }),
      401,
    ],
    ["no signature headers", () => ({ "content-type": "application/json" }), 401],
  ])("refuses %s with %i and enqueues nothing", async (_name, headers, status) => {
    const body = JSON.stringify(
      appMentionEnvelope({ eventId: `Ev-${status}-${Math.random()}`, text: "x" }),
    );
    const res = await post(body, headers(body));
    expect(res.status).toBe(status);
    expect(await chatQueueDepth()).toBe(0);
  });

  it("answers 400 for malformed JSON and for a malformed envelope", async () => {
    for (const body of ["{not json", JSON.stringify({ type: "event_callback", event: {} })]) {
      const res = await post(body, signedHeaders(body));
      expect(res.status).toBe(400);
      expect(await res.json()).toHaveProperty("error");
    }
    expect(await chatQueueDepth()).toBe(0);
  });

  it("answers 400 for a message that makes no valid job (text over 40 000 characters)", async () => {
    const body = JSON.stringify(
      appMentionEnvelope({ eventId: "Ev-long", text: "x".repeat(40_001) }),
    );
    const res = await post(body, signedHeaders(body));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: expect.stringContaining("text") });
    expect(await chatQueueDepth()).toBe(0);
  });

  it("answers 413 for a body over 1 MiB", async () => {
    const body = JSON.stringify({ type: "event_callback", padding: "x".repeat(1024 * 1024) });
    const res = await post(body, signedHeaders(body));
    expect(res.status).toBe(413);
    expect(await chatQueueDepth()).toBe(0);
  });

  it("acks and ignores bot messages and unknown envelope types", async () => {
    const bot = appMentionEnvelope({ eventId: "Ev-bot", text: "beep" });
    (bot.event as Record<string, unknown>).bot_id = "B1";
    for (const body of [JSON.stringify(bot), JSON.stringify({ type: "some_future_type" })]) {
      const res = await post(body, signedHeaders(body));
      expect(res.status).toBe(200);
    }
    expect(await chatQueueDepth()).toBe(0);
  });

  it("answers 503 when no signing secret is configured", async () => {
    const bare = createApp(
      buildIngressDeps({ ...config, slack: { ...config.slack, signingSecret: undefined } }, aws),
    );
    const body = JSON.stringify(appMentionEnvelope({ eventId: "Ev-503", text: "x" }));
    const res = await post(body, signedHeaders(body), bare);
    expect(res.status).toBe(503);
  });

  it("releases the dedupe mark when enqueueing fails, so Slack's retry gets through", async () => {
    const accepted: unknown[] = [];
    let failures = 1;
    const flaky: ChatJobSink = {
      async enqueue(job) {
        if (failures-- > 0) throw new Error("queue down");
        accepted.push(job);
      },
    };
    const deps = buildIngressDeps(config, aws);
    const flakyApp = createApp({ ...deps, slack: { ...deps.slack, queue: flaky } });
    const body = JSON.stringify(appMentionEnvelope({ eventId: "Ev-flaky", text: "x" }));
    const first = await post(body, signedHeaders(body), flakyApp);
    expect(first.status).toBe(500);
    const retry = await post(body, signedHeaders(body, { retryNum: 1 }), flakyApp);
    expect(retry.status).toBe(200);
    expect(accepted).toHaveLength(1);
  });
});

describe("GET /health", () => {
  it("reports which providers are unconfigured", async () => {
    const res = await app.request("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: "degraded",
      providers: {
        anthropic: { configured: false, reason: "ANTHROPIC_API_KEY is not set" },
        "model-manager": { configured: false },
      },
    });
  });
});
