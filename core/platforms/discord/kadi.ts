/**
 * Discord through a KĀDI broker: the mentions the broker's Discord agent publishes on
 * `discord.mention.{bot user id}`, and its `discord_send_reply` / `discord_send_message` tools
 * for answers (docs/architecture.md, "Platforms and transports").
 */
import * as z from "zod";
import { describeIssue } from "../../ingress/zod-issue";
import type { KadiBinding, ParsedMention, RelayCall } from "../adapter";
import { readAddress } from "../address";
import { instantMs, loggableId, mentionSchema, optionalId, requiredText } from "../kadi-fields";
import {
  DISCORD_MAX_CHANNEL_NAME_CHARS,
  DISCORD_MAX_INCOMING_MESSAGE_CHARS,
  DISCORD_MAX_MESSAGE_CHARS,
} from "./limits";
import { snowflakeTime } from "./snowflake";

/**
 * A Discord mention as the broker's Discord agent publishes it: `{id, user, username, text,
 * channel, channelName, guild, ts, bot_id, timestamp}`. `id` is the message's snowflake (the
 * `message_id` that `discord_send_reply` answers), `bot_id` the mentioned bot's user id;
 * `guild` and `channelName` are `null` in direct messages. Only `id`, `user`, `text` and
 * `channel` are required (non-empty strings); every other field may be absent or `null`, and
 * unknown fields are ignored. Ids, names and times are at most 64 characters (`channelName`
 * 100), `text` at most 4000 (Discord's own bounds).
 */
export const kadiDiscordEventSchema = mentionSchema(DISCORD_MAX_INCOMING_MESSAGE_CHARS).extend({
  username: optionalId,
  channelName: z.string().max(DISCORD_MAX_CHANNEL_NAME_CHARS).nullish(),
  guild: optionalId,
});

/** See {@link kadiDiscordEventSchema}. */
export type KadiDiscordEvent = z.infer<typeof kadiDiscordEventSchema>;

/** Channel prefix of Discord mentions; the suffix is the mentioned bot's Discord user id. */
export const DISCORD_MENTION_CHANNEL_PREFIX = "discord.mention.";

/** A `via: "kadi"` Discord address: the message to reply to, in its channel. */
const relayAddressSchema = z.object({ channel: requiredText, messageId: requiredText });

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
 * Discord's {@link KadiBinding}: a mention becomes a job (`discord:{channel}:{message id}`)
 * answered as a reply to that message; replies go out as `discord_send_reply {channel,
 * message_id, text}` for the first chunk of at most 2000 characters, then
 * `discord_send_message {channel, text}` for each further chunk.
 */
export const discordKadiBinding: KadiBinding = {
  channelPrefix: DISCORD_MENTION_CHANNEL_PREFIX,
  parseMention(data, { channel, botUserId, nowMs }): ParsedMention {
    const parsed = kadiDiscordEventSchema.safeParse(data);
    if (!parsed.success) {
      return { ok: false, error: describeIssue(parsed.error, "data"), eventId: loggableId(data) };
    }
    const event = parsed.data;
    const text = stripDiscordMentions(event.text, botUserId);
    const sentAt =
      instantMs(event.ts) ??
      (/^\d{15,20}$/.test(event.id) ? snowflakeTime(event.id) : undefined) ??
      instantMs(event.timestamp) ??
      nowMs;
    const job = text
      ? {
          v: 2 as const,
          jobId: `discord:${event.channel}:${event.id}`,
          source: { kind: "kadi-event" as const, eventId: event.id, channel },
          conversation: {
            platform: "discord" as const,
            channelId: event.channel,
            userId: event.user,
          },
          text,
          sentAt,
          reply: {
            platform: "discord" as const,
            via: "kadi" as const,
            address: { channel: event.channel, messageId: event.id },
          },
        }
      : undefined;
    return { ok: true, eventId: event.id, user: event.user, mentionedBot: event.bot_id, job };
  },
  maxMessageChars: DISCORD_MAX_MESSAGE_CHARS,
  relayCalls(address, chunks) {
    const { channel, messageId } = readAddress(
      relayAddressSchema,
      address,
      "discord relay address",
    );
    return chunks.map(
      (text, index): RelayCall =>
        index === 0
          ? { tool: "discord_send_reply", input: { channel, message_id: messageId, text } }
          : { tool: "discord_send_message", input: { channel, text } },
    );
  },
  repliedTo: (address) =>
    readAddress(relayAddressSchema, address, "discord relay address").messageId,
};
