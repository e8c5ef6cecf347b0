/**
 * Slack through a KĀDI broker: the mentions the broker's Slack agent publishes on
 * `slack.app_mention.{bot user id}`, and its `slack_send_reply` tool for answers
 * (docs/architecture.md, "Platforms and transports").
 */
import * as z from "zod";
import { MESSAGE_TEXT_MAX_CHARS } from "../../constants/limits";
import { describeIssue } from "../../ingress/zod-issue";
import type { KadiBinding, ParsedMention } from "../adapter";
import { readAddress } from "../address";
import { instantMs, loggableId, mentionSchema, optionalId, requiredText } from "../kadi-fields";
import { SLACK_TS, slackChatJob, stripMentions } from "./events";
import { SLACK_MAX_MESSAGE_CHARS } from "./limits";

/**
 * A Slack mention as the broker's Slack agent publishes it: `{id, user, text, channel,
 * thread_ts, ts, bot_id, timestamp}`. `id` is the message `ts` (unique within its channel),
 * `bot_id` the Slack user id of the mentioned bot (the channel suffix), `timestamp` the ISO 8601
 * time of publication. Only `id`, `user`, `text` and `channel` are required (non-empty
 * strings); every other field may be absent or `null`, and unknown fields are ignored. Ids and
 * times are at most 64 characters, `text` at most 40 000 (Slack's own bounds).
 */
export const kadiSlackEventSchema = mentionSchema(MESSAGE_TEXT_MAX_CHARS).extend({
  thread_ts: optionalId,
});

/** See {@link kadiSlackEventSchema}. */
export type KadiSlackEvent = z.infer<typeof kadiSlackEventSchema>;

/** Channel prefix of Slack mentions; the suffix is the mentioned bot's Slack user id. */
export const SLACK_MENTION_CHANNEL_PREFIX = "slack.app_mention.";

/** A `via: "kadi"` Slack address: the thread to answer in. */
const relayAddressSchema = z.object({ channel: requiredText, threadTs: requiredText });

/**
 * Slack's {@link KadiBinding}: a mention becomes a job answered in its thread
 * (`thread_ts ?? ts`) with the same id as on the direct path, so a message that arrives both
 * ways is answered once; replies go out as `slack_send_reply {channel, thread_ts, text}`, one
 * call per chunk of at most 4000 characters.
 */
export const slackKadiBinding: KadiBinding = {
  channelPrefix: SLACK_MENTION_CHANNEL_PREFIX,
  parseMention(data, { channel, botUserId, nowMs }): ParsedMention {
    const parsed = kadiSlackEventSchema.safeParse(data);
    if (!parsed.success) {
      return { ok: false, error: describeIssue(parsed.error, "data"), eventId: loggableId(data) };
    }
    const event = parsed.data;
    const text = stripMentions(event.text, botUserId);
    // `id` is the message ts too; `ts` only restates it, so a missing or odd one is not fatal.
    const ts = event.ts && SLACK_TS.test(event.ts) ? event.ts : event.id;
    const job = text
      ? slackChatJob(
          { channel: event.channel, user: event.user, ts, text, threadTs: event.thread_ts || ts },
          { kind: "kadi-event", eventId: event.id, channel },
          "kadi",
          instantMs(ts) ?? instantMs(event.timestamp) ?? nowMs,
        )
      : undefined;
    return { ok: true, eventId: event.id, user: event.user, mentionedBot: event.bot_id, job };
  },
  maxMessageChars: SLACK_MAX_MESSAGE_CHARS,
  relayCalls(address, chunks) {
    const { channel, threadTs } = readAddress(relayAddressSchema, address, "slack relay address");
    return chunks.map((text) => ({
      tool: "slack_send_reply",
      input: { channel, thread_ts: threadTs, text },
    }));
  },
  repliedTo: (address) => readAddress(relayAddressSchema, address, "slack relay address").threadTs,
};
