import { PurgeQueueCommand } from "@aws-sdk/client-sqs";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ChatJob, chatJobSchema } from "../../core/chat/job";
import type { AwsClients } from "../../core/compose/aws";
import { buildIngressDeps } from "../../core/compose/ingress";
import type { Config } from "../../core/config";
import type { ChatJobSink } from "../../core/queue/chat-queue";
import { createApp } from "../../functions/http";
import { queueDepth, receiveJson, receiveOneJob, testAws, testConfig } from "../support/aws";
import {
  appMentionEnvelope,
  eventCallback,
  nowTs,
  signedHeaders,
  TEST_SIGNING_SECRET,
} from "../support/slack";

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

function queuedJob(): Promise<ChatJob> {
  return receiveOneJob(aws.sqs, config.chatQueueUrl as string);
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

  it("answers 400 naming what is wrong for a body that is not JSON, not an object, or has no type", async () => {
    const cases: [string, RegExp][] = [
      ["{not json", /^malformed_json$/],
      ["[1,2]", /^invalid_envelope: body /],
      ['"event_callback"', /^invalid_envelope: body /],
      ["null", /^invalid_envelope: body /],
      [JSON.stringify({ event: { type: "app_mention" } }), /^invalid_envelope: type /],
      [JSON.stringify({ type: 7 }), /^invalid_envelope: type /],
      [JSON.stringify({ type: "url_verification" }), /^invalid_envelope: challenge /],
    ];
    for (const [body, error] of cases) {
      const res = await post(body, signedHeaders(body));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(error);
    }
    expect(await chatQueueDepth()).toBe(0);
  });

  it.each([
    [
      "an old-style reaction_added without event_id",
      { type: "event_callback", event: { type: "reaction_added", user: "U1", reaction: "+1" } },
    ],
    [
      "an event_callback of an unknown type with unknown fields",
      {
        type: "event_callback",
        event_id: "Ev-unknown-type",
        event: { type: "workflow_step_execute", user: null, callback_id: { nested: true } },
        brand_new_field: [1, 2, 3],
      },
    ],
    ["an event_callback without an event", { type: "event_callback", event_id: "Ev-no-event" }],
    [
      "an event_callback whose event has no type",
      { type: "event_callback", event_id: "Ev-no-event-type", event: { user: "U1" } },
    ],
    [
      "a mention whose text is not a string",
      {
        type: "event_callback",
        event_id: "Ev-bad-text",
        event: { type: "app_mention", user: "U1", text: 42, ts: "1.1", channel: "C1" },
      },
    ],
    [
      "a mention without event_id",
      {
        type: "event_callback",
        event: { type: "app_mention", user: "U1", text: "<@UBOT> hi", ts: "1.1", channel: "C1" },
      },
    ],
  ])("acks %s with 200 and queues nothing", async (_name, envelope) => {
    const body = JSON.stringify(envelope);
    const res = await post(body, signedHeaders(body));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, ignored: expect.any(String) });
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
    const flakyApp = createApp(buildIngressDeps(config, aws, { queue: flaky }));
    const body = JSON.stringify(appMentionEnvelope({ eventId: "Ev-flaky", text: "x" }));
    const first = await post(body, signedHeaders(body), flakyApp);
    // 503 (was 500 before issue 13): Slack retries a 5xx; Retry-After says when to come back.
    expect(first.status).toBe(503);
    expect(first.headers.get("retry-after")).toBe("5");
    expect(await first.json()).toEqual({ error: "queue_unavailable" });
    const retry = await post(body, signedHeaders(body, { retryNum: 1 }), flakyApp);
    expect(retry.status).toBe(200);
    expect(accepted).toHaveLength(1);
  });
});

/** A `message` event callback as Slack sends it for `event` (https://api.slack.com/events/message). */
function messageEnvelope(eventId: string, event: Record<string, unknown>) {
  const ts = String(event.ts);
  return eventCallback(eventId, ts, { type: "message", event_ts: ts, ...event });
}

describe("POST /slack/events: message subtypes", () => {
  it("answers a DM that shares files, listing them by name or title", async () => {
    const ts = nowTs();
    // Shaped like https://api.slack.com/events/message/file_share: a file hidden by the plan's
    // limit carries neither name nor title, and optional fields may be null.
    const envelope = messageEnvelope("Ev-file-share", {
      subtype: "file_share",
      channel_type: "im",
      channel: "D0FILES",
      user: "U0ALICE",
      text: "what is in these?",
      ts,
      thread_ts: null,
      bot_id: null,
      upload: true,
      display_as_bot: false,
      files: [
        { id: "F1", name: "report.pdf", title: "Q3 report", mimetype: "application/pdf" },
        { id: "F2", name: null, title: "photo.png", mode: "hosted" },
        { id: "F3", mode: "hidden_by_limit" },
      ],
    });
    const body = JSON.stringify(envelope);
    const res = await post(body, signedHeaders(body));
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 200,
      body: { ok: true },
    });
    expect(await queuedJob()).toMatchObject({
      jobId: `slack:D0FILES:${ts}`,
      text: "what is in these?\n\n[attached: report.pdf, photo.png, unnamed file]",
      reply: { platform: "slack", via: "direct", address: { channel: "D0FILES" } },
    });
  });

  it("answers files shared in a DM thread without text, in that thread", async () => {
    const ts = nowTs();
    const body = JSON.stringify(
      messageEnvelope("Ev-file-thread", {
        subtype: "file_share",
        channel_type: "im",
        channel: "D0FILES",
        user: "U0ALICE",
        text: "",
        ts,
        thread_ts: "1700000000.000100",
        files: [{ id: "F1", name: "notes.txt", title: null }],
      }),
    );
    expect((await post(body, signedHeaders(body))).status).toBe(200);
    expect(await queuedJob()).toMatchObject({
      text: "[attached: notes.txt]",
      reply: {
        platform: "slack",
        via: "direct",
        address: { channel: "D0FILES", threadTs: "1700000000.000100" },
      },
    });
  });

  it("answers a thread reply also sent to the DM (thread_broadcast) in its thread", async () => {
    const ts = nowTs();
    const root = "1700000000.000200";
    // Shaped like https://api.slack.com/events/message/thread_broadcast.
    const body = JSON.stringify(
      messageEnvelope("Ev-broadcast", {
        subtype: "thread_broadcast",
        channel_type: "im",
        channel: "D0CAST",
        user: "U0ALICE",
        text: "and one more thing",
        ts,
        thread_ts: root,
        client_msg_id: "1d8f7e0a-0000-4000-8000-000000000000",
        root: { type: "message", user: "U0ALICE", text: "first", ts: root, thread_ts: root },
      }),
    );
    expect((await post(body, signedHeaders(body))).status).toBe(200);
    expect(await queuedJob()).toMatchObject({
      text: "and one more thing",
      reply: { platform: "slack", via: "direct", address: { channel: "D0CAST", threadTs: root } },
    });
  });

  it("answers a mention sent to the channel from a thread, in that thread", async () => {
    const root = "1700000000.000300";
    const envelope = appMentionEnvelope({ eventId: "Ev-mention-broadcast", text: "look" });
    const event = envelope.event as Record<string, unknown>;
    Object.assign(event, { subtype: "thread_broadcast", root: { thread_ts: root } });
    const body = JSON.stringify(envelope);
    expect((await post(body, signedHeaders(body))).status).toBe(200);
    expect(await queuedJob()).toMatchObject({
      text: "look",
      reply: { platform: "slack", via: "direct", address: { channel: "C0CHAN", threadTs: root } },
    });
  });

  it("still ignores edits and deletions", async () => {
    for (const subtype of ["message_changed", "message_deleted"]) {
      const body = JSON.stringify(
        messageEnvelope(`Ev-${subtype}`, {
          subtype,
          channel_type: "im",
          channel: "D0EDIT",
          ts: nowTs(),
          hidden: true,
        }),
      );
      const res = await post(body, signedHeaders(body));
      expect(await res.json()).toEqual({ ok: true, ignored: `subtype ${subtype}` });
    }
    expect(await chatQueueDepth()).toBe(0);
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
        "openai-compatible": { configured: false },
      },
    });
  });
});
