import * as z from "zod";
import type { ChatJob, ReplyVia } from "../../chat/job";
import {
  MESSAGE_TEXT_MAX_CHARS,
  PLATFORM_ID_MAX_CHARS,
  TOKEN_MAX_CHARS,
} from "../../constants/limits";
import { loggableOrShape } from "../../ingress/log-fields";
import { describeIssue } from "../../ingress/zod-issue";
import { SLACK_MAX_FILE_NAME_CHARS, SLACK_MAX_FILES } from "./limits";

/**
 * A file attached to a message (https://api.slack.com/types/file): `name` and `title` are
 * `null` or absent on some files (one hidden by the workspace's plan has neither), so an entry
 * that does not even parse is kept as a file without a name rather than losing the message.
 */
const slackFileSchema = z
  .looseObject({ name: z.string().nullish(), title: z.string().nullish() })
  .catch({});

/** An id, `ts` or type name: Slack's are short (docs/architecture.md, "Accepted payloads"). */
const slackId = z.string().max(PLATFORM_ID_MAX_CHARS).nullish();

/**
 * The fields of an `app_mention` or `message` event the agent reads
 * (https://api.slack.com/events/app_mention, https://api.slack.com/events/message and its
 * subtypes `file_share` and `thread_broadcast`). Every field but `type` may be absent or `null`;
 * unknown fields pass through untouched. `root` is the thread's parent, sent with
 * `thread_broadcast`. Ids, `ts` and type names are at most `PLATFORM_ID_MAX_CHARS` (64)
 * characters, `text` at most 40 000 (Slack truncates longer texts) and `files` at most
 * `SLACK_MAX_FILES` entries: longer ones are not Slack's and are refused (`too_big`).
 */
const slackMessageEventSchema = z.looseObject({
  type: z.string().max(PLATFORM_ID_MAX_CHARS),
  subtype: slackId,
  user: slackId,
  bot_id: slackId,
  text: z.string().max(MESSAGE_TEXT_MAX_CHARS).nullish(),
  ts: slackId,
  thread_ts: slackId,
  channel: slackId,
  channel_type: slackId,
  files: z.array(slackFileSchema).max(SLACK_MAX_FILES).nullish(),
  root: z.looseObject({ thread_ts: slackId }).nullish(),
});

/**
 * The envelope types Slack POSTs to the Request URL
 * (https://api.slack.com/apis/events-api#callback-field). Only `url_verification` needs a field
 * beyond `type` (its `challenge`); an `event_callback`'s `event` is read by
 * {@link routeSlackEnvelope}, which ignores what it cannot use rather than refusing it, and
 * `event_id` may be missing on old-style events the agent ignores anyway. `team_id` and
 * `event_id` longer than `PLATFORM_ID_MAX_CHARS` (64) are refused: the event id becomes a key.
 */
export const slackEnvelopeSchema = z.discriminatedUnion("type", [
  z.looseObject({
    type: z.literal("url_verification"),
    challenge: z.string().max(TOKEN_MAX_CHARS),
  }),
  z.looseObject({
    type: z.literal("event_callback"),
    team_id: z.string().max(PLATFORM_ID_MAX_CHARS).nullish(),
    event_id: z.string().max(PLATFORM_ID_MAX_CHARS).nullish(),
    event_time: z.number().nullish(),
    event: z.unknown().optional(),
  }),
  z.looseObject({ type: z.literal("app_rate_limited") }),
]);

/** A parsed Slack envelope. */
export type SlackEnvelope = z.infer<typeof slackEnvelopeSchema>;

/**
 * The fields of an `assistant_thread_started` event the agent reads
 * (https://docs.slack.dev/reference/events/assistant_thread_started): the assistant thread's DM
 * channel and parent `ts`. `user_id` and `context` (the channel the person was viewing) are read
 * by nobody; every field may be absent or `null`, and over-long ids are refused like a
 * message's.
 */
const assistantThreadStartedSchema = z.looseObject({
  assistant_thread: z
    .looseObject({ user_id: slackId, channel_id: slackId, thread_ts: slackId })
    .nullish(),
});

/** A thread in a Slack channel: its channel and the parent message's `ts`. */
export interface SlackThread {
  channel: string;
  threadTs: string;
}

/** What ingress does with an envelope. Pure data, decided by {@link routeSlackEnvelope}. */
export type SlackRoute =
  | { action: "challenge"; challenge: string }
  | { action: "ignore"; reason: string }
  /**
   * An event the agent would act on (a mention, a direct or channel message, a new assistant
   * thread) whose shape it cannot read; acknowledged like an ignored event, and logged as a
   * warning. `reason` names the field.
   */
  | { action: "unreadable"; reason: string }
  /**
   * A field longer than Slack ever sends (an id over 64 characters, a text over 40 000): refused
   * with 400, `error` naming the field.
   */
  | { action: "refuse"; error: string }
  | { action: "enqueue"; eventId: string; job: ChatJob }
  /**
   * A person's reply in a channel thread with no mention: queue `job` only if the agent took
   * part in `thread` (the ingress looks up the mark the worker's answers there leave).
   */
  | { action: "enqueue_if_thread_joined"; eventId: string; job: ChatJob; thread: SlackThread }
  /**
   * A person opened the agent's assistant thread (`assistant_thread_started`): set its title
   * and suggested prompts, once per `eventId`.
   */
  | { action: "set_up_assistant_thread"; eventId: string; thread: SlackThread };

/** A Slack message ts, `seconds.micros` (https://api.slack.com/events/message). */
export const SLACK_TS = /^\d{1,12}\.\d{1,9}$/;

/** Message subtypes that are a person writing to the bot; every other subtype is ignored. */
const ANSWERED_SUBTYPES = new Set(["file_share", "thread_broadcast"]);

/**
 * Decides what to do with a verified Slack envelope: answer the `url_verification` handshake,
 * turn an `app_mention` or a direct message (`message` with `channel_type: "im"`, including
 * the messages of the agent's assistant thread) from a human into a {@link ChatJob}, turn a
 * person's reply in a channel thread (`message` with `channel_type` `channel` or `group`) into
 * a job queued only if the agent took part in that thread, set up an assistant thread when one
 * is opened (`assistant_thread_started`), and ignore everything else — the bot's own messages,
 * other bots, edits/deletions and other subtypes, events of other types, and empty texts —
 * with a reason for the log. Messages that share files (`file_share`) and thread replies also
 * sent to the channel (`thread_broadcast`) are answered: the job's text is the message text
 * followed by `\n\n[attached: a.pdf, b.png]` listing each file's `name` (else `title`, else
 * `unnamed file`); the files' contents are not read.
 *
 * A channel message is a follow-up only inside a thread (`thread_ts` set and not its own `ts`)
 * and only when it mentions no one: one that mentions the bot is answered through its
 * `app_mention` event (Slack sends both), one that mentions another person is a side
 * conversation between people. Top-level channel chatter is never answered without a mention.
 * A mention or message with a field longer than Slack sends (an id or `ts` over 64 characters,
 * a text over 40 000, more than 100 files) is `refuse`d, naming the field.
 *
 * @param botUserId - the bot's Slack user id (`SLACK_BOT_USER_ID`), if known; its mentions are
 *   stripped from the text and its own messages are ignored. Unknown, every channel message
 *   that mentions anyone is left alone.
 */
export function routeSlackEnvelope(envelope: SlackEnvelope, botUserId?: string): SlackRoute {
  if (envelope.type === "url_verification") {
    return { action: "challenge", challenge: envelope.challenge };
  }
  if (envelope.type === "app_rate_limited") return { action: "ignore", reason: "app_rate_limited" };

  const raw: { type?: unknown; channel_type?: unknown } =
    typeof envelope.event === "object" && envelope.event !== null ? envelope.event : {};
  if (typeof raw.type !== "string") return { action: "ignore", reason: "event without type" };
  if (raw.type === "assistant_thread_started") return routeAssistantThread(envelope);
  const kind = messageKind(raw);
  if (!kind) return { action: "ignore", reason: `event ${loggableOrShape(raw.type)}` };
  const parsed = slackMessageEventSchema.safeParse(envelope.event);
  if (!parsed.success) return unparsed(parsed.error);
  const event = parsed.data;
  if (event.bot_id || event.subtype === "bot_message") return { action: "ignore", reason: "bot" };
  if (event.subtype && !ANSWERED_SUBTYPES.has(event.subtype)) {
    return { action: "ignore", reason: `subtype ${loggableOrShape(event.subtype)}` };
  }
  if (!event.user || !event.channel || !event.ts || !SLACK_TS.test(event.ts)) {
    return { action: "ignore", reason: "incomplete event" };
  }
  if (botUserId && event.user === botUserId) return { action: "ignore", reason: "own message" };
  const threadTs = event.thread_ts || event.root?.thread_ts || undefined;
  if (kind === "channel") {
    const skip = followUpSkipReason(event.text ?? "", event.ts, threadTs, botUserId);
    if (skip) return { action: "ignore", reason: skip };
  }
  // Without event_id Slack's retries cannot be told apart from new events.
  if (!envelope.event_id) return { action: "unreadable", reason: "event_id missing" };

  const text = [stripMentions(event.text ?? "", botUserId), attachedLine(event.files)]
    .filter(Boolean)
    .join("\n\n");
  if (!text) return { action: "ignore", reason: "empty text" };

  // A mention outside a thread is answered in a thread under it.
  const replyTs = threadTs ?? (kind === "mention" ? event.ts : undefined);
  const job = slackChatJob(
    { channel: event.channel, user: event.user, ts: event.ts, text, threadTs: replyTs },
    {
      kind: "slack-events",
      eventId: envelope.event_id,
      ...(envelope.team_id ? { teamId: envelope.team_id } : {}),
    },
    "direct",
  );
  const eventId = envelope.event_id;
  if (kind === "channel" && replyTs) {
    return {
      action: "enqueue_if_thread_joined",
      eventId,
      job,
      thread: { channel: event.channel, threadTs: replyTs },
    };
  }
  return { action: "enqueue", eventId, job };
}

/** Which of the message events the agent reads `raw` is, if any. */
function messageKind(raw: {
  type?: unknown;
  channel_type?: unknown;
}): "mention" | "direct" | "channel" | undefined {
  if (raw.type === "app_mention") return "mention";
  if (raw.type !== "message") return undefined;
  if (raw.channel_type === "im") return "direct";
  return raw.channel_type === "channel" || raw.channel_type === "group" ? "channel" : undefined;
}

/** A mention pattern: `<@U123>` or `<@U123|name>` (https://docs.slack.dev/messaging/formatting-message-text). */
const USER_MENTION = /<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g;

/**
 * Why a person's channel message is no follow-up for the agent, or `undefined` when it is one:
 * outside a thread, or mentioning the bot (answered through `app_mention`) or someone else.
 */
function followUpSkipReason(
  text: string,
  ts: string,
  threadTs: string | undefined,
  botUserId: string | undefined,
): string | undefined {
  if (!threadTs || threadTs === ts) return "top-level channel message";
  const mentioned = [...text.matchAll(USER_MENTION)].map((match) => match[1]);
  if (mentioned.length === 0) return undefined;
  if (!botUserId) return "mentions a user";
  return mentioned.includes(botUserId)
    ? "mentions the bot: answered as app_mention"
    : "mentions another user";
}

/** `assistant_thread_started` → set the thread up, when it names its channel and thread. */
function routeAssistantThread(
  envelope: Extract<SlackEnvelope, { type: "event_callback" }>,
): SlackRoute {
  const parsed = assistantThreadStartedSchema.safeParse(envelope.event);
  if (!parsed.success) return unparsed(parsed.error);
  const thread = parsed.data.assistant_thread;
  if (!thread?.channel_id || !thread.thread_ts || !SLACK_TS.test(thread.thread_ts)) {
    return { action: "ignore", reason: "incomplete event" };
  }
  if (!envelope.event_id) return { action: "unreadable", reason: "event_id missing" };
  return {
    action: "set_up_assistant_thread",
    eventId: envelope.event_id,
    thread: { channel: thread.channel_id, threadTs: thread.thread_ts },
  };
}

/**
 * The route of an event the agent reads but whose shape does not parse: an over-long field is
 * no Slack event (`refuse`); a field of another type may be Slack evolving (`unreadable`).
 */
function unparsed(error: z.ZodError): SlackRoute {
  const tooLong = error.issues.find((issue) => issue.code === "too_big");
  const issue = describeIssue(tooLong ? new z.ZodError([tooLong]) : error, "event", ["event"]);
  return tooLong
    ? { action: "refuse", error: `invalid_event: ${issue}` }
    : { action: "unreadable", reason: issue };
}

/** A Slack message the agent answers, whichever way it arrived (webhook or KĀDI relay). */
export interface SlackMessage {
  channel: string;
  user: string;
  /** The message `ts`, `seconds.micros`. */
  ts: string;
  /** The text with the bot's mentions removed. */
  text: string;
  /** Thread to answer in; absent for a top-level direct-message reply. */
  threadTs?: string | undefined;
}

/**
 * The chat job of one Slack message. The message, not the event, identifies the job
 * (`slack:{channel}:{ts}`): Slack can describe one message with two events (a mention inside a
 * DM), and a KĀDI broker may relay it too; reply idempotency is keyed by `jobId`, so it is
 * answered once. Channel ids are unique across workspaces, so the team id is not needed.
 *
 * @param sentAt - epoch ms; defaults to the time in `ts`.
 */
export function slackChatJob(
  message: SlackMessage,
  source: ChatJob["source"],
  via: Exclude<ReplyVia, "inline">,
  sentAt = Math.round(Number(message.ts) * 1000),
): ChatJob {
  const address: Record<string, string> = { channel: message.channel };
  if (message.threadTs) address.threadTs = message.threadTs;
  if (via === "direct") {
    // Whom a stream outside a DM is shown to (`chat.startStream` recipients).
    address.userId = message.user;
    if (source.kind === "slack-events" && source.teamId) address.teamId = source.teamId;
  }
  return {
    v: 2,
    jobId: `slack:${message.channel}:${message.ts}`,
    source,
    conversation: { platform: "slack", channelId: message.channel, userId: message.user },
    text: message.text,
    sentAt,
    reply: { platform: "slack", via, address },
  };
}

/** `[attached: a.pdf, b.png]` for a message's files, or "" when it has none. */
function attachedLine(files: z.infer<typeof slackFileSchema>[] | null | undefined): string {
  if (!files?.length) return "";
  const names = files.map((file) =>
    (file.name || file.title || "unnamed file").slice(0, SLACK_MAX_FILE_NAME_CHARS),
  );
  return `[attached: ${names.join(", ")}]`;
}

/** Removes `<@BOT>` mentions (all user mentions when the bot id is unknown at the start). */
export function stripMentions(text: string, botUserId?: string): string {
  const pattern = botUserId
    ? new RegExp(`<@${botUserId}(\\|[^>]*)?>`, "g")
    : /^(\s*<@[UW][A-Z0-9]+(\|[^>]*)?>)+/;
  return text.replace(pattern, " ").replace(/\s+/g, " ").trim();
}
