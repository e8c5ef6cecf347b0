import { PurgeQueueCommand } from "@aws-sdk/client-sqs";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { ChatJob } from "../../core/chat/job";
import type { AwsClients } from "../../core/compose/aws";
import { buildIngressDeps } from "../../core/compose/ingress";
import type { Config } from "../../core/config";
import { signKadiCallback } from "../../core/kadi/callback";
import { createLogger } from "../../core/logger";
import type { ChatJobSink } from "../../core/queue/chat-queue";
import { createApp } from "../../functions/http";
import { queueDepth, receiveOneJob, testAws, testConfig } from "../support/aws";
import { nowTs } from "../support/slack";

const SECRET = "kadi-callback-secret-0123456789";
const BOT = "UBOTKADI";
const CHANNEL = `slack.app_mention.${BOT}`;

let aws: AwsClients;
let config: Config;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  const setup = await testAws(
    testConfig({ KADI_CALLBACK_SECRET: SECRET, SLACK_BOT_USER_ID: BOT }),
    { queue: `kadi-events-${Date.now()}` },
  );
  aws = setup.aws;
  config = setup.config;
  app = createApp(buildIngressDeps(config, aws));
});

beforeEach(async () => {
  await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: config.chatQueueUrl }));
});

function queuedJob(): Promise<ChatJob> {
  return receiveOneJob(aws.sqs, config.chatQueueUrl as string);
}

function chatQueueDepth(): Promise<number> {
  return queueDepth(aws.sqs, config.chatQueueUrl as string);
}

function delivery(ts: string, text = `<@${BOT}> hello from the broker`, channel = CHANNEL) {
  return JSON.stringify({
    channel,
    data: {
      id: ts,
      user: "U0ALICE",
      text,
      channel: "C0CHAN",
      thread_ts: ts,
      ts,
      bot_id: BOT,
      timestamp: new Date().toISOString(),
    },
  });
}

function post(body: string, headers: Record<string, string>, target = app) {
  return target.request("/kadi/events", { method: "POST", body, headers });
}

const signed = (body: string, secret = SECRET, at = Date.now() / 1000) =>
  signKadiCallback(secret, body, at);

describe("POST /kadi/events", () => {
  it("enqueues a signed delivery once, even when it is sent twice", async () => {
    const ts = nowTs();
    const body = delivery(ts);
    const first = await post(body, signed(body));
    const second = await post(body, signed(body));
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(await first.json()).toEqual({ ok: true });
    expect(await second.json()).toEqual({ ok: true, duplicate: true });
    expect(await queuedJob()).toMatchObject({
      text: "hello from the broker",
      source: { kind: "kadi-event", eventId: ts, channel: CHANNEL },
      reply: { platform: "slack", via: "kadi", address: { channel: "C0CHAN", threadTs: ts } },
    });
  });

  it.each([
    ["a wrong secret", (b: string) => signed(b, "wrong")],
    [
      "a timestamp over five minutes old",
      (b: string) => signed(b, SECRET, Date.now() / 1000 - 301),
    ],
    ["no signature headers", () => ({ "content-type": "application/json" })],
  ])("refuses %s with 401 and enqueues nothing", async (_name, headers) => {
    const body = delivery(nowTs());
    const res = await post(body, headers(body));
    expect(res.status).toBe(401);
    expect(await chatQueueDepth()).toBe(0);
  });

  it("answers 400 for malformed JSON, a body that is no delivery, and an unusable event", async () => {
    const bodies = [
      "{nope",
      JSON.stringify({ data: {} }),
      JSON.stringify({ channel: CHANNEL, data: { id: "1", text: "no user" } }),
    ];
    for (const body of bodies) {
      const res = await post(body, signed(body));
      expect(res.status).toBe(400);
      expect(await res.json()).toHaveProperty("error");
    }
    expect(await chatQueueDepth()).toBe(0);
  });

  it("acks and ignores channels it does not serve", async () => {
    const body = delivery(nowTs(), "hi", "slack.app_mention.USOMEONEELSE");
    const res = await post(body, signed(body));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, ignored: "another bot" });
    expect(await chatQueueDepth()).toBe(0);
  });

  it("answers 503 when KADI_CALLBACK_SECRET is not set", async () => {
    const bare = createApp(
      buildIngressDeps({ ...config, kadi: { ...config.kadi, callbackSecret: undefined } }, aws),
    );
    const body = delivery(nowTs());
    expect((await post(body, signed(body), bare)).status).toBe(503);
  });

  it("releases the dedupe mark when enqueueing fails, so a resend gets through", async () => {
    const accepted: unknown[] = [];
    let failures = 1;
    const flaky: ChatJobSink = {
      async enqueue(job) {
        if (failures-- > 0) throw new Error("queue down");
        accepted.push(job);
      },
    };
    const flakyApp = createApp(buildIngressDeps(config, aws, { queue: flaky }));
    const body = delivery(nowTs());
    // 503 (was 500 before issue 13), with Retry-After, so a broker knows to resend.
    const first = await post(body, signed(body), flakyApp);
    expect(first.status).toBe(503);
    expect(first.headers.get("retry-after")).toBe("5");
    expect(await first.json()).toEqual({ error: "queue_unavailable" });
    expect((await post(body, signed(body), flakyApp)).status).toBe(200);
    expect(accepted).toHaveLength(1);
  });
});

describe("POST /kadi/events: payload shapes", () => {
  it("queues a person's mention whose optional fields are null, ignoring unknown fields", async () => {
    const ts = nowTs();
    const body = JSON.stringify({
      channel: CHANNEL,
      data: {
        id: ts,
        user: "U0ALICE",
        text: `<@${BOT}> nulls are fine`,
        channel: "C0CHAN",
        ts,
        thread_ts: null,
        bot_id: null,
        timestamp: null,
        team: "T0NEW",
        blocks: [{ type: "rich_text" }],
      },
    });
    const res = await post(body, signed(body));
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 200,
      body: { ok: true },
    });
    expect(await queuedJob()).toMatchObject({
      text: "nulls are fine",
      reply: { platform: "slack", via: "kadi", address: { channel: "C0CHAN", threadTs: ts } },
    });
  });

  it("queues a Discord mention with null username, guild, channelName, ts and timestamp", async () => {
    const id = String((BigInt(Date.now() - 1_420_070_400_000) << 22n) | 7n);
    const body = JSON.stringify({
      channel: "discord.mention.123456789012345678",
      data: {
        id,
        user: "987654321098765432",
        text: "<@123456789012345678> from a DM",
        channel: "555555555555555555",
        username: null,
        guild: null,
        channelName: null,
        ts: null,
        bot_id: null,
        timestamp: null,
      },
    });
    const res = await post(body, signed(body));
    expect(res.status).toBe(200);
    expect(await queuedJob()).toMatchObject({
      text: "from a DM",
      reply: {
        platform: "discord",
        via: "kadi",
        address: { channel: "555555555555555555", messageId: id },
      },
    });
  });

  it.each(["id", "user", "text", "channel"])(
    "answers 400 naming %s when it is missing or empty, and logs only the event id and reason",
    async (field) => {
      const logger = createLogger("kadi-events-test", "SILENT");
      const warn = vi.spyOn(logger, "warn");
      const deps = buildIngressDeps(config, aws, { logger });
      const target = createApp(deps);
      const ts = nowTs();
      const data: Record<string, unknown> = {
        id: ts,
        user: "U0SECRETUSER",
        text: `<@${BOT}> a private question`,
        channel: "C0PRIVATE",
        ts,
      };
      for (const value of [undefined, ""]) {
        const body = JSON.stringify({ channel: CHANNEL, data: { ...data, [field]: value } });
        const res = await post(body, signed(body), target);
        expect(res.status).toBe(400);
        expect(((await res.json()) as { error: string }).error).toMatch(
          new RegExp(`^invalid_event: ${field}\\b`),
        );
      }
      const refusals = warn.mock.calls.filter(([message]) => message === "kadi event refused");
      expect(refusals).toHaveLength(2);
      for (const [, keys] of refusals) {
        expect(keys).toMatchObject({ reason: expect.stringContaining(field) });
        if (field !== "id") expect(keys).toMatchObject({ eventId: ts });
        const logged = JSON.stringify(keys);
        for (const raw of ["U0SECRETUSER", "a private question", "C0PRIVATE"]) {
          expect(logged).not.toContain(raw);
        }
      }
      expect(await chatQueueDepth()).toBe(0);
    },
  );
});
