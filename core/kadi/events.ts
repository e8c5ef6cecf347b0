/**
 * Chat events that the broker's platform agents publish (design.md, "KĀDI wire protocol"), and
 * the pure decision of what to do with one delivery. No I/O here: see `./ingress` for the shell.
 */
import * as z from "zod";
import type { ChatJob } from "../chat/job";
import { SLACK_TS, stripMentions } from "../slack/events";

/** Channel prefix of Slack mentions; the suffix is the mentioned bot's Slack user id. */
export const SLACK_MENTION_CHANNEL_PREFIX = "slack.app_mention.";

/** Channel prefix of Discord mentions; the suffix is the mentioned bot's Discord user id. */
export const DISCORD_MENTION_CHANNEL_PREFIX = "discord.mention.";

/** Longest `id` copied into a refusal's log record: real ids are under 30 characters. */
const MAX_LOGGED_ID = 64;

/** `slack.app_mention.{SLACK_BOT_USER_ID}`: where the Slack agent publishes mentions of our bot. */
export function slackMentionChannel(botUserId: string): string {
  return `${SLACK_MENTION_CHANNEL_PREFIX}${botUserId}`;
}

/** `discord.mention.{DISCORD_BOT_USER_ID}`: where the Discord agent publishes mentions. */
export function discordMentionChannel(botUserId: string): string {
  return `${DISCORD_MENTION_CHANNEL_PREFIX}${botUserId}`;
}

/**
 * The channels the listener subscribes to: one per platform whose bot user id is configured.
 * Without `SLACK_BOT_USER_ID` (or `DISCORD_BOT_USER_ID`) there is no channel name to subscribe.
 */
export function mentionChannels(bots: KadiBotIds): string[] {
  const channels: string[] = [];
  if (bots.slackBotUserId) channels.push(slackMentionChannel(bots.slackBotUserId));
  if (bots.discordBotUserId) channels.push(discordMentionChannel(bots.discordBotUserId));
  return channels;
}

const nonEmpty = z.string().min(1);

/** An optional field: publishers send it absent or `null` when they have no value. */
const optionalText = z.string().nullish();

/**
 * A Slack mention as the broker's Slack agent publishes it: `{id, user, text, channel,
 * thread_ts, ts, bot_id, timestamp}`. `id` is the message `ts` (unique within its channel),
 * `bot_id` the Slack user id of the mentioned bot (the channel suffix), `timestamp` the ISO 8601
 * time of publication. Only `id`, `user`, `text` and `channel` are required (non-empty
 * strings); every other field may be absent or `null`, and unknown fields are ignored.
 */
export const kadiSlackEventSchema = z.looseObject({
  id: nonEmpty,
  user: nonEmpty,
  text: nonEmpty,
  channel: nonEmpty,
  thread_ts: optionalText,
  ts: optionalText,
  bot_id: optionalText,
  timestamp: optionalText,
});

/** See {@link kadiSlackEventSchema}. */
export type KadiSlackEvent = z.infer<typeof kadiSlackEventSchema>;

/**
 * A Discord mention as the broker's Discord agent publishes it: `{id, user, username, text,
 * channel, channelName, guild, ts, bot_id, timestamp}`. `id` is the message's snowflake (the
 * `message_id` that `discord_send_reply` answers), `bot_id` the mentioned bot's user id;
 * `guild` and `channelName` are `null` in direct messages. Only `id`, `user`, `text` and
 * `channel` are required (non-empty strings); every other field may be absent or `null`, and
 * unknown fields are ignored.
 */
export const kadiDiscordEventSchema = z.looseObject({
  id: nonEmpty,
  user: nonEmpty,
  username: optionalText,
  text: nonEmpty,
  channel: nonEmpty,
  channelName: optionalText,
  guild: optionalText,
  ts: optionalText,
  bot_id: optionalText,
  timestamp: optionalText,
});

/** See {@link kadiDiscordEventSchema}. */
export type KadiDiscordEvent = z.infer<typeof kadiDiscordEventSchema>;

/** A delivery as `POST /kadi/events` carries it (and `kadi.event.delivery` params). */
export const kadiDeliverySchema = z.object({ channel: nonEmpty, data: z.unknown() });

/** The bot's own user ids, which name the channels and identify its own messages. */
export interface KadiBotIds {
  /** `SLACK_BOT_USER_ID`. */
  slackBotUserId?: string | undefined;
  /** `DISCORD_BOT_USER_ID`. */
  discordBotUserId?: string | undefined;
}

/** What to do with a delivery. Pure data, decided by {@link routeKadiDelivery}. */
export type KadiRoute =
  | { action: "ignore"; reason: string }
  /**
   * The channel is ours but the payload is not a chat event we can answer. `error` names the
   * field and what is wrong with it, never its value; `eventId` is the payload's `id` when it
   * is a string, for the log.
   */
  | { action: "invalid"; error: string; eventId?: string }
  | {
      action: "enqueue";
      /**
       * Dedupe key: `{platform}:{channel}:{id}`. Slack ids (message `ts`) are unique only within
       * a channel, so the event id alone could collide across channels.
       */
      dedupeId: string;
      job: ChatJob;
    };

/**
 * Decides what to do with one delivery, whether it arrived over the broker socket or through
 * `POST /kadi/events`:
 * - channels other than `slack.app_mention.*` / `discord.mention.*` are ignored, and so are
 *   mentions of another bot (channel suffix or `bot_id` differing from ours);
 * - a payload that does not parse is `invalid`;
 * - the bot's own messages and texts empty after removing mentions are ignored;
 * - anything else becomes a {@link ChatJob} answered through the broker tools
 *   (`kadi-slack`: in the thread `thread_ts ?? ts`; `kadi-discord`: as a reply to message `id`).
 *
 * `bot_id` names the mentioned bot, as the broker's platform agents publish it, not a sending
 * bot; the agents already drop messages from bots before publishing, so `bot_id` is never used
 * to discard an event addressed to us.
 *
 * @param nowMs - fallback `sentAt` when the event carries no parsable time (epoch ms).
 */
export function routeKadiDelivery(
  delivery: { channel: string; data: unknown },
  bots: KadiBotIds,
  nowMs: number,
): KadiRoute {
  const { channel } = delivery;
  if (channel.startsWith(SLACK_MENTION_CHANNEL_PREFIX)) {
    return routeSlack(delivery, bots.slackBotUserId, nowMs);
  }
  if (channel.startsWith(DISCORD_MENTION_CHANNEL_PREFIX)) {
    return routeDiscord(delivery, bots.discordBotUserId, nowMs);
  }
  return { action: "ignore", reason: `channel ${channel}` };
}

function routeSlack(
  delivery: { channel: string; data: unknown },
  botUserId: string | undefined,
  nowMs: number,
): KadiRoute {
  const addressee = delivery.channel.slice(SLACK_MENTION_CHANNEL_PREFIX.length);
  if (botUserId && addressee !== botUserId) return { action: "ignore", reason: "another bot" };
  const data = unwrapEnvelope(delivery.data);
  const parsed = kadiSlackEventSchema.safeParse(data);
  if (!parsed.success) return invalid(data, parsed.error);
  const event = parsed.data;
  if (botUserId && event.bot_id && event.bot_id !== botUserId) {
    return { action: "ignore", reason: "another bot" };
  }
  if (event.user === (botUserId ?? addressee)) return { action: "ignore", reason: "own message" };
  const text = stripMentions(event.text, botUserId);
  if (!text) return { action: "ignore", reason: "empty text" };
  // `id` is the message ts too; `ts` only restates it, so a missing or odd one is not fatal.
  const ts = event.ts && SLACK_TS.test(event.ts) ? event.ts : event.id;
  const threadTs = event.thread_ts || ts;
  return {
    action: "enqueue",
    dedupeId: `slack:${event.channel}:${event.id}`,
    job: {
      v: 1,
      // Same id as the direct Slack path (core/slack/events.ts): a mention that arrives both
      // through /slack/events and through the broker is answered once.
      jobId: `slack:${event.channel}:${ts}`,
      source: { kind: "kadi-event", eventId: event.id, channel: delivery.channel },
      conversation: { platform: "slack", channelId: event.channel, userId: event.user },
      text,
      sentAt: instantMs(ts) ?? instantMs(event.timestamp) ?? nowMs,
      reply: { kind: "kadi-slack", channel: event.channel, threadTs },
    },
  };
}

function routeDiscord(
  delivery: { channel: string; data: unknown },
  botUserId: string | undefined,
  nowMs: number,
): KadiRoute {
  const addressee = delivery.channel.slice(DISCORD_MENTION_CHANNEL_PREFIX.length);
  if (botUserId && addressee !== botUserId) return { action: "ignore", reason: "another bot" };
  const data = unwrapEnvelope(delivery.data);
  const parsed = kadiDiscordEventSchema.safeParse(data);
  if (!parsed.success) return invalid(data, parsed.error);
  const event = parsed.data;
  if (botUserId && event.bot_id && event.bot_id !== botUserId) {
    return { action: "ignore", reason: "another bot" };
  }
  if (event.user === (botUserId ?? addressee)) return { action: "ignore", reason: "own message" };
  const text = stripDiscordMentions(event.text, botUserId);
  if (!text) return { action: "ignore", reason: "empty text" };
  return {
    action: "enqueue",
    dedupeId: `discord:${event.channel}:${event.id}`,
    job: {
      v: 1,
      jobId: `discord:${event.channel}:${event.id}`,
      source: { kind: "kadi-event", eventId: event.id, channel: delivery.channel },
      conversation: { platform: "discord", channelId: event.channel, userId: event.user },
      text,
      sentAt: instantMs(event.ts) ?? snowflakeMs(event.id) ?? instantMs(event.timestamp) ?? nowMs,
      reply: { kind: "kadi-discord", channel: event.channel, messageId: event.id },
    },
  };
}

/**
 * Removes Discord user mentions of the bot, `<@id>` and the nickname form `<@!id>`
 * (https://discord.com/developers/docs/reference#message-formatting); when the bot id is
 * unknown, only mentions leading the text are removed.
 */
export function stripDiscordMentions(text: string, botUserId?: string): string {
  const pattern = botUserId ? new RegExp(`<@!?${botUserId}>`, "g") : /^(\s*<@!?\d{15,22}>)+/;
  return text.replace(pattern, " ").replace(/\s+/g, " ").trim();
}

/**
 * Publishers built on the KĀDI core library wrap the payload in an envelope
 * `{eventName, data, timestamp, source, metadata}`; the chat event is then its `data`.
 */
function unwrapEnvelope(data: unknown): unknown {
  if (typeof data !== "object" || data === null || "id" in data) return data;
  const inner = (data as { data?: unknown }).data;
  return typeof inner === "object" && inner !== null ? inner : data;
}

/** Epoch ms of a Slack-style `seconds.micros`, epoch seconds or ms, or an ISO 8601 time. */
function instantMs(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  // Eleven digits of seconds reach to the year 5138; twelve or more are milliseconds.
  if (/^\d{1,11}(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  if (/^\d{12,13}$/.test(value)) return Number(value);
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
}

/** Creation time encoded in a Discord snowflake (ms since the Discord epoch, 2015-01-01). */
function snowflakeMs(id: string): number | undefined {
  if (!/^\d{15,22}$/.test(id)) return undefined;
  return Number((BigInt(id) >> 22n) + 1_420_070_400_000n);
}

/**
 * The `invalid` route for a payload that failed `error`. Zod's messages name the expected and
 * received types, never the value, so the reason is safe to log and to answer with.
 */
function invalid(data: unknown, error: z.ZodError): KadiRoute {
  const first = error.issues[0];
  const reason = `${first?.path.join(".") || "data"} ${first?.message ?? "is invalid"}`;
  const id = (data as { id?: unknown } | null)?.id;
  return typeof id === "string" && id.length > 0 && id.length <= MAX_LOGGED_ID
    ? { action: "invalid", error: reason, eventId: id }
    : { action: "invalid", error: reason };
}
