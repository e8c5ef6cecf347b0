/**
 * Wire-level fake of the Discord REST API calls the agent makes: editing an interaction's
 * original response, posting follow-ups, and bulk-overwriting application commands. Serve it
 * as `DISCORD_API_URL` (`fake.url` ends in `/api/v10`).
 *
 * Formats followed:
 * - interaction webhooks: https://discord.com/developers/docs/interactions/receiving-and-responding#followup-messages
 *   (`PATCH /webhooks/{application_id}/{token}/messages/@original`,
 *   `POST /webhooks/{application_id}/{token}`, both answering a message object)
 * - bulk overwrite: https://discord.com/developers/docs/interactions/application-commands#bulk-overwrite-global-application-commands
 *   (`PUT /applications/{application_id}[/guilds/{guild_id}]/commands` with `Authorization: Bot
 *   <token>`, answering the stored commands; ids survive re-registration of the same name), and
 *   `GET` of the same paths listing them
 * - errors `{code, message, errors?}`: https://discord.com/developers/docs/reference#error-messages
 *   (401 `{code: 0, message: "401: Unauthorized"}`, 10015 Unknown Webhook, 50001 Missing
 *   Access, 50006 Cannot send an empty message, 50027 Invalid Webhook Token, 50035 Invalid Form
 *   Body)
 * - rate limits: https://discord.com/developers/docs/topics/rate-limits (429 with
 *   `{message, retry_after, global}`, `Retry-After` and `X-RateLimit-Scope`)
 */
import type { IncomingHttpHeaders } from "node:http";
import { FailureQueue, parseJsonObject, sendJson, startHttpFake } from "./http-fake";

/** Options for {@link startFakeDiscord}. */
export interface FakeDiscordOptions {
  /** The application whose webhooks and commands exist. Default `"100000000000000001"`. */
  applicationId?: string;
  /** Bot token the command endpoints require as `Authorization: Bot …`. */
  botToken?: string;
  /** `channel_id` reported on webhook messages. Default `"300000000000000003"`. */
  channelId?: string;
}

/** The fake's routes, for {@link FakeDiscord.failNext}. */
export type DiscordRoute = "edit" | "followUp" | "commands";

/**
 * An injected failure. `status: 429` answers Discord's rate-limit body with `retry_after`
 * (and `Retry-After` rounded up); other statuses answer `{code, message}`.
 */
export interface DiscordFailure {
  status: number;
  /** Discord JSON error code. Default 0. */
  code?: number;
  /** Default: a message for the status. */
  message?: string;
  /** Seconds (fractions allowed), for 429. Default 1. */
  retryAfterSeconds?: number;
  /** For 429: `global` in the body and `X-RateLimit-Scope`. Default false (`user`). */
  global?: boolean;
  /** How many consecutive calls of the route fail. Default 1. */
  times?: number;
}

/** A message posted through an interaction webhook (edit of `@original` or a follow-up). */
export interface WebhookMessage {
  /** Message id: `@original` keeps one id per interaction token. */
  id: string;
  interactionToken: string;
  content: string;
  /** The JSON body as sent. */
  body: Record<string, unknown>;
}

/** A command as stored by the fake (what Discord answers for it). */
export interface StoredCommand {
  id: string;
  application_id: string;
  version: string;
  type: number;
  name: string;
  description: string;
  options?: unknown[];
  default_member_permissions: string | null;
  guild_id?: string;
  nsfw: boolean;
}

/** One request as received. */
export interface DiscordRequestRecord {
  method: string;
  /** Path after `/api/v10`, query string included. */
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (object or array), or `undefined`. */
  body: unknown;
}

/** A running fake Discord REST API. */
export interface FakeDiscord {
  /** Base URL ending in `/api/v10` (no trailing slash), to use as `DISCORD_API_URL`. */
  url: string;
  applicationId: string;
  botToken: string;
  /** Every request received, oldest first, including rejected ones. */
  requests: DiscordRequestRecord[];
  /** Successful edits of `@original`, oldest first (optionally for one interaction token). */
  edits(interactionToken?: string): WebhookMessage[];
  /** Successful follow-ups, oldest first (optionally for one interaction token). */
  followUps(interactionToken?: string): WebhookMessage[];
  /** The commands currently registered globally, or in `guildId`. */
  commands(guildId?: string): StoredCommand[];
  /** Makes the next `times` calls of `route` fail as described. */
  failNext(route: DiscordRoute, failure: DiscordFailure): void;
  /** From now on, webhook calls with this token get 401 code 50027 (as after 15 minutes). */
  expireToken(interactionToken: string): void;
  /** While `true`, connections are destroyed on arrival. */
  setDown(down: boolean): void;
  /** Clears requests, messages, commands, expired tokens and failures; brings the fake up. */
  reset(): void;
  close(): Promise<void>;
}

const MAX_CONTENT_CHARS = 2000;
const DISCORD_EPOCH = 1_420_070_400_000n;
/** Chat-input command and option names (the naming regex of the application commands docs). */
const COMMAND_NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

/** Starts the fake on 127.0.0.1. */
export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const applicationId = options.applicationId ?? "100000000000000001";
  const botToken = options.botToken ?? "fake-bot-token";
  const channelId = options.channelId ?? "300000000000000003";
  const requests: DiscordRequestRecord[] = [];
  const edits: WebhookMessage[] = [];
  const followUps: WebhookMessage[] = [];
  const originalIds = new Map<string, string>();
  const expired = new Set<string>();
  /** Key: `""` for global commands, else the guild id. */
  const registered = new Map<string, StoredCommand[]>();
  const failures = new FailureQueue<{ route: DiscordRoute } & DiscordFailure>();
  let increment = 0n;
  const snowflake = () =>
    String(((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | (increment++ & 0xfffn));

  const http = await startHttpFake((req, res, raw) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";
    const path = url.pathname.replace(/^\/api\/v10/, "");
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = undefined;
    }
    requests.push({ method, path: path + url.search, headers: req.headers, body });
    const error = (status: number, code: number, message: string, extra = {}) =>
      sendJson(res, status, { message, code, ...extra });

    if (!url.pathname.startsWith("/api/v10/")) return error(404, 0, "404: Not Found");
    const webhook = path.match(/^\/webhooks\/([^/]+)\/([^/]+)(\/messages\/@original)?$/);
    const commands = path.match(/^\/applications\/([^/]+)(?:\/guilds\/([^/]+))?\/commands$/);
    const route: DiscordRoute | undefined = webhook
      ? webhook[3]
        ? "edit"
        : "followUp"
      : commands
        ? "commands"
        : undefined;
    if (!route) return error(404, 0, "404: Not Found");
    const allowed = { edit: ["PATCH"], followUp: ["POST"], commands: ["GET", "PUT"] }[route];
    if (!allowed.includes(method)) return error(405, 0, "405: Method Not Allowed");

    const injected = failures.take((f) => f.route === route);
    if (injected) {
      if (injected.status === 429) {
        const seconds = injected.retryAfterSeconds ?? 1;
        return sendJson(
          res,
          429,
          {
            message: "You are being rate limited.",
            retry_after: seconds,
            global: !!injected.global,
          },
          {
            "retry-after": String(Math.ceil(seconds)),
            "x-ratelimit-scope": injected.global ? "global" : "user",
          },
        );
      }
      return error(
        injected.status,
        injected.code ?? 0,
        injected.message ?? `${injected.status}: injected failure`,
      );
    }

    if (webhook) {
      const [, appId = "", encodedToken = ""] = webhook;
      const token = decodeURIComponent(encodedToken);
      if (appId !== applicationId) return error(404, 10015, "Unknown Webhook");
      if (expired.has(token)) return error(401, 50027, "Invalid Webhook Token");
      const json = parseJsonObject(raw);
      if (!json) return error(400, 50109, "The request body contains invalid JSON.");
      const content = typeof json.content === "string" ? json.content : "";
      if (content.length > MAX_CONTENT_CHARS) {
        return error(400, 50035, "Invalid Form Body", {
          errors: {
            content: {
              _errors: [
                { code: "BASE_TYPE_MAX_LENGTH", message: "Must be 2000 or fewer in length." },
              ],
            },
          },
        });
      }
      const hasEmbeds = Array.isArray(json.embeds) && json.embeds.length > 0;
      if (content.trim() === "" && !hasEmbeds) {
        return error(400, 50006, "Cannot send an empty message");
      }
      let id: string;
      if (route === "edit") {
        id = originalIds.get(token) ?? snowflake();
        originalIds.set(token, id);
        edits.push({ id, interactionToken: token, content, body: json });
      } else {
        id = snowflake();
        followUps.push({ id, interactionToken: token, content, body: json });
      }
      return sendJson(res, 200, messageObject(id, content, route === "edit"));
    }

    const [, appId = "", guildId] = commands ?? [];
    const presented = req.headers.authorization?.match(/^Bot (.+)$/)?.[1];
    if (presented !== botToken) return error(401, 0, "401: Unauthorized");
    if (appId !== applicationId) return error(403, 50001, "Missing Access");
    if (method === "GET") return sendJson(res, 200, registered.get(guildId ?? "") ?? []);
    const invalid = validateCommands(body);
    if (invalid) return error(400, 50035, "Invalid Form Body", { errors: invalid });
    const previous = registered.get(guildId ?? "") ?? [];
    const stored = (body as Record<string, unknown>[]).map((c): StoredCommand => {
      const name = String(c.name);
      return {
        id: previous.find((p) => p.name === name)?.id ?? snowflake(),
        application_id: applicationId,
        version: snowflake(),
        type: typeof c.type === "number" ? c.type : 1,
        name,
        description: String(c.description),
        ...(Array.isArray(c.options) ? { options: c.options } : {}),
        default_member_permissions: null,
        ...(guildId ? { guild_id: guildId } : {}),
        nsfw: false,
      };
    });
    registered.set(guildId ?? "", stored);
    return sendJson(res, 200, stored);
  });

  function messageObject(id: string, content: string, original: boolean) {
    return {
      id,
      // 20 = CHAT_INPUT_COMMAND (the response to a slash command), 0 = DEFAULT.
      type: original ? 20 : 0,
      content,
      channel_id: channelId,
      author: { id: applicationId, username: "fake-app", discriminator: "0000", bot: true },
      attachments: [],
      embeds: [],
      mentions: [],
      mention_roles: [],
      mention_everyone: false,
      pinned: false,
      tts: false,
      timestamp: new Date().toISOString(),
      edited_timestamp: original ? new Date().toISOString() : null,
      flags: 0,
      components: [],
      webhook_id: applicationId,
      application_id: applicationId,
    };
  }

  const byToken = (list: WebhookMessage[], token?: string) =>
    list.filter((m) => token === undefined || m.interactionToken === token);

  return {
    url: `${http.url}/api/v10`,
    applicationId,
    botToken,
    requests,
    edits: (token) => byToken(edits, token),
    followUps: (token) => byToken(followUps, token),
    commands: (guildId) => [...(registered.get(guildId ?? "") ?? [])],
    failNext: (route, failure) => failures.add({ route, ...failure }, failure.times ?? 1),
    expireToken: (token) => {
      expired.add(token);
    },
    setDown: http.setDown,
    reset: () => {
      requests.length = 0;
      edits.length = 0;
      followUps.length = 0;
      originalIds.clear();
      expired.clear();
      registered.clear();
      failures.clear();
      http.setDown(false);
    },
    close: http.close,
  };
}

/**
 * Checks a bulk-overwrite body the way Discord does for the fields we send: an array of at
 * most 100 commands with unique names; chat-input names lower case and matching the naming
 * regex; descriptions 1–100 characters; at most 25 options, required ones first, string
 * `min_length`/`max_length` within 0–6000. Returns Discord's nested `errors` object, or
 * `undefined` when valid.
 */
function validateCommands(body: unknown): Record<string, unknown> | undefined {
  const fail = (message: string) => ({ _errors: [{ code: "INVALID", message }] });
  if (!Array.isArray(body)) return fail("Must be an array.");
  if (body.length > 100) return fail("Must be 100 or fewer in length.");
  const names = new Set<string>();
  for (const [index, command] of body.entries()) {
    const at = (field: string, message: string) => ({ [index]: { [field]: fail(message) } });
    if (typeof command !== "object" || command === null) return { [index]: fail("Not an object.") };
    const { name, description, options } = command as Record<string, unknown>;
    if (typeof name !== "string" || !COMMAND_NAME.test(name) || name !== name.toLowerCase()) {
      return at("name", "Command name is invalid");
    }
    if (names.has(name)) return at("name", "Application command names must be unique");
    names.add(name);
    if (typeof description !== "string" || description.length < 1 || description.length > 100) {
      return at("description", "Must be between 1 and 100 in length.");
    }
    if (options === undefined) continue;
    if (!Array.isArray(options) || options.length > 25) {
      return at("options", "Must be 25 or fewer in length.");
    }
    let optionalSeen = false;
    for (const option of options as Record<string, unknown>[]) {
      const optionName = option?.name;
      if (typeof optionName !== "string" || !COMMAND_NAME.test(optionName)) {
        return at("options", "Option name is invalid");
      }
      const optionDescription = option.description;
      if (
        typeof optionDescription !== "string" ||
        optionDescription.length < 1 ||
        optionDescription.length > 100
      ) {
        return at("options", "Option description must be between 1 and 100 in length.");
      }
      if (option.required === true && optionalSeen) {
        return at("options", "Required options must be placed before non-required options");
      }
      if (option.required !== true) optionalSeen = true;
      for (const bound of ["min_length", "max_length"]) {
        const value = option[bound];
        if (value !== undefined && (typeof value !== "number" || value < 0 || value > 6000)) {
          return at("options", `${bound} must be between 0 and 6000`);
        }
      }
    }
  }
  return undefined;
}
