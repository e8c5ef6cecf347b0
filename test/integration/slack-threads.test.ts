import { PurgeQueueCommand } from "@aws-sdk/client-sqs";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ChatJob } from "../../core/chat/job";
import { type AwsClients, memoryTable } from "../../core/compose/aws";
import { buildIngressDeps } from "../../core/compose/ingress";
import type { Config } from "../../core/config";
import { SLACK_ASSISTANT } from "../../core/constants/platforms";
import { THREAD_PARTICIPATION_TTL_MS } from "../../core/constants/timings";
import { ReplyLedgerStore } from "../../core/memory/reply-ledger";
import { threadKey } from "../../core/memory/table/keys";
import { ThreadParticipationStore } from "../../core/memory/threads";
import { SlackReplier } from "../../core/platforms/slack/replier";
import { createApp } from "../../functions/http";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import { queueDepth, receiveJson, receiveOneJob, testAws, testConfig } from "../support/aws";
import { captureLog } from "../support/log-capture";
import {
  appMentionEnvelope,
  channelMessageEnvelope,
  eventCallback,
  signedHeaders,
  TEST_SIGNING_SECRET,
} from "../support/slack";

// Thread follow-ups without a mention and the assistant thread (issue 11), through the real
// ingress (signed requests, Hono app) with DynamoDB Local, fauxqs and the Slack Web API fake.

const BOT = "UBOT";

let aws: AwsClients;
let config: Config;
let slack: FakeSlack;
let log: ReturnType<typeof captureLog>;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  slack = await startFakeSlack({ token: "xoxb-threads", botUserId: BOT });
  const setup = await testAws(
    testConfig({
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_BOT_USER_ID: BOT,
      SLACK_BOT_TOKEN: slack.token,
      SLACK_API_URL: slack.url,
      SLACK_SUGGESTED_PROMPTS: "What can you do? | Summarise this, please",
    }),
    { queue: `slack-threads-${Date.now()}` },
  );
  aws = setup.aws;
  config = setup.config;
  log = captureLog("ingress");
  app = createApp(buildIngressDeps(config, aws, { logger: log.logger }));
});

afterAll(async () => {
  await slack.close();
});

beforeEach(async () => {
  await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: config.chatQueueUrl }));
  slack.reset();
  log.lines.length = 0;
});

async function post(envelope: Record<string, unknown>, target = app, retryNum?: number) {
  const body = JSON.stringify(envelope);
  const res = await target.request("/slack/events", {
    method: "POST",
    body,
    headers: signedHeaders(body, retryNum ? { retryNum } : {}),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as unknown };
}

const depth = () => queueDepth(aws.sqs, config.chatQueueUrl as string);

let lastMicros = 0;
/** A fresh, increasing Slack `ts`. */
function newTs(): string {
  lastMicros = Math.max(Date.now() * 1000, lastMicros + 1);
  return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, "0")}`;
}

/** A channel of its own per test, so thread marks never leak between tests. */
function newChannel(): string {
  return `C${Math.random().toString(36).slice(2, 10).toUpperCase()}`;
}

/**
 * Answers the one queued job as the chat worker does, through `SlackReplier` against the Slack
 * fake: its live reply finishes in the thread and marks it as one the agent took part in.
 */
async function answerQueued(): Promise<ChatJob> {
  const job = await receiveOneJob(aws.sqs, config.chatQueueUrl as string);
  const replier = new SlackReplier({
    botToken: slack.token,
    apiUrl: slack.url,
    ledger: new ReplyLedgerStore(memoryTable(config, aws)),
    threads: new ThreadParticipationStore(memoryTable(config, aws)),
    warn: () => undefined,
  });
  await (await replier.open(job.reply, job)).finish("an answer");
  return job;
}

describe("thread follow-ups without a mention", () => {
  it("answers a follow-up in a thread only after the agent answered in it", async () => {
    const channel = newChannel();
    const parent = newTs();
    const before = channelMessageEnvelope({
      eventId: "Ev-fu-before",
      text: "anyone?",
      channel,
      threadTs: parent,
    });
    expect(await post(before)).toMatchObject({
      status: 200,
      body: { ok: true, ignored: "thread not joined" },
    });
    expect(await depth()).toBe(0);

    const mention = appMentionEnvelope({
      eventId: "Ev-fu-mention",
      text: "explain TTLs",
      channel,
      ts: parent,
    });
    expect((await post(mention)).status).toBe(200);
    // Queued but not answered yet: the thread is not the agent's until its answer is posted.
    const early = channelMessageEnvelope({
      eventId: "Ev-fu-early",
      text: "hello?",
      channel,
      threadTs: parent,
    });
    expect((await post(early)).body).toEqual({ ok: true, ignored: "thread not joined" });
    await answerQueued();

    const ts = newTs();
    const after = channelMessageEnvelope({
      eventId: "Ev-fu-after",
      text: "and for Postgres?",
      channel,
      threadTs: parent,
      ts,
    });
    expect(await post(after)).toMatchObject({ status: 200, body: { ok: true } });
    expect(await receiveOneJob(aws.sqs, config.chatQueueUrl as string)).toMatchObject({
      jobId: `slack:${channel}:${ts}`,
      text: "and for Postgres?",
      conversation: { platform: "slack", channelId: channel, userId: "U0ALICE" },
      reply: { platform: "slack", via: "direct", address: { channel, threadTs: parent } },
    });
  });

  it("keeps the thread's mark for 30 days from its last answered message", async () => {
    const channel = newChannel();
    const parent = newTs();
    const startedAt = Date.now();
    await post(appMentionEnvelope({ eventId: "Ev-ttl-mention", text: "hi", channel, ts: parent }));
    await answerQueued();
    const { Item } = await aws.documents.send(
      new GetCommand({
        TableName: config.memoryTableName,
        Key: threadKey("slack", channel, parent),
      }),
    );
    const expiresAtMs = Number(Item?.expiresAt) * 1000;
    expect(expiresAtMs).toBeGreaterThanOrEqual(startedAt + THREAD_PARTICIPATION_TTL_MS - 1000);
    expect(expiresAtMs).toBeLessThanOrEqual(Date.now() + THREAD_PARTICIPATION_TTL_MS);
  });

  it("joins a thread someone else started once it answers a mention inside it", async () => {
    const channel = newChannel();
    const parent = newTs();
    const mention = appMentionEnvelope({
      eventId: "Ev-inner-mention",
      text: "settle this",
      channel,
      threadTs: parent,
    });
    await post(mention);
    const answered = await answerQueued();
    expect(answered.reply.address.threadTs).toBe(parent);
    const followUp = channelMessageEnvelope({
      eventId: "Ev-inner-fu",
      text: "why?",
      channel,
      threadTs: parent,
    });
    expect(await post(followUp)).toMatchObject({ status: 200, body: { ok: true } });
    expect(await depth()).toBe(1);
  });

  it("never answers top-level chatter without a mention, even in a channel it answers in", async () => {
    const channel = newChannel();
    const parent = newTs();
    await post(
      appMentionEnvelope({ eventId: "Ev-top-mention", text: "hello", channel, ts: parent }),
    );
    await answerQueued();
    const chatter = channelMessageEnvelope({
      eventId: "Ev-top-chatter",
      text: "lunch at noon?",
      channel,
    });
    expect(await post(chatter)).toMatchObject({
      status: 200,
      body: { ok: true, ignored: "top-level channel message" },
    });
    expect(await depth()).toBe(0);
  });

  it("leaves a side conversation between people in a joined thread alone", async () => {
    const channel = newChannel();
    const parent = newTs();
    await post(
      appMentionEnvelope({ eventId: "Ev-side-mention", text: "hello", channel, ts: parent }),
    );
    await answerQueued();
    const side = channelMessageEnvelope({
      eventId: "Ev-side-talk",
      text: "<@U0BOB> can you check this?",
      channel,
      threadTs: parent,
    });
    expect(await post(side)).toMatchObject({
      status: 200,
      body: { ok: true, ignored: "mentions another user" },
    });
    expect(await depth()).toBe(0);
  });

  it("queues a reply that mentions the bot once, from its app_mention, not its message event", async () => {
    const channel = newChannel();
    const parent = newTs();
    await post(
      appMentionEnvelope({ eventId: "Ev-both-first", text: "hello", channel, ts: parent }),
    );
    await answerQueued();
    const ts = newTs();
    // Slack sends both events for one message that mentions the bot in a channel it is in.
    const asMessage = channelMessageEnvelope({
      eventId: "Ev-both-message",
      text: `<@${BOT}> and now?`,
      channel,
      threadTs: parent,
      ts,
    });
    const asMention = appMentionEnvelope({
      eventId: "Ev-both-mention",
      text: "and now?",
      channel,
      threadTs: parent,
      ts,
    });
    expect((await post(asMessage)).body).toEqual({
      ok: true,
      ignored: "mentions the bot: answered as app_mention",
    });
    expect((await post(asMention)).status).toBe(200);
    const jobs = await receiveJson(aws.sqs, config.chatQueueUrl as string);
    expect(jobs).toMatchObject([{ jobId: `slack:${channel}:${ts}`, text: "and now?" }]);
  });

  it("answers a follow-up 503 store_unavailable with Retry-After when the marks cannot be read, and takes Slack's retry", async () => {
    const channel = newChannel();
    const parent = newTs();
    // A real DynamoDB Local error: the marks' table does not exist.
    const broken = createApp(
      buildIngressDeps(config, aws, {
        logger: log.logger,
        threads: new ThreadParticipationStore({
          client: aws.documents,
          tableName: "no-such-table",
        }),
      }),
    );
    // Mentions never touch the marks: the worker writes them when it answers.
    const mention = appMentionEnvelope({
      eventId: "Ev-broken-mention",
      text: "hi",
      channel,
      ts: parent,
    });
    expect((await post(mention, broken)).body).toEqual({ ok: true });
    await answerQueued();

    const followUp = channelMessageEnvelope({
      eventId: "Ev-broken-fu",
      text: "more",
      channel,
      threadTs: parent,
    });
    const refused = await post(followUp, broken);
    expect({ status: refused.status, body: refused.body }).toEqual({
      status: 503,
      body: { error: "store_unavailable" },
    });
    expect(refused.headers.get("retry-after")).toBe("5");
    expect(await depth()).toBe(0);
    // Nothing was claimed: Slack's retry of the same event is taken once the store is back.
    expect((await post(followUp, app, 1)).body).toEqual({ ok: true });
    expect(await depth()).toBe(1);
    const failures = log.records().filter((r) => r.message === "slack event store failed");
    expect(failures).toMatchObject([{ eventId: "Ev-broken-fu" }]);
  });
});

describe("ThreadParticipationStore", () => {
  it("counts a mark as gone once its TTL passed, though DynamoDB has not deleted it yet", async () => {
    let nowMs = Date.parse("2026-01-01T00:00:00Z");
    const store = new ThreadParticipationStore({
      client: aws.documents,
      tableName: config.memoryTableName,
      now: () => nowMs,
      ttlMs: 60_000,
    });
    const thread = { platform: "slack" as const, channelId: newChannel(), threadId: "1.000001" };
    expect(await store.joined(thread)).toBe(false);
    await store.join(thread);
    nowMs += 59_000;
    expect(await store.joined(thread)).toBe(true);
    // A later join extends the mark from its own time.
    await store.join(thread);
    nowMs += 59_000;
    expect(await store.joined(thread)).toBe(true);
    nowMs += 2_000;
    expect(await store.joined(thread)).toBe(false);
    expect(await store.joined({ ...thread, platform: "discord" })).toBe(false);
  });
});

/** `assistant_thread_started` as https://docs.slack.dev/reference/events/assistant_thread_started shows it. */
function threadStarted(eventId: string, channel: string, threadTs: string) {
  return eventCallback(eventId, threadTs, {
    type: "assistant_thread_started",
    assistant_thread: {
      user_id: "U0ALICE",
      context: { channel_id: "C0VIEWED", team_id: "T0TEST", enterprise_id: null },
      channel_id: channel,
      thread_ts: threadTs,
    },
    event_ts: threadTs,
  });
}

/** A Web API argument sent form-encoded holds JSON as a string; the fake may decode it. */
function decoded(value: unknown): unknown {
  return typeof value === "string" ? JSON.parse(value) : value;
}

describe("the assistant thread", () => {
  it("sets a new assistant thread's title and suggested prompts, once per event", async () => {
    const threadTs = newTs();
    const started = threadStarted("Ev-assistant", "D0ASSIST", threadTs);
    expect(await post(started)).toMatchObject({ status: 200, body: { ok: true } });
    const byMethod = Object.fromEntries(slack.calls.map((call) => [call.method, call.args]));
    expect(byMethod["assistant.threads.setTitle"]).toMatchObject({
      channel_id: "D0ASSIST",
      thread_ts: threadTs,
      title: SLACK_ASSISTANT.threadTitle,
    });
    const prompts = byMethod["assistant.threads.setSuggestedPrompts"];
    expect(prompts).toMatchObject({ channel_id: "D0ASSIST", thread_ts: threadTs });
    expect(decoded(prompts?.prompts)).toEqual([
      { title: "What can you do?", message: "What can you do?" },
      { title: "Summarise this, please", message: "Summarise this, please" },
    ]);
    expect(
      slack.calls.every((call) => call.headers.authorization === `Bearer ${slack.token}`),
    ).toBe(true);
    const handled = log.records().find((r) => r.message === "slack event handled");
    expect(handled).toMatchObject({
      eventId: "Ev-assistant",
      setTitle: expect.any(String),
      setSuggestedPrompts: expect.any(String),
    });
    expect(await depth()).toBe(0);

    const calls = slack.calls.length;
    expect(await post(started, app, 1)).toMatchObject({ status: 200, body: { duplicate: true } });
    expect(slack.calls).toHaveLength(calls);
  });

  it("acks with 200 and logs the error codes when Slack cannot be reached", async () => {
    slack.setDown(true);
    const res = await post(threadStarted("Ev-assistant-down", "D0DOWN", newTs()));
    expect(res).toMatchObject({ status: 200, body: { ok: true } });
    expect(log.records().find((r) => r.message === "slack event handled")).toMatchObject({
      level: "WARN",
      eventId: "Ev-assistant-down",
      setTitle: "slack_webapi_request_error",
      setSuggestedPrompts: "slack_webapi_request_error",
    });
  });

  it("acks and logs, calling nothing, when no bot token is configured", async () => {
    const tokenless = createApp(
      buildIngressDeps({ ...config, slack: { ...config.slack, botToken: undefined } }, aws, {
        logger: log.logger,
      }),
    );
    const res = await post(
      threadStarted("Ev-assistant-tokenless", "D0NOTOKEN", newTs()),
      tokenless,
    );
    expect(res).toMatchObject({
      status: 200,
      body: { ok: true, ignored: "slack_bot_token_not_set" },
    });
    expect(slack.calls).toEqual([]);
    expect(log.records().find((r) => r.message === "slack event ignored")).toMatchObject({
      level: "WARN",
      eventId: "Ev-assistant-tokenless",
    });
  });

  it("answers a message in the assistant thread as a DM, in that thread", async () => {
    const threadTs = newTs();
    const ts = newTs();
    const message = {
      type: "event_callback",
      team_id: "T0TEST",
      event_id: "Ev-assistant-message",
      event: {
        type: "message",
        channel_type: "im",
        channel: "D0ASSIST",
        user: "U0ALICE",
        text: "What can you do?",
        ts,
        thread_ts: threadTs,
        parent_user_id: BOT,
        assistant_thread: { action_token: "10116779555154.10138525474272.9b39d4" },
        event_ts: ts,
      },
    };
    expect(await post(message)).toMatchObject({ status: 200, body: { ok: true } });
    expect(await receiveOneJob(aws.sqs, config.chatQueueUrl as string)).toMatchObject({
      jobId: `slack:D0ASSIST:${ts}`,
      text: "What can you do?",
      reply: { platform: "slack", via: "direct", address: { channel: "D0ASSIST", threadTs } },
    });
  });
});
