import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ChatJob } from "../../core/chat/job";
import type { AwsClients } from "../../core/compose/aws";
import type { Config } from "../../core/config";
import { KEY_ID_MAX_BYTES, PLATFORM_ID_MAX_CHARS } from "../../core/constants/limits";
import type { createApp } from "../../functions/http";
import { queueDepth } from "../support/aws";
import { askInteraction, type DiscordTestKeys } from "../support/discord";
import { captureLog } from "../support/log-capture";
import { appMentionEnvelope } from "../support/slack";
import {
  deeplyNested,
  EDGE_DISCORD_BOT,
  EDGE_SLACK_BOT,
  type EdgeIngress,
  signFor,
  startEdgeIngress,
  type WebhookPath,
  withRawJson,
} from "../support/webhooks";

/** A value no log record may contain: a payload value, never an id the code chose to log. */
const SECRET = "PRIVATEVALUE";

let aws: AwsClients;
let config: Config;
let keys: DiscordTestKeys;
let app: ReturnType<typeof createApp>;
let ingress: EdgeIngress;
const log = captureLog("edge-test");
let enqueued: ChatJob[] = [];

beforeAll(async () => {
  ingress = await startEdgeIngress("edge", log.logger);
  ({ aws, config, keys, app, enqueued } = ingress);
});

beforeEach(async () => {
  log.lines.length = 0;
  await ingress.reset();
});

async function post(path: WebhookPath, body: string) {
  const res = await app.request(path, { method: "POST", body, headers: signFor(path, body, keys) });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown> };
}

/** Every record printed is short and carries none of `raw`. */
function expectCleanLog(...raw: string[]) {
  expect(log.lines.length).toBeGreaterThan(0);
  for (const line of log.lines) {
    expect(line.length).toBeLessThan(2_000);
    for (const value of [SECRET, "[[[[", ...raw]) expect(line).not.toContain(value);
  }
}

async function expectNothingQueued() {
  expect(enqueued).toHaveLength(0);
  expect(await queueDepth(aws.sqs, config.chatQueueUrl as string, { inFlight: true })).toBe(0);
}

function slackMention(overrides: { event?: Record<string, unknown>; [key: string]: unknown }) {
  const { event, ...envelope } = overrides;
  const base = appMentionEnvelope({
    eventId: `Ev${Date.now()}${Math.floor(Math.random() * 1e6)}`,
    text: `a question ${SECRET}`,
    botUserId: EDGE_SLACK_BOT,
  });
  return { ...base, ...envelope, event: { ...(base.event as object), ...event } };
}

describe("payloads nested thousands of levels deep", () => {
  it("answers a Discord interaction whose data.name is nested 10 000 levels deep with 400, and logs it", async () => {
    const interaction = askInteraction(`ask ${SECRET}`);
    (interaction.data as Record<string, unknown>).name = "DEEP";
    const body = withRawJson(interaction, "DEEP", deeplyNested(10_000));
    const res = await post("/discord/interactions", body);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/^invalid_command_data: data\.name /);
    expectCleanLog();
    expect(log.records().some((r) => r.message === "discord interaction refused")).toBe(true);
    await expectNothingQueued();
  });

  it.each<[WebhookPath, () => unknown, string, RegExp]>([
    [
      "/discord/interactions",
      () => ({ ...askInteraction("hi"), member: "DEEP" }),
      "DEEP",
      /^invalid_interaction: member /,
    ],
    [
      "/slack/events",
      () => slackMention({ event: { user: "DEEP" } }),
      "DEEP",
      /^$/, // a mention whose user has another type is acked (200) as unreadable
    ],
    [
      "/kadi/events",
      () => ({ channel: `slack.app_mention.${EDGE_SLACK_BOT}`, data: { id: "DEEP" } }),
      "DEEP",
      /^invalid_event: id /,
    ],
    ["/kadi/events", () => ({ channel: "DEEP", data: {} }), "DEEP", /^invalid_delivery: channel /],
  ])(
    "%s: a field nested 10 000 levels deep never gives a 5xx (%#)",
    async (path, payload, marker, error) => {
      const res = await post(path, withRawJson(payload(), marker, deeplyNested(10_000)));
      if (error.source === "^$") {
        expect(res.status).toBe(200);
        expect(res.json.ignored).toMatch(/^event\.user /);
      } else {
        expect(res.status).toBe(400);
        expect(res.json.error).toMatch(error);
      }
      expectCleanLog();
      await expectNothingQueued();
    },
  );
});

describe("Slack ids and texts longer than Slack sends", () => {
  const long = (n: number) => `U${"X".repeat(n - 1)}`;

  it("answers an event_id of 4096 characters with 400 naming event_id (was 500 dedupe_unavailable)", async () => {
    const res = await post("/slack/events", JSON.stringify(slackMention({ event_id: long(4096) })));
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/^invalid_envelope: event_id Too big/);
    expectCleanLog("XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
    await expectNothingQueued();
  });

  it("answers a user id of 300 000 characters with 400 naming event.user (was queued, then lost)", async () => {
    const res = await post(
      "/slack/events",
      JSON.stringify(slackMention({ event: { user: long(300_000) } })),
    );
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/^invalid_event: event\.user Too big/);
    expectCleanLog("XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
    await expectNothingQueued();
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ["team_id", { team_id: long(PLATFORM_ID_MAX_CHARS + 1) }, /^invalid_envelope: team_id /],
    [
      "event.channel",
      { event: { channel: long(PLATFORM_ID_MAX_CHARS + 1) } },
      /^invalid_event: event\.channel /,
    ],
    ["event.ts", { event: { ts: `1.${"1".repeat(100)}` } }, /^invalid_event: event\.ts /],
    [
      "event.thread_ts",
      { event: { thread_ts: "1".repeat(65) } },
      /^invalid_event: event\.thread_ts /,
    ],
    [
      "event.text",
      { event: { text: `<@${EDGE_SLACK_BOT}> ${"y".repeat(40_001)}` } },
      /^invalid_event: event\.text /,
    ],
    [
      "event.files",
      { event: { files: Array.from({ length: 101 }, () => ({ name: "a.txt" })) } },
      /^invalid_event: event\.files /,
    ],
  ])("answers %s over its bound with 400 naming it", async (_field, overrides, error) => {
    const res = await post("/slack/events", JSON.stringify(slackMention(overrides)));
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(error);
    expectCleanLog();
    await expectNothingQueued();
  });

  it("acks an event of an unknown type with 200 without echoing or logging a long type", async () => {
    const type = `t${"Z".repeat(100_000)}`;
    const res = await post("/slack/events", JSON.stringify(slackMention({ event: { type } })));
    expect(res.status).toBe(200);
    expect(res.text.length).toBeLessThan(200);
    expect(res.json.ignored).toBe("event string of 100001 chars");
    expectCleanLog("ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ");
    await expectNothingQueued();
  });

  it("still queues a mention at the bounds (64-character ids, 40 000-character text)", async () => {
    const envelope = slackMention({
      event_id: `Ev${"1".repeat(PLATFORM_ID_MAX_CHARS - 2)}`,
      event: {
        user: long(PLATFORM_ID_MAX_CHARS),
        channel: `C${"2".repeat(PLATFORM_ID_MAX_CHARS - 1)}`,
        text: `<@${EDGE_SLACK_BOT}> ${"y".repeat(40_000 - EDGE_SLACK_BOT.length - 4)}`,
      },
    });
    const res = await post("/slack/events", JSON.stringify(envelope));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ ok: true });
    expect(enqueued).toHaveLength(1);
    expect(Buffer.byteLength(enqueued[0]?.jobId ?? "")).toBeLessThan(KEY_ID_MAX_BYTES);
  });
});

describe("Discord fields beyond Discord's documented limits", () => {
  it.each<[string, (i: Record<string, unknown>) => void, RegExp]>([
    [
      "an option value over 6000 characters",
      (i) => {
        (i.data as { options: { value: string }[] }).options[0] = {
          name: "prompt",
          type: 3,
          value: "p".repeat(6001),
        } as never;
      },
      /^invalid_command_data: data\.options\.0\.value /,
    ],
    [
      "26 options",
      (i) => {
        (i.data as { options: unknown[] }).options = Array.from({ length: 26 }, () => ({
          name: "prompt",
          type: 3,
          value: "x",
        }));
      },
      /^invalid_command_data: data\.options /,
    ],
    [
      "a command name over 32 characters",
      (i) => {
        (i.data as { name: string }).name = "a".repeat(33);
      },
      /^invalid_command_data: data\.name /,
    ],
    [
      "a token over 1000 characters",
      (i) => {
        i.token = "t".repeat(1001);
      },
      /^invalid_interaction: token /,
    ],
    [
      "a user id that is not a snowflake",
      (i) => {
        (i.member as { user: { id: string } }).user.id = "9".repeat(21);
      },
      /^invalid_interaction: member\.user\.id /,
    ],
  ])("answers %s with 400 naming the field", async (_what, mutate, error) => {
    const interaction = askInteraction(`ask ${SECRET}`);
    mutate(interaction);
    const res = await post("/discord/interactions", JSON.stringify(interaction));
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(error);
    expectCleanLog();
    await expectNothingQueued();
  });
});

describe("KĀDI delivery fields beyond their bounds", () => {
  const slackChannel = `slack.app_mention.${EDGE_SLACK_BOT}`;
  const discordChannel = `discord.mention.${EDGE_DISCORD_BOT}`;
  const ts = () => `${Math.floor(Date.now() / 1000)}.${String(Date.now() % 1e6).padStart(6, "0")}`;
  const slackData = (overrides: Record<string, unknown>) => ({
    id: ts(),
    user: "U0ALICE",
    text: `<@${EDGE_SLACK_BOT}> ${SECRET}`,
    channel: "C0CHAN",
    ...overrides,
  });

  it.each<[string, string, Record<string, unknown>, RegExp]>([
    ["id", slackChannel, slackData({ id: "1".repeat(4096) }), /^invalid_event: id Too big/],
    ["user", slackChannel, slackData({ user: "U".repeat(300_000) }), /^invalid_event: user /],
    ["channel", slackChannel, slackData({ channel: "C".repeat(65) }), /^invalid_event: channel /],
    [
      "text (Slack, 40 001)",
      slackChannel,
      slackData({ text: "t".repeat(40_001) }),
      /^invalid_event: text /,
    ],
    [
      "thread_ts",
      slackChannel,
      slackData({ thread_ts: "1".repeat(65) }),
      /^invalid_event: thread_ts /,
    ],
    [
      "text (Discord, 4001)",
      discordChannel,
      { id: "1300000000000000001", user: "42", channel: "43", text: "t".repeat(4001) },
      /^invalid_event: text /,
    ],
    [
      "channelName (Discord, 101)",
      discordChannel,
      {
        id: "1300000000000000002",
        user: "42",
        channel: "43",
        text: "hi",
        channelName: "n".repeat(101),
      },
      /^invalid_event: channelName /,
    ],
  ])("answers %s over its bound with 400 naming it", async (_field, channel, data, error) => {
    const res = await post("/kadi/events", JSON.stringify({ channel, data }));
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(error);
    expectCleanLog("UUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUU");
    await expectNothingQueued();
  });

  it("answers a delivery channel over 128 characters with 400 naming channel", async () => {
    const channel = `slack.app_mention.${"U".repeat(200)}`;
    const res = await post("/kadi/events", JSON.stringify({ channel, data: slackData({}) }));
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/^invalid_delivery: channel Too big/);
    expectCleanLog("UUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUU");
    await expectNothingQueued();
  });

  it("acks a channel no platform claims without echoing or logging it", async () => {
    const channel = `other.${"Q".repeat(100)}`;
    const res = await post("/kadi/events", JSON.stringify({ channel, data: slackData({}) }));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ ok: true, ignored: "channel string of 106 chars" });
    for (const line of log.lines) expect(line).not.toContain("QQQQQQQQ");
    await expectNothingQueued();
  });
});
