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
          address: { channel: "C1", threadTs: "1700000000.000100", userId: "U1", teamId: "T1" },
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
      address: { channel: "C1", threadTs: "1700000000.000100", userId: "U1", teamId: "T1" },
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
      "a message in a multi-person DM (not subscribed)",
      { type: "message", channel_type: "mpim", user: "U1", text: "x", ts: "1.1", channel: "G1" },
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

/**
 * A person's `message` in a channel (`message.channels`; `group` for `message.groups`), shaped
 * like https://docs.slack.dev/reference/events/message.channels: a thread reply carries
 * `thread_ts` and `parent_user_id`; optional fields may be null.
 */
function channelMessage(event: Record<string, unknown>): SlackEnvelope {
  return callback({
    type: "message",
    channel_type: "channel",
    channel: "C1",
    user: "U1",
    ts: "1700000100.000200",
    event_ts: "1700000100.000200",
    client_msg_id: "4f1c1d3e-0000-4000-8000-000000000000",
    team: "T1",
    blocks: [{ type: "rich_text", block_id: "b1", elements: [] }],
    ...event,
  });
}

describe("routeSlackEnvelope: replies in channel threads", () => {
  const inThread = { thread_ts: "1700000000.000100", parent_user_id: BOT };

  it("queues a follow-up without a mention only if the agent took part in its thread", () => {
    const route = routeSlackEnvelope(
      channelMessage({ ...inThread, text: "and for Postgres?" }),
      BOT,
    );
    expect(route).toMatchObject({
      action: "enqueue_if_thread_joined",
      eventId: "Ev123",
      thread: { channel: "C1", threadTs: "1700000000.000100" },
      job: {
        jobId: "slack:C1:1700000100.000200",
        text: "and for Postgres?",
        conversation: { platform: "slack", channelId: "C1", userId: "U1" },
        reply: {
          platform: "slack",
          via: "direct",
          address: { channel: "C1", threadTs: "1700000000.000100" },
        },
      },
    });
  });

  it("treats a private channel's thread (message.groups) the same", () => {
    const event = { ...inThread, channel_type: "group", channel: "G1", text: "more" };
    expect(routeSlackEnvelope(channelMessage(event), BOT)).toMatchObject({
      action: "enqueue_if_thread_joined",
      thread: { channel: "G1", threadTs: "1700000000.000100" },
    });
  });

  it.each([
    ["top-level chatter", { text: "lunch?" }, "top-level channel message"],
    [
      "a thread's parent message itself",
      { text: "lunch?", ts: "1700000000.000100", thread_ts: "1700000000.000100" },
      "top-level channel message",
    ],
    [
      "a reply that mentions another person (a side conversation)",
      { ...inThread, text: "<@U7> what do you think?" },
      "mentions another user",
    ],
    [
      "a reply that mentions a person by name and id",
      { ...inThread, text: "thanks <@W0ENTERPRISE|dana>" },
      "mentions another user",
    ],
    [
      "a reply that mentions the bot (its app_mention event is answered)",
      { ...inThread, text: `<@${BOT}> and now?` },
      "mentions the bot: answered as app_mention",
    ],
    [
      "a reply that mentions the bot and someone else",
      { ...inThread, text: `<@U7> see <@${BOT}>'s answer` },
      "mentions the bot: answered as app_mention",
    ],
    ["the bot's own reply", { ...inThread, text: "answer", bot_id: "B1", user: BOT }, "bot"],
    ["an edit", { ...inThread, subtype: "message_changed" }, "subtype message_changed"],
  ])("ignores %s", (_name, event, reason) => {
    expect(routeSlackEnvelope(channelMessage(event), BOT)).toEqual({ action: "ignore", reason });
  });

  it("leaves every reply that mentions anyone alone when the bot's id is unknown", () => {
    const event = channelMessage({ ...inThread, text: "<@U7> hi" });
    expect(routeSlackEnvelope(event)).toEqual({ action: "ignore", reason: "mentions a user" });
    expect(routeSlackEnvelope(channelMessage({ ...inThread, text: "hi" }))).toMatchObject({
      action: "enqueue_if_thread_joined",
    });
  });
});

describe("routeSlackEnvelope: the assistant thread", () => {
  /** Shaped like https://docs.slack.dev/reference/events/assistant_thread_started. */
  function threadStarted(assistantThread: unknown): SlackEnvelope {
    return callback({
      type: "assistant_thread_started",
      assistant_thread: assistantThread,
      event_ts: "1700000000.000900",
    });
  }

  it("sets up a newly opened assistant thread", () => {
    const route = routeSlackEnvelope(
      threadStarted({
        user_id: "U1",
        context: { channel_id: "C9", team_id: "T1", enterprise_id: null },
        channel_id: "D1",
        thread_ts: "1700000000.000800",
      }),
      BOT,
    );
    expect(route).toEqual({
      action: "set_up_assistant_thread",
      eventId: "Ev123",
      thread: { channel: "D1", threadTs: "1700000000.000800" },
    });
  });

  it("reads a thread opened with no channel in view (empty context)", () => {
    const event = { user_id: "U1", context: {}, channel_id: "D1", thread_ts: "1.2" };
    expect(routeSlackEnvelope(threadStarted(event), BOT).action).toBe("set_up_assistant_thread");
  });

  it.each([
    ["without assistant_thread", null, "ignore"],
    ["without thread_ts", { user_id: "U1", channel_id: "D1" }, "ignore"],
    ["with an assistant_thread of another type", "D1", "unreadable"],
  ])("does not set up a thread %s", (_name, thread, action) => {
    expect(routeSlackEnvelope(threadStarted(thread), BOT).action).toBe(action);
  });

  it("refuses an id longer than Slack sends", () => {
    const event = { channel_id: "D".repeat(65), thread_ts: "1.2" };
    expect(routeSlackEnvelope(threadStarted(event), BOT)).toMatchObject({ action: "refuse" });
  });

  it("answers a message in the assistant thread as a DM, in that thread", () => {
    // Shaped like a message of an assistant thread: a DM reply carrying `assistant_thread`.
    const route = routeSlackEnvelope(
      callback({
        type: "message",
        channel_type: "im",
        channel: "D1",
        user: "U1",
        text: "what can you do?",
        ts: "1700000000.000900",
        thread_ts: "1700000000.000800",
        parent_user_id: BOT,
        assistant_thread: { action_token: "10116779555154.10138525474272.9b39d4" },
      }),
      BOT,
    );
    expect(route).toMatchObject({
      action: "enqueue",
      job: {
        text: "what can you do?",
        reply: {
          platform: "slack",
          via: "direct",
          address: { channel: "D1", threadTs: "1700000000.000800" },
        },
      },
    });
  });
});
