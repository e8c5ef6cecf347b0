/**
 * Wire-level fake of the Slack Web API (`chat.postMessage`, `auth.test`), close enough to the
 * published format that `@slack/web-api`'s `WebClient` works against it unchanged via
 * `new WebClient(token, { slackApiUrl: fake.url })`.
 *
 * Formats followed:
 * - chat.postMessage: https://docs.slack.dev/reference/methods/chat.postMessage
 * - auth.test: https://docs.slack.dev/reference/methods/auth.test
 * - rate limits (HTTP 429 + `Retry-After`): https://docs.slack.dev/apis/web-api/rate-limits
 */
import type { IncomingHttpHeaders } from "node:http";
import { FailureQueue, parseJsonObject, sendJson, startHttpFake } from "./http-fake";

/** Options for {@link startFakeSlack}. */
export interface FakeSlackOptions {
  /**
   * Bot token the `Authorization: Bearer` header (or a `token` argument) must carry.
   * Default `"xoxb-fake-token"`.
   */
  token?: string;
  /** Channel ids that exist; others get `channel_not_found`. Default: any non-empty id. */
  channels?: string[];
  /** Bot user id: `message.user` and `auth.test` `user_id`. Default `"U0FAKEBOT"`. */
  botUserId?: string;
  /** Bot id, reported as `message.bot_id` and `auth.test` `bot_id`. Default `"B0FAKEBOT"`. */
  botId?: string;
  /** Workspace id for `auth.test` `team_id`. Default `"T0FAKE"`. */
  teamId?: string;
}

/**
 * An injected failure for {@link FakeSlack.failNext}. `status: 429` answers HTTP 429 with
 * `Retry-After` and `{ ok: false, error: "ratelimited" }`; any other non-200 `status` answers
 * that status with `{ ok: false, error }`; otherwise HTTP 200 with `{ ok: false, error }`.
 */
export interface SlackFailure {
  /** HTTP status. Default 200. */
  status?: number;
  /** Slack error code. Default `"ratelimited"` for 429, else `"internal_error"`. */
  error?: string;
  /** `Retry-After` header value in whole seconds, for 429. Default 1. */
  retryAfterSeconds?: number;
  /** How many consecutive calls of the method fail. Default 1. */
  times?: number;
}

/** One Web API call as received. */
export interface SlackCall {
  /** API method, e.g. `"chat.postMessage"`. */
  method: string;
  /**
   * Decoded arguments, from a form-encoded or JSON body. Form values are strings, except
   * `blocks`/`attachments`/`metadata`, which are JSON-decoded as Slack does.
   */
  args: Record<string, unknown>;
  headers: IncomingHttpHeaders;
}

/** A running fake Slack Web API. */
export interface FakeSlack {
  /** Base URL ending in `/api/`, to pass as `WebClient`'s `slackApiUrl`. */
  url: string;
  /** The bot token clients must use. */
  token: string;
  /** Every call received, oldest first, including rejected ones. */
  calls: SlackCall[];
  /** Args of the `chat.postMessage` calls that succeeded, in order. */
  posted(): Record<string, unknown>[];
  /** Makes the next `times` calls of `method` fail as described by {@link SlackFailure}. */
  failNext(method: string, failure: SlackFailure): void;
  /** While `true`, connections are destroyed on arrival (clients see a request error). */
  setDown(down: boolean): void;
  /** Clears calls, posted messages and pending failures, and brings the fake up. */
  reset(): void;
  /** Stops the server and drops open connections. */
  close(): Promise<void>;
}

const JSON_ARGS = ["blocks", "attachments", "metadata"];

/**
 * Starts the fake on 127.0.0.1. Every call is answered in Slack's style: HTTP 200 with
 * `{ ok: false, error }` for platform errors (`not_authed`, `invalid_auth`,
 * `channel_not_found`, `no_text`, `unknown_method`); only rate limits and injected statuses
 * use other HTTP codes. Message `ts` values are unique and increasing (`<seconds>.<micros>`).
 */
export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const token = options.token ?? "xoxb-fake-token";
  const botUserId = options.botUserId ?? "U0FAKEBOT";
  const botId = options.botId ?? "B0FAKEBOT";
  const teamId = options.teamId ?? "T0FAKE";
  const failures = new FailureQueue<{ method: string } & SlackFailure>();
  const calls: SlackCall[] = [];
  const posted: Record<string, unknown>[] = [];
  let lastMicros = 0;
  const nextTs = () => {
    lastMicros = Math.max(Date.now() * 1000, lastMicros + 1);
    return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, "0")}`;
  };

  const http = await startHttpFake((req, res, raw) => {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const method = path.startsWith("/api/") ? path.slice("/api/".length) : path;
    const args = decodeArgs(raw, req.headers["content-type"]);
    calls.push({ method, args, headers: req.headers });
    const reply = (body: Record<string, unknown>) => sendJson(res, 200, body);
    const error = (code: string) => reply({ ok: false, error: code });

    const injected = failures.take((f) => f.method === method);
    if (injected) {
      const status = injected.status ?? 200;
      if (status === 429) {
        const body = { ok: false, error: injected.error ?? "ratelimited" };
        return sendJson(res, 429, body, { "retry-after": String(injected.retryAfterSeconds ?? 1) });
      }
      return sendJson(res, status, { ok: false, error: injected.error ?? "internal_error" });
    }

    const bearer = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    const presented = bearer ?? (typeof args.token === "string" ? args.token : undefined);
    if (!presented) return error("not_authed");
    if (presented !== token) return error("invalid_auth");

    switch (method) {
      case "auth.test":
        return reply({
          ok: true,
          url: "https://fake-workspace.slack.com/",
          team: "Fake Workspace",
          user: "fakebot",
          team_id: teamId,
          user_id: botUserId,
          bot_id: botId,
          is_enterprise_install: false,
        });
      case "chat.postMessage": {
        const channel = args.channel;
        if (typeof channel !== "string" || channel === "") return error("channel_not_found");
        if (options.channels && !options.channels.includes(channel)) {
          return error("channel_not_found");
        }
        const text = typeof args.text === "string" ? args.text : "";
        const hasBlocks = Array.isArray(args.blocks) && args.blocks.length > 0;
        if (text === "" && !hasBlocks) return error("no_text");
        const ts = nextTs();
        posted.push(args);
        return reply({
          ok: true,
          channel,
          ts,
          message: {
            type: "message",
            text,
            user: botUserId,
            ts,
            ...(typeof args.thread_ts === "string" ? { thread_ts: args.thread_ts } : {}),
            ...(hasBlocks ? { blocks: args.blocks } : {}),
            bot_id: botId,
            team: teamId,
          },
        });
      }
      default:
        return error("unknown_method");
    }
  });

  return {
    url: `${http.url}/api/`,
    token,
    calls,
    posted: () => [...posted],
    failNext: (method, failure) => failures.add({ method, ...failure }, failure.times ?? 1),
    setDown: http.setDown,
    reset: () => {
      calls.length = 0;
      posted.length = 0;
      failures.clear();
      http.setDown(false);
    },
    close: http.close,
  };
}

/** Decodes a JSON or form-encoded body into Slack method arguments. */
function decodeArgs(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.startsWith("application/json")) return parseJsonObject(raw) ?? {};
  const args: Record<string, unknown> = Object.fromEntries(new URLSearchParams(raw));
  for (const key of JSON_ARGS) {
    const value = args[key];
    if (typeof value !== "string") continue;
    try {
      args[key] = JSON.parse(value);
    } catch {
      // Slack would reject malformed JSON args; keeping the string lets tests see what was sent.
    }
  }
  return args;
}
