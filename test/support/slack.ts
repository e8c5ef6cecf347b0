import { signRequest } from "../../core/ingress/hmac-signature";
import { THINKING_PLACEHOLDER } from "../../core/platforms/slack/live-reply";
import type { FakeSlack } from "../fakes/slack";

/** Signing secret used by tests. */
export const TEST_SIGNING_SECRET = "test-signing-secret-0123456789abcdef";

/** A fresh Slack `ts` for now (`seconds.micros`, the micros random). */
export function nowTs(): string {
  const micros = String(Math.floor(Math.random() * 1e6)).padStart(6, "0");
  return `${Math.floor(Date.now() / 1000)}.${micros}`;
}

/**
 * The `event_callback` envelope Slack wraps every event in
 * (https://api.slack.com/apis/events-api#callback-field).
 */
export function eventCallback(
  eventId: string,
  ts: string,
  event: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    token: "deprecated-verification-token",
    team_id: "T0TEST",
    api_app_id: "A0TEST",
    type: "event_callback",
    event_id: eventId,
    event_time: Math.floor(Number(ts)),
    ...extra,
    event,
  };
}

/** A Slack `event_callback` envelope carrying an `app_mention`, as Slack sends it. */
export function appMentionEnvelope(options: {
  eventId: string;
  text: string;
  user?: string;
  channel?: string;
  ts?: string;
  threadTs?: string;
  botUserId?: string;
}): Record<string, unknown> {
  const ts = options.ts ?? nowTs();
  return eventCallback(
    options.eventId,
    ts,
    {
      type: "app_mention",
      user: options.user ?? "U0USER",
      text: `<@${options.botUserId ?? "UBOT"}> ${options.text}`,
      ts,
      channel: options.channel ?? "C0CHAN",
      event_ts: ts,
      ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
    },
    {
      authorizations: [{ team_id: "T0TEST", user_id: options.botUserId ?? "UBOT", is_bot: true }],
    },
  );
}

/**
 * A person's `message` in a channel as `message.channels` delivers it
 * (https://docs.slack.dev/reference/events/message.channels), in `threadTs`'s thread when given.
 */
export function channelMessageEnvelope(options: {
  eventId: string;
  text: string;
  channel: string;
  threadTs?: string;
  ts?: string;
  user?: string;
}): Record<string, unknown> {
  const ts = options.ts ?? nowTs();
  return eventCallback(options.eventId, ts, {
    type: "message",
    channel_type: "channel",
    channel: options.channel,
    user: options.user ?? "U0ALICE",
    text: options.text,
    ts,
    event_ts: ts,
    client_msg_id: "0b0e4c52-0000-4000-8000-000000000000",
    team: "T0TEST",
    ...(options.threadTs ? { thread_ts: options.threadTs, parent_user_id: "U0ALICE" } : {}),
  });
}

/** Headers Slack sends with a signed request; `retryNum` adds `X-Slack-Retry-Num`. */
export function signedHeaders(
  rawBody: string,
  options: { secret?: string; timestamp?: number; retryNum?: number } = {},
): Record<string, string> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  return {
    "content-type": "application/json",
    "x-slack-request-timestamp": timestamp,
    "x-slack-signature": signRequest(options.secret ?? TEST_SIGNING_SECRET, timestamp, rawBody),
    ...(options.retryNum
      ? { "x-slack-retry-num": String(options.retryNum), "x-slack-retry-reason": "http_timeout" }
      : {}),
  };
}

/**
 * POSTs `envelope` to `{baseUrl}/slack/events`, signed with the test secret, and resolves with
 * the HTTP status (the stack's ack).
 */
export async function postSlackEvent(
  baseUrl: string,
  envelope: Record<string, unknown>,
): Promise<number> {
  const body = JSON.stringify(envelope);
  const res = await fetch(`${baseUrl}/slack/events`, {
    method: "POST",
    body,
    headers: signedHeaders(body),
  });
  return res.status;
}

/** A reply as the person sees it once it is done (see {@link answers}). */
export interface SlackAnswer {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
}

/**
 * The bot's messages in `slack` that are done, oldest first: not streaming any more, and not
 * the `_Thinking…_` placeholder still waiting for its first words. Whichever way a reply was
 * written (`chat.postMessage`, a stream, a placeholder edited with `chat.update`), its `text`
 * is what it shows at the end.
 */
export function answers(slack: FakeSlack): SlackAnswer[] {
  return (
    slack
      .messages()
      // Seeded messages (someone else's) have no events.
      .filter((m) => m.events.length > 0 && !m.streaming && m.text !== THINKING_PLACEHOLDER)
      .map((m) => ({
        channel: m.channel,
        ts: m.ts,
        ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
        text: m.text,
      }))
  );
}

/**
 * A `block_actions` payload as Slack sends it for a click on a message button
 * (https://api.slack.com/reference/interaction-payloads/block-actions), fields as in Slack's
 * reference example, including the `null`s an org-wide app gets.
 */
export function blockActionsPayload(options: {
  actionId: string;
  value: string;
  user?: string;
  responseUrl?: string;
  channel?: string;
  messageTs?: string;
}): Record<string, unknown> {
  const channel = options.channel ?? "C0CHAN";
  const messageTs = options.messageTs ?? nowTs();
  return {
    type: "block_actions",
    user: { id: options.user ?? "U0USER", username: "alice", name: "alice", team_id: "T0TEST" },
    api_app_id: "A0TEST",
    token: "deprecated-verification-token",
    container: { type: "message", message_ts: messageTs, channel_id: channel, is_ephemeral: false },
    trigger_id: "1388105719492.1379717998065.9bc163894734c1f415a2c504e81dec91",
    team: { id: "T0TEST", domain: "test" },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel, name: "general" },
    message: { type: "message", ts: messageTs, text: "Run it?", bot_id: "B0FAKEBOT" },
    state: { values: {} },
    // Default: a closed local port (tests never reach Slack); pass a fake's `responseUrl()`.
    response_url: options.responseUrl ?? "http://127.0.0.1:9/actions/T0TEST/1/x",
    actions: [
      {
        type: "button",
        block_id: "approval",
        action_id: options.actionId,
        text: { type: "plain_text", text: "Approve", emoji: true },
        value: options.value,
        style: "primary",
        action_ts: nowTs(),
      },
    ],
  };
}

/**
 * An interaction POST as Slack makes it: `application/x-www-form-urlencoded` with the payload's
 * JSON in the `payload` field, signed with the test secret (or `options.secret`).
 */
export function signedInteraction(
  payload: unknown,
  options: { secret?: string } = {},
): { body: string; headers: Record<string, string> } {
  return signedForm(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), options);
}

/** `body` as a signed `application/x-www-form-urlencoded` POST, signed exactly as given. */
export function signedForm(
  body: string,
  options: { secret?: string } = {},
): { body: string; headers: Record<string, string> } {
  return {
    body,
    headers: {
      ...signedHeaders(body, options),
      "content-type": "application/x-www-form-urlencoded",
    },
  };
}
