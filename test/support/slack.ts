import { signRequest } from "../../core/ingress/hmac-signature";

/** Signing secret used by tests. */
export const TEST_SIGNING_SECRET = "test-signing-secret-0123456789abcdef";

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
  const ts =
    options.ts ??
    `${Math.floor(Date.now() / 1000)}.${String(Math.floor(Math.random() * 1e6)).padStart(6, "0")}`;
  return {
    token: "deprecated-verification-token",
    team_id: "T0TEST",
    api_app_id: "A0TEST",
    type: "event_callback",
    event_id: options.eventId,
    event_time: Math.floor(Number(ts)),
    authorizations: [{ team_id: "T0TEST", user_id: options.botUserId ?? "UBOT", is_bot: true }],
    event: {
      type: "app_mention",
      user: options.user ?? "U0USER",
      text: `<@${options.botUserId ?? "UBOT"}> ${options.text}`,
      ts,
      channel: options.channel ?? "C0CHAN",
      event_ts: ts,
      ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
    },
  };
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
