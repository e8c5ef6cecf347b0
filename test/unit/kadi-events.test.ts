import { describe, expect, it } from "vitest";
import { chatJobSchema } from "../../core/chat/job";
import { mentionChannels, routeKadiDelivery } from "../../core/kadi/events";
import { stripDiscordMentions } from "../../core/platforms/discord/kadi";
import { routeSlackEnvelope, slackEnvelopeSchema } from "../../core/platforms/slack/events";
import { discordMentionChannel, kadiRouting, slackMentionChannel } from "../support/kadi";
import { appMentionEnvelope } from "../support/slack";

const SLACK_BOT = "UBOT1";
const DISCORD_BOT = "123456789012345678";
const bots = kadiRouting({ slack: SLACK_BOT, discord: DISCORD_BOT });
const NOW = 1_700_000_999_000;

function slackEvent(overrides: Record<string, unknown> = {}) {
  return {
    id: "1700000000.000100",
    user: "U0ALICE",
    text: `<@${SLACK_BOT}> hello there`,
    channel: "C0CHAN",
    thread_ts: "1699999999.000001",
    ts: "1700000000.000100",
    bot_id: SLACK_BOT,
    timestamp: "2023-11-14T22:13:20.000Z",
    ...overrides,
  };
}

function discordEvent(overrides: Record<string, unknown> = {}) {
  return {
    id: "1170000000000000000",
    user: "987654321098765432",
    username: "alice",
    text: `<@!${DISCORD_BOT}> hi bot`,
    channel: "555555555555555555",
    channelName: "general",
    guild: "444444444444444444",
    ts: "2023-11-14T22:13:20.000Z",
    bot_id: DISCORD_BOT,
    timestamp: "2023-11-14T22:13:21.000Z",
    ...overrides,
  };
}

describe("mention channels", () => {
  it("names one channel per configured bot id", () => {
    expect(mentionChannels(bots)).toEqual([
      "slack.app_mention.UBOT1",
      "discord.mention.123456789012345678",
    ]);
    expect(mentionChannels(kadiRouting({ slack: SLACK_BOT }))).toEqual(["slack.app_mention.UBOT1"]);
    expect(mentionChannels(kadiRouting({}))).toEqual([]);
  });
});

describe("routeKadiDelivery: Slack", () => {
  it("names a message as the direct Slack path does, so a relayed copy is answered once", () => {
    const direct = routeSlackEnvelope(
      slackEnvelopeSchema.parse(
        appMentionEnvelope({
          eventId: "Ev1",
          text: "hello there",
          user: "U0ALICE",
          channel: "C0CHAN",
          ts: "1700000000.000100",
          botUserId: SLACK_BOT,
        }),
      ),
      SLACK_BOT,
    );
    const relayed = routeKadiDelivery(
      { channel: slackMentionChannel(SLACK_BOT), data: slackEvent() },
      bots,
      NOW,
    );
    expect(direct.action === "enqueue" && direct.job.jobId).toBe(
      relayed.action === "enqueue" && relayed.job.jobId,
    );
    expect(direct.action).toBe("enqueue");
  });

  it("turns a mention into a job answered in the event's thread", () => {
    const route = routeKadiDelivery(
      { channel: slackMentionChannel(SLACK_BOT), data: slackEvent() },
      bots,
      NOW,
    );
    expect(route).toEqual({
      action: "enqueue",
      dedupeId: "slack:C0CHAN:1700000000.000100",
      job: {
        v: 2,
        jobId: "slack:C0CHAN:1700000000.000100",
        source: {
          kind: "kadi-event",
          eventId: "1700000000.000100",
          channel: "slack.app_mention.UBOT1",
        },
        conversation: { platform: "slack", channelId: "C0CHAN", userId: "U0ALICE" },
        text: "hello there",
        sentAt: 1_700_000_000_000,
        reply: {
          platform: "slack",
          via: "kadi",
          address: { channel: "C0CHAN", threadTs: "1699999999.000001" },
        },
      },
    });
    if (route.action === "enqueue") expect(chatJobSchema.parse(route.job)).toEqual(route.job);
  });

  it("starts a thread on the message itself when thread_ts is absent", () => {
    const route = routeKadiDelivery(
      { channel: slackMentionChannel(SLACK_BOT), data: slackEvent({ thread_ts: undefined }) },
      bots,
      NOW,
    );
    expect(route.action === "enqueue" && route.job.reply).toEqual({
      platform: "slack",
      via: "kadi",
      address: { channel: "C0CHAN", threadTs: "1700000000.000100" },
    });
  });

  it("ignores the bot's own messages, mentions of another bot, and empty texts", () => {
    const channel = slackMentionChannel(SLACK_BOT);
    expect(
      routeKadiDelivery({ channel, data: slackEvent({ user: SLACK_BOT }) }, bots, NOW),
    ).toEqual({ action: "ignore", reason: "own message" });
    expect(
      routeKadiDelivery({ channel: "slack.app_mention.UOTHER", data: slackEvent() }, bots, NOW),
    ).toEqual({ action: "ignore", reason: "another bot" });
    expect(
      routeKadiDelivery({ channel, data: slackEvent({ bot_id: "UOTHER" }) }, bots, NOW),
    ).toEqual({ action: "ignore", reason: "another bot" });
    expect(
      routeKadiDelivery({ channel, data: slackEvent({ text: `<@${SLACK_BOT}>  ` }) }, bots, NOW),
    ).toEqual({ action: "ignore", reason: "empty text" });
  });

  it("reports a payload that is not a Slack chat event as invalid", () => {
    const channel = slackMentionChannel(SLACK_BOT);
    const route = routeKadiDelivery({ channel, data: { id: "x", text: "hi" } }, bots, NOW);
    expect(route).toEqual({
      action: "invalid",
      error: expect.stringMatching(/^user /),
      eventId: "x",
    });
    expect(
      routeKadiDelivery({ channel, data: slackEvent({ user: null }) }, bots, NOW),
    ).toMatchObject({ action: "invalid", error: expect.stringMatching(/^user .*null/) });
    expect(routeKadiDelivery({ channel, data: slackEvent({ text: "" }) }, bots, NOW)).toMatchObject(
      { action: "invalid", error: expect.stringMatching(/^text /) },
    );
  });

  it("takes null or absent optional fields, and the id for a missing or odd ts", () => {
    const channel = slackMentionChannel(SLACK_BOT);
    for (const ts of [null, undefined, "yesterday"]) {
      const route = routeKadiDelivery(
        { channel, data: slackEvent({ ts, thread_ts: null, bot_id: null, timestamp: null }) },
        bots,
        NOW,
      );
      expect(route).toMatchObject({
        action: "enqueue",
        job: {
          jobId: "slack:C0CHAN:1700000000.000100",
          sentAt: 1_700_000_000_000,
          reply: { platform: "slack", via: "kadi", address: { threadTs: "1700000000.000100" } },
        },
      });
    }
  });

  it("unwraps the {eventName, data, …} envelope of KĀDI core publishers", () => {
    const route = routeKadiDelivery(
      {
        channel: slackMentionChannel(SLACK_BOT),
        data: { eventName: "slack.app_mention.UBOT1", data: slackEvent(), source: "slack-agent" },
      },
      bots,
      NOW,
    );
    expect(route.action === "enqueue" && route.job.text).toBe("hello there");
  });
});

describe("routeKadiDelivery: Discord", () => {
  it("turns a mention into a job answered as a reply to the message id", () => {
    const route = routeKadiDelivery(
      { channel: discordMentionChannel(DISCORD_BOT), data: discordEvent() },
      bots,
      NOW,
    );
    expect(route).toMatchObject({
      action: "enqueue",
      dedupeId: "discord:555555555555555555:1170000000000000000",
      job: {
        jobId: "discord:555555555555555555:1170000000000000000",
        source: { kind: "kadi-event", eventId: "1170000000000000000" },
        conversation: {
          platform: "discord",
          channelId: "555555555555555555",
          userId: "987654321098765432",
        },
        text: "hi bot",
        sentAt: Date.parse("2023-11-14T22:13:20.000Z"),
        reply: {
          platform: "discord",
          via: "kadi",
          address: { channel: "555555555555555555", messageId: "1170000000000000000" },
        },
      },
    });
  });

  it("falls back to the snowflake's time when ts is missing", () => {
    const route = routeKadiDelivery(
      { channel: discordMentionChannel(DISCORD_BOT), data: discordEvent({ ts: undefined }) },
      bots,
      NOW,
    );
    const expected = Number((1170000000000000000n >> 22n) + 1_420_070_400_000n);
    expect(route.action === "enqueue" && route.job.sentAt).toBe(expected);
  });

  it("ignores the bot's own messages and mentions of another bot", () => {
    const channel = discordMentionChannel(DISCORD_BOT);
    expect(
      routeKadiDelivery({ channel, data: discordEvent({ user: DISCORD_BOT }) }, bots, NOW),
    ).toEqual({ action: "ignore", reason: "own message" });
    expect(
      routeKadiDelivery(
        { channel: "discord.mention.999999999999999999", data: discordEvent() },
        bots,
        NOW,
      ),
    ).toEqual({ action: "ignore", reason: "another bot" });
  });

  it("strips <@id> and <@!id> mentions of the bot only", () => {
    expect(
      stripDiscordMentions(`<@${DISCORD_BOT}> a <@!${DISCORD_BOT}> b <@42>`, DISCORD_BOT),
    ).toBe("a b <@42>");
    expect(stripDiscordMentions("<@!123456789012345678> <@123456789012345679> hi")).toBe("hi");
  });
});

describe("routeKadiDelivery: other channels", () => {
  it("ignores channels it does not serve", () => {
    expect(routeKadiDelivery({ channel: "git.push", data: {} }, bots, NOW)).toEqual({
      action: "ignore",
      reason: "channel git.push",
    });
  });
});
