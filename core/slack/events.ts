import * as z from "zod";
import type { ChatJob } from "../chat/job";

/**
 * Slack Events API envelopes (https://api.slack.com/apis/events-api#callback-field): only the
 * fields the agent reads are declared; unknown fields pass through untouched.
 */
const slackMessageEvent = z.looseObject({
  type: z.string(),
  subtype: z.string().optional(),
  user: z.string().optional(),
  bot_id: z.string().optional(),
  text: z.string().optional(),
  ts: z.string().optional(),
  thread_ts: z.string().optional(),
  channel: z.string().optional(),
  channel_type: z.string().optional(),
});

/** The envelope types Slack POSTs to the Request URL. */
export const slackEnvelopeSchema = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("url_verification"), challenge: z.string() }),
  z.looseObject({
    type: z.literal("event_callback"),
    team_id: z.string().optional(),
    event_id: z.string().min(1),
    event_time: z.number().optional(),
    event: slackMessageEvent,
  }),
  z.looseObject({ type: z.literal("app_rate_limited") }),
]);

/** A parsed Slack envelope. */
export type SlackEnvelope = z.infer<typeof slackEnvelopeSchema>;

/** What ingress does with an envelope. Pure data, decided by {@link routeSlackEnvelope}. */
export type SlackRoute =
  | { action: "challenge"; challenge: string }
  | { action: "ignore"; reason: string }
  | { action: "enqueue"; eventId: string; job: ChatJob };

const SLACK_TS = /^\d{1,12}\.\d{1,9}$/;

/**
 * Decides what to do with a verified Slack envelope: answer the `url_verification` handshake,
 * turn an `app_mention` or a direct message (`message` with `channel_type: "im"`) from a human
 * into a {@link ChatJob}, and ignore everything else — the bot's own messages, other bots,
 * edits/deletions (any `subtype`), and empty texts — with a reason for the log.
 *
 * @param botUserId - the bot's Slack user id (`SLACK_BOT_USER_ID`), if known; its mentions are
 *   stripped from the text and its own messages are ignored.
 */
export function routeSlackEnvelope(envelope: SlackEnvelope, botUserId?: string): SlackRoute {
  if (envelope.type === "url_verification") {
    return { action: "challenge", challenge: envelope.challenge };
  }
  if (envelope.type === "app_rate_limited") return { action: "ignore", reason: "app_rate_limited" };

  const event = envelope.event;
  const isMention = event.type === "app_mention";
  const isDirectMessage = event.type === "message" && event.channel_type === "im";
  if (!isMention && !isDirectMessage) return { action: "ignore", reason: `event ${event.type}` };
  if (event.bot_id || event.subtype === "bot_message") return { action: "ignore", reason: "bot" };
  if (event.subtype) return { action: "ignore", reason: `subtype ${event.subtype}` };
  if (!event.user || !event.channel || !event.ts || !SLACK_TS.test(event.ts)) {
    return { action: "ignore", reason: "incomplete event" };
  }
  if (botUserId && event.user === botUserId) return { action: "ignore", reason: "own message" };

  const text = stripMentions(event.text ?? "", botUserId);
  if (!text) return { action: "ignore", reason: "empty text" };

  const threadTs = isMention ? (event.thread_ts ?? event.ts) : event.thread_ts;
  const job: ChatJob = {
    v: 1,
    // The message, not the event, identifies the job: Slack can describe one message with two
    // events (a mention inside a DM), and a KĀDI broker may relay it too (core/kadi/events.ts
    // names it the same way); reply idempotency is keyed by jobId, so it is answered once.
    // Channel ids are unique across workspaces, so the team id is not needed.
    jobId: `slack:${event.channel}:${event.ts}`,
    source: { kind: "slack-events", eventId: envelope.event_id },
    conversation: { platform: "slack", channelId: event.channel, userId: event.user },
    text,
    sentAt: Math.round(Number(event.ts) * 1000),
    reply: threadTs
      ? { kind: "slack", channel: event.channel, threadTs }
      : { kind: "slack", channel: event.channel },
  };
  return { action: "enqueue", eventId: envelope.event_id, job };
}

/** Removes `<@BOT>` mentions (all user mentions when the bot id is unknown at the start). */
export function stripMentions(text: string, botUserId?: string): string {
  const pattern = botUserId
    ? new RegExp(`<@${botUserId}(\\|[^>]*)?>`, "g")
    : /^(\s*<@[UW][A-Z0-9]+(\|[^>]*)?>)+/;
  return text.replace(pattern, " ").replace(/\s+/g, " ").trim();
}
