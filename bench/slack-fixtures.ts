import { randomBytes, randomUUID } from "node:crypto";
import { signRequest } from "../core/ingress/hmac-signature";

/** Fake Slack identities shared by our ingress and the Bolt app under test. */
export const BENCH_SLACK = {
  signingSecret: "8f742231b10e8888abcd99yyyzzz85a5",
  botToken: "xoxb-000000000000-000000000000-benchbenchbenchbenchbench",
  botId: "B0BENCHBOT",
  botUserId: "U0BENCHBOT",
  teamId: "T0BENCH01",
  appId: "A0BENCH01",
  channel: "C0BENCH01",
  user: "U0HUMAN01",
} as const;

/** An API Gateway REST (payload v1) proxy event, the shape both Lambda adapters accept. */
export interface ApiGatewayV1Event {
  resource: string;
  path: string;
  httpMethod: "POST";
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  queryStringParameters: null;
  multiValueQueryStringParameters: null;
  pathParameters: null;
  stageVariables: null;
  requestContext: Record<string, unknown>;
  body: string;
  isBase64Encoded: false;
}

/** One signed POST to `/slack/events`, as raw HTTP parts and as a Lambda event. */
export interface SignedRequest {
  body: string;
  /** As Slack sends them (capitalised names). */
  headers: Record<string, string>;
  /** The same headers keyed by lower-case name, for calling the handler directly. */
  lowerCaseHeaders: Record<string, string>;
  lambdaEvent: ApiGatewayV1Event;
}

const RUN_ID = randomBytes(4).toString("hex").toUpperCase();
const BASE_SECONDS = Math.floor(Date.now() / 1000);
let sequence = 0;

const PROMPT =
  "can you summarise the thread about the Q3 launch plan, list the open action items with " +
  "their owners, and flag anything that is blocked on the infra migration?";

/**
 * A realistic `event_callback` envelope for an `app_mention` (about 1 KB, shaped like what
 * Slack sends: blocks, authorizations, event_context), with a unique `event_id` and message
 * `ts` per call, so dedupe never short-circuits.
 */
export function appMentionBody(): string {
  const n = sequence++;
  const ts = `${BASE_SECONDS}.${String(n).padStart(6, "0")}`;
  const { botUserId, teamId, appId, channel, user } = BENCH_SLACK;
  return JSON.stringify({
    token: "ZZZZZZWSxiZZZ2yIvs3peJ",
    team_id: teamId,
    context_team_id: teamId,
    context_enterprise_id: null,
    api_app_id: appId,
    event: {
      user,
      type: "app_mention",
      ts,
      client_msg_id: randomUUID(),
      text: `<@${botUserId}> ${PROMPT}`,
      team: teamId,
      blocks: [
        {
          type: "rich_text",
          block_id: "hB7Xq",
          elements: [
            {
              type: "rich_text_section",
              elements: [
                { type: "user", user_id: botUserId },
                { type: "text", text: ` ${PROMPT}` },
              ],
            },
          ],
        },
      ],
      channel,
      event_ts: ts,
    },
    type: "event_callback",
    event_id: `Ev${RUN_ID}${n.toString(36).toUpperCase().padStart(6, "0")}`,
    event_time: BASE_SECONDS,
    authorizations: [
      {
        enterprise_id: null,
        team_id: teamId,
        user_id: botUserId,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
    event_context: "4-eyJldCI6ImFwcF9tZW50aW9uIiwidGlkIjoiVDBCRU5DSDAxIiwiYWlkIjoiQTBCRU5DSDAxIn0",
  });
}

/** The `url_verification` handshake Slack sends when the Request URL is saved. */
export function urlVerificationBody(): string {
  return JSON.stringify({
    token: "ZZZZZZWSxiZZZ2yIvs3peJ",
    challenge: `challenge-${randomUUID()}`,
    type: "url_verification",
  });
}

/** Signs `body` as Slack would now and wraps it as HTTP headers and an API Gateway event. */
export function signed(body: string, nowSeconds = Math.floor(Date.now() / 1000)): SignedRequest {
  const timestamp = String(nowSeconds);
  const host = "abc123defg.execute-api.us-east-1.amazonaws.com";
  const headers: Record<string, string> = {
    Accept: "*/*",
    "Accept-Encoding": "gzip,deflate",
    "Content-Length": String(Buffer.byteLength(body)),
    "Content-Type": "application/json",
    Host: host,
    "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    "X-Forwarded-For": "54.209.1.2",
    "X-Forwarded-Port": "443",
    "X-Forwarded-Proto": "https",
    "X-Slack-Request-Timestamp": timestamp,
    "X-Slack-Signature": signRequest(BENCH_SLACK.signingSecret, timestamp, body),
  };
  const multiValueHeaders = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, [value]]),
  );
  const lowerCaseHeaders = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  return {
    body,
    headers,
    lowerCaseHeaders,
    lambdaEvent: {
      resource: "/slack/events",
      path: "/slack/events",
      httpMethod: "POST",
      headers,
      multiValueHeaders,
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      stageVariables: null,
      requestContext: {
        accountId: "123456789012",
        apiId: "abc123defg",
        domainName: host,
        domainPrefix: "abc123defg",
        httpMethod: "POST",
        path: "/prod/slack/events",
        protocol: "HTTP/1.1",
        requestId: randomUUID(),
        requestTimeEpoch: nowSeconds * 1000,
        resourcePath: "/slack/events",
        stage: "prod",
        identity: { sourceIp: "54.209.1.2", userAgent: headers["User-Agent"] },
      },
      body,
      isBase64Encoded: false,
    },
  };
}
