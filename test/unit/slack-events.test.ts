import { describe, expect, it } from "vitest";
import {
  routeSlackEnvelope,
  type SlackEnvelope,
  stripMentions,
} from "../../core/platforms/slack/events";

const BOT = "UBOT1";

function callback(event: Record<string, unknown>): SlackEnvelope {
  return {
    type: "event_callback",
    team_id: "T1",
    event_id: "Ev123",
    event_time: 1_700_000_000,
    event: { type: "app_mention", ...event },
  } as SlackEnvelope;
}

describe("routeSlackEnvelope", () => {
  it("answers url_verification with the challenge", () => {
    expect(routeSlackEnvelope({ type: "url_verification", challenge: "abc" }, BOT)).toEqual({
      action: "challenge",
      challenge: "abc",
    });
  });

  it("turns an app_mention into a job threaded under the mention", () => {
    const route = routeSlackEnvelope(
      callback({
        user: "U1",
        text: `<@${BOT}> what is DynamoDB?`,
        ts: "1700000000.000100",
        channel: "C1",
      }),
      BOT,
    );
    expect(route).toMatchObject({
      action: "enqueue",
      eventId: "Ev123",
      job: {
        v: 2,
        jobId: "slack:C1:1700000000.000100",
        // The workspace travels with the job, for ALLOWED_SLACK_TEAMS.
        source: { kind: "slack-events", eventId: "Ev123", teamId: "T1" },
        conversation: { platform: "slack", channelId: "C1", userId: "U1" },
        text: "what is DynamoDB?",
        sentAt: 1_700_000_000_000,
        reply: {
          platform: "slack",
          via: "direct",
          address: { channel: "C1", threadTs: "1700000000.000100" },
        },
      },
    });
  });

  it("keeps an existing thread", () => {
    const route = routeSlackEnvelope(
      callback({
        user: "U1",
        text: `<@${BOT}> more`,
        ts: "1700000001.000200",
        thread_ts: "1700000000.000100",
        channel: "C1",
      }),
      BOT,
    );
    expect(route.action === "enqueue" && route.job.reply).toEqual({
      platform: "slack",
      via: "direct",
      address: { channel: "C1", threadTs: "1700000000.000100" },
    });
  });

  it("answers a direct message in place (no thread)", () => {
    const route = routeSlackEnvelope(
      callback({
        type: "message",
        channel_type: "im",
        user: "U1",
        text: "hi",
        ts: "1700000000.000100",
        channel: "D1",
      }),
      BOT,
    );
    expect(route).toMatchObject({
      action: "enqueue",
      job: { reply: { platform: "slack", via: "direct", address: { channel: "D1" } } },
    });
    expect(route.action === "enqueue" && "threadTs" in route.job.reply).toBe(false);
  });

  it.each([
    [
      "the bot's own message",
      { user: BOT, text: "hello", ts: "1.1", channel: "C1" },
      "own message",
    ],
    ["another bot", { user: "U2", bot_id: "B9", text: "hi", ts: "1.1", channel: "C1" }, "bot"],
    [
      "an edit",
      { type: "message", channel_type: "im", subtype: "message_changed", ts: "1.1", channel: "D1" },
      "subtype message_changed",
    ],
    [
      "a channel message",
      { type: "message", channel_type: "channel", user: "U1", text: "x", ts: "1.1", channel: "C1" },
      "event message",
    ],
    ["a bare mention", { user: "U1", text: `<@${BOT}>`, ts: "1.1", channel: "C1" }, "empty text"],
  ])("ignores %s", (_name, event, reason) => {
    expect(routeSlackEnvelope(callback(event), BOT)).toEqual({ action: "ignore", reason });
  });
});

describe("stripMentions", () => {
  it("removes the bot mention wherever it is, keeping other mentions", () => {
    expect(stripMentions(`hey <@${BOT}> ask <@U7> please`, BOT)).toBe("hey ask <@U7> please");
    expect(stripMentions(`<@${BOT}|agent> hi`, BOT)).toBe("hi");
  });

  it("removes leading mentions when the bot id is unknown", () => {
    expect(stripMentions("<@U1ABC> hi <@U2>")).toBe("hi <@U2>");
  });
});
