/**
 * Wire-level fake of the Discord REST API calls the agent makes: editing an interaction's
 * original response and its follow-ups, posting follow-ups, posting a channel message as the
 * bot, and bulk-overwriting application commands. Serve it as `DISCORD_API_URL` (`fake.url`
 * ends in `/api/v10`).
 *
 * Every webhook message keeps its revisions with arrival times, so tests can assert progressive
 * edits and their pacing; the fake enforces the limits a real client must respect (2000
 * characters, the 15-minute interaction token, 5 edits per 5 s per message).
 *
 * Formats followed:
 * - interaction webhooks: https://discord.com/developers/docs/interactions/receiving-and-responding#followup-messages
 *   (`PATCH /webhooks/{application_id}/{token}/messages/@original`,
 *   `PATCH /webhooks/{application_id}/{token}/messages/{message_id}`,
 *   `POST /webhooks/{application_id}/{token}`, all answering a message object); "Interaction
 *   tokens are valid for 15 minutes"
 * - create message: https://discord.com/developers/docs/resources/message#create-message
 *   (`POST /channels/{channel_id}/messages` with `Authorization: Bot <token>`)
 * - bulk overwrite: https://discord.com/developers/docs/interactions/application-commands#bulk-overwrite-global-application-commands
 *   (`PUT /applications/{application_id}[/guilds/{guild_id}]/commands` with `Authorization: Bot
 *   <token>`, answering the stored commands; ids survive re-registration of the same name), and
 *   `GET` of the same paths listing them
 * - errors `{code, message, errors?}`: https://discord.com/developers/docs/reference#error-messages
 *   (401 `{code: 0, message: "401: Unauthorized"}`, 10008 Unknown Message, 10015 Unknown
 *   Webhook, 50001 Missing Access, 50006 Cannot send an empty message, 50027 Invalid Webhook
 *   Token, 50035 Invalid Form Body)
 * - rate limits: https://discord.com/developers/docs/topics/rate-limits (429 with
 *   `{message, retry_after, global}`, `Retry-After`, and the `X-RateLimit-Limit`, `-Remaining`,
 *   `-Reset`, `-Reset-After`, `-Bucket`, `-Scope` headers)
 */
import type { IncomingHttpHeaders } from "node:http";
import { FailureQueue, parseJsonObject, sendJson, startHttpFake } from "./http-fake";

/** Options for {@link startFakeDiscord}. */
export interface FakeDiscordOptions {
  /** The application whose webhooks and commands exist. Default `"100000000000000001"`. */
  applicationId?: string;
  /** Bot token the command and channel endpoints require as `Authorization: Bot …`. */
  botToken?: string;
  /** `channel_id` reported on webhook messages. Default `"300000000000000003"`. */
  channelId?: string;
  /**
   * How long an interaction token works, ms, counted from {@link FakeDiscord.setTokenAge} or
   * else from the first request that used it. Default 900 000 (Discord's 15 minutes).
   */
  interactionTokenLifetimeMs?: number;
  /**
   * Edits allowed per message within a sliding window; one more answers 429. Default
   * `{ limit: 5, windowMs: 5000 }` (Discord's per-message edit limit); `false` turns it off.
   */
  editRateLimit?: { limit: number; windowMs: number } | false;
}

/**
 * The fake's routes, for {@link FakeDiscord.failNext}: `edit` = PATCH `@original`,
 * `editMessage` = PATCH `messages/{id}`, `followUp` = POST webhook, `channelMessage` = POST
 * `/channels/{id}/messages`, `commands` = GET/PUT commands.
 */
export type DiscordRoute = "edit" | "editMessage" | "followUp" | "channelMessage" | "commands";

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

/** One successful write through an interaction webhook (edit of `@original` or a follow-up). */
export interface WebhookMessage {
  /** Message id: `@original` keeps one id per interaction token. */
  id: string;
  interactionToken: string;
  content: string;
  /** The JSON body as sent. */
  body: Record<string, unknown>;
  /** When the request arrived, epoch ms with sub-ms precision. */
  at: number;
}

/** One successful write of a message: its creation or an edit. */
export interface DiscordRevision {
  /** When the request arrived, epoch ms with sub-ms precision. */
  at: number;
  /** The message's content after this write. */
  content: string;
  /** The JSON body as sent. */
  body: Record<string, unknown>;
}

/** A message as the fake stores it, with every revision. */
export interface DiscordMessage {
  id: string;
  /**
   * `original`: the interaction's deferred response (first revision = first PATCH);
   * `followUp`: posted through the webhook; `channel`: posted with the bot token.
   */
  kind: "original" | "followUp" | "channel";
  /** The interaction token, for `original` and `followUp` messages. */
  interactionToken?: string;
  channelId: string;
  /** Current content. */
  content: string;
  /**
   * Current message components (action rows of buttons), as last sent; an edit without
   * `components` keeps them, `components: []` removes them.
   */
  components: unknown[];
  /** Every successful write, oldest first. Edits are the revisions of an `original` message
   * and all but the first of a `followUp`/`channel` one. */
  revisions: DiscordRevision[];
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
  /** When the request arrived, epoch ms with sub-ms precision. */
  at: number;
  /** HTTP status of the answer (e.g. 429 when rate limited), once sent. */
  status?: number;
}

/** A running fake Discord REST API. */
export interface FakeDiscord {
  /** Base URL ending in `/api/v10` (no trailing slash), to use as `DISCORD_API_URL`. */
  url: string;
  applicationId: string;
  botToken: string;
  /** Every request received, oldest first, including rejected ones. */
  requests: DiscordRequestRecord[];
  /**
   * Successful edits of the interaction's original response (via `@original` or its id),
   * oldest first (optionally for one interaction token).
   */
  edits(interactionToken?: string): WebhookMessage[];
  /** Successful follow-up posts, oldest first (optionally for one interaction token). */
  followUps(interactionToken?: string): WebhookMessage[];
  /**
   * Stored messages in creation order: those of one interaction token (original first if it
   * was written first), or with no argument all of them, channel messages included.
   */
  messages(interactionToken?: string): DiscordMessage[];
  /** One stored message by id, or `undefined`. */
  message(id: string): DiscordMessage | undefined;
  /** Messages posted with the bot token to `POST /channels/{id}/messages` (optionally one channel). */
  channelMessages(channelId?: string): DiscordMessage[];
  /** The commands currently registered globally, or in `guildId`. */
  commands(guildId?: string): StoredCommand[];
  /** Makes the next `times` calls of `route` fail as described. */
  failNext(route: DiscordRoute, failure: DiscordFailure): void;
  /**
   * Ages an interaction token: it now counts as issued `ageMs` ago, so it stops working once
   * `interactionTokenLifetimeMs` have passed since then (401, code 50027).
   */
  setTokenAge(interactionToken: string, ageMs: number): void;
  /** From now on, webhook calls with this token get 401 code 50027 (as after 15 minutes). */
  expireToken(interactionToken: string): void;
  /** While `true`, connections are destroyed on arrival. */
  setDown(down: boolean): void;
  /**
   * Clears requests, messages, token ages, commands, rate-limit windows and failures; brings
   * the fake up.
   */
  reset(): void;
  close(): Promise<void>;
}

const MAX_CONTENT_CHARS = 2000;
const DISCORD_EPOCH = 1_420_070_400_000n;
const INTERACTION_TOKEN_LIFETIME_MS = 15 * 60_000;
const EDIT_RATE_LIMIT = { limit: 5, windowMs: 5000 };
/** Chat-input command and option names (the naming regex of the application commands docs). */
const COMMAND_NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

/** What a route needs from the request: its verb, and for webhooks the token and message. */
interface Matched {
  route: DiscordRoute;
  methods: string[];
  appId?: string;
  token?: string;
  messageId?: string;
  channelId?: string;
  guildId?: string;
}

/** Starts the fake on 127.0.0.1. */
export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const applicationId = options.applicationId ?? "100000000000000001";
  const botToken = options.botToken ?? "fake-bot-token";
  const channelId = options.channelId ?? "300000000000000003";
  const tokenLifetimeMs = options.interactionTokenLifetimeMs ?? INTERACTION_TOKEN_LIFETIME_MS;
  const editLimit =
    options.editRateLimit === false ? undefined : (options.editRateLimit ?? EDIT_RATE_LIMIT);
  const requests: DiscordRequestRecord[] = [];
  const edits: WebhookMessage[] = [];
  const followUps: WebhookMessage[] = [];
  const store = new Map<string, DiscordMessage>();
  const originalIds = new Map<string, string>();
  /** Interaction token → when it counts as issued (epoch ms). */
  const issuedAt = new Map<string, number>();
  const expired = new Set<string>();
  /** Message id → arrival times of its recent successful edits. */
  const editTimes = new Map<string, number[]>();
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
    const record: DiscordRequestRecord = {
      method,
      path: path + url.search,
      headers: req.headers,
      body,
      at: now(),
    };
    requests.push(record);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      sendJson(res, status, payload, headers);
    };
    const error = (status: number, code: number, message: string, extra = {}) =>
      send(status, { message, code, ...extra });

    const matched = url.pathname.startsWith("/api/v10/") ? match(path) : undefined;
    if (!matched) return error(404, 0, "404: Not Found");
    if (!matched.methods.includes(method)) return error(405, 0, "405: Method Not Allowed");

    const injected = failures.take((f) => f.route === matched.route);
    if (injected) {
      if (injected.status === 429) {
        const seconds = injected.retryAfterSeconds ?? 1;
        return send(
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

    if (matched.route === "commands")
      return commands(method, req.headers, matched, body, send, error);
    if (matched.route === "channelMessage") {
      const presented = req.headers.authorization?.match(/^Bot (.+)$/)?.[1];
      if (presented !== botToken) return error(401, 0, "401: Unauthorized");
    } else {
      if (matched.appId !== applicationId) return error(404, 10015, "Unknown Webhook");
      const token = matched.token ?? "";
      if (!issuedAt.has(token)) issuedAt.set(token, record.at);
      const age = record.at - (issuedAt.get(token) ?? record.at);
      if (expired.has(token) || age >= tokenLifetimeMs) {
        return error(401, 50027, "Invalid Webhook Token");
      }
    }
    const json = parseJsonObject(raw);
    if (!json) return error(400, 50109, "The request body contains invalid JSON.");
    return write(matched, json, record.at, send, error);
  });

  function match(path: string): Matched | undefined {
    const webhook = path.match(/^\/webhooks\/([^/]+)\/([^/]+)(?:\/messages\/([^/]+))?$/);
    if (webhook) {
      const [, appId, encodedToken = "", messageId] = webhook;
      const token = decodeURIComponent(encodedToken);
      if (messageId === undefined) return { route: "followUp", methods: ["POST"], appId, token };
      if (messageId === "@original") return { route: "edit", methods: ["PATCH"], appId, token };
      return { route: "editMessage", methods: ["PATCH"], appId, token, messageId };
    }
    const channel = path.match(/^\/channels\/([^/]+)\/messages$/);
    if (channel) return { route: "channelMessage", methods: ["POST"], channelId: channel[1] };
    const commandPath = path.match(/^\/applications\/([^/]+)(?:\/guilds\/([^/]+))?\/commands$/);
    if (commandPath) {
      const [, appId, guildId] = commandPath;
      return { route: "commands", methods: ["GET", "PUT"], appId, ...(guildId ? { guildId } : {}) };
    }
    return undefined;
  }

  type Send = (status: number, payload: unknown, headers?: Record<string, string>) => void;
  type ErrorSend = (status: number, code: number, message: string, extra?: object) => void;

  /** Creates or edits a message after the route's auth passed. */
  function write(
    matched: Matched,
    json: Record<string, unknown>,
    at: number,
    send: Send,
    error: ErrorSend,
  ) {
    const token = matched.token ?? "";
    let target: DiscordMessage | undefined;
    if (matched.route === "edit") {
      const id = originalIds.get(token);
      target = id ? store.get(id) : undefined;
    } else if (matched.route === "editMessage") {
      target = store.get(matched.messageId ?? "");
      if (!target || target.interactionToken !== token) return error(404, 10008, "Unknown Message");
    }
    const editing = matched.route === "edit" || matched.route === "editMessage";
    // An edit may leave `content` out to keep it; a new message has none to keep.
    const content =
      "content" in json
        ? typeof json.content === "string"
          ? json.content
          : ""
        : editing
          ? (target?.content ?? "")
          : "";
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
    const componentError = "components" in json ? invalidComponents(json.components) : undefined;
    if (componentError) {
      return error(400, 50035, "Invalid Form Body", {
        errors: {
          components: { _errors: [{ code: "COMPONENT_INVALID", message: componentError }] },
        },
      });
    }
    const hasEmbeds = Array.isArray(json.embeds) && json.embeds.length > 0;
    if (content.trim() === "" && !hasEmbeds) {
      return error(400, 50006, "Cannot send an empty message");
    }

    let headers: Record<string, string> = {};
    if (editing && target && editLimit) {
      const limited = checkEditLimit(target.id, at, editLimit);
      if (limited.retryAfterSeconds !== undefined) {
        return send(
          429,
          {
            message: "You are being rate limited.",
            retry_after: limited.retryAfterSeconds,
            global: false,
          },
          limited.headers,
        );
      }
      headers = limited.headers;
    }

    const revision: DiscordRevision = { at, content, body: json };
    if (!target) {
      const kind =
        matched.route === "edit"
          ? "original"
          : matched.route === "followUp"
            ? "followUp"
            : "channel";
      target = {
        id: snowflake(),
        kind,
        ...(kind === "channel" ? {} : { interactionToken: token }),
        channelId: kind === "channel" ? (matched.channelId ?? "") : channelId,
        content,
        components: [],
        revisions: [],
      };
      store.set(target.id, target);
      if (kind === "original") originalIds.set(token, target.id);
      if (kind === "original" && editLimit)
        headers = checkEditLimit(target.id, at, editLimit).headers;
    }
    target.content = content;
    if (Array.isArray(json.components)) target.components = json.components;
    target.revisions.push(revision);
    const entry = { id: target.id, interactionToken: token, content, body: json, at };
    if (target.kind === "original") edits.push(entry);
    else if (matched.route === "followUp") followUps.push(entry);
    return send(200, messageObject(target, editing), headers);
  }

  /**
   * Counts one edit of `id` at `at` in a sliding window, or says how long to wait when the
   * window is full. Headers follow Discord's `X-RateLimit-*` set, times in seconds.
   */
  function checkEditLimit(
    id: string,
    at: number,
    { limit, windowMs }: { limit: number; windowMs: number },
  ): { retryAfterSeconds?: number; headers: Record<string, string> } {
    const recent = (editTimes.get(id) ?? []).filter((t) => t > at - windowMs);
    const full = recent.length >= limit;
    if (!full) recent.push(at);
    editTimes.set(id, recent);
    const resetAt = (recent[0] ?? at) + windowMs;
    const resetAfter = Math.max(0, (resetAt - at) / 1000);
    const headers = {
      "x-ratelimit-limit": String(limit),
      "x-ratelimit-remaining": String(Math.max(0, limit - recent.length)),
      "x-ratelimit-reset": (resetAt / 1000).toFixed(3),
      "x-ratelimit-reset-after": resetAfter.toFixed(3),
      "x-ratelimit-bucket": `fake-message-edit-${id}`,
    };
    if (!full) return { headers };
    const seconds = Math.round(resetAfter * 1000) / 1000;
    return {
      retryAfterSeconds: seconds,
      headers: {
        ...headers,
        "retry-after": String(Math.ceil(seconds)),
        "x-ratelimit-scope": "user",
      },
    };
  }

  function commands(
    method: string,
    headers: IncomingHttpHeaders,
    matched: Matched,
    body: unknown,
    send: Send,
    error: ErrorSend,
  ) {
    const presented = headers.authorization?.match(/^Bot (.+)$/)?.[1];
    if (presented !== botToken) return error(401, 0, "401: Unauthorized");
    if (matched.appId !== applicationId) return error(403, 50001, "Missing Access");
    const guildId = matched.guildId;
    if (method === "GET") return send(200, registered.get(guildId ?? "") ?? []);
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
    return send(200, stored);
  }

  function messageObject(message: DiscordMessage, edited: boolean) {
    const original = message.kind === "original";
    const webhook = message.kind !== "channel";
    return {
      id: message.id,
      // 20 = CHAT_INPUT_COMMAND (the response to a slash command), 0 = DEFAULT.
      type: original ? 20 : 0,
      content: message.content,
      channel_id: message.channelId,
      author: { id: applicationId, username: "fake-app", discriminator: "0000", bot: true },
      attachments: [],
      embeds: [],
      mentions: [],
      mention_roles: [],
      mention_everyone: false,
      pinned: false,
      tts: false,
      timestamp: new Date(message.revisions[0]?.at ?? Date.now()).toISOString(),
      edited_timestamp: original || edited ? new Date().toISOString() : null,
      flags: 0,
      components: message.components,
      ...(webhook ? { webhook_id: applicationId } : {}),
      application_id: applicationId,
    };
  }

  const byToken = <T extends { interactionToken?: string }>(list: T[], token?: string) =>
    list.filter((m) => token === undefined || m.interactionToken === token);

  return {
    url: `${http.url}/api/v10`,
    applicationId,
    botToken,
    requests,
    edits: (token) => byToken(edits, token),
    followUps: (token) => byToken(followUps, token),
    messages: (token) => byToken([...store.values()], token),
    message: (id) => store.get(id),
    channelMessages: (channel) =>
      [...store.values()].filter(
        (m) => m.kind === "channel" && (channel === undefined || m.channelId === channel),
      ),
    commands: (guildId) => [...(registered.get(guildId ?? "") ?? [])],
    failNext: (route, failure) => failures.add({ route, ...failure }, failure.times ?? 1),
    setTokenAge: (token, ageMs) => {
      issuedAt.set(token, now() - ageMs);
    },
    expireToken: (token) => {
      expired.add(token);
    },
    setDown: http.setDown,
    reset: () => {
      requests.length = 0;
      edits.length = 0;
      followUps.length = 0;
      store.clear();
      originalIds.clear();
      issuedAt.clear();
      expired.clear();
      editTimes.clear();
      registered.clear();
      failures.clear();
      http.setDown(false);
    },
    close: http.close,
  };
}

/** Wall-clock time in epoch ms with sub-millisecond precision. */
/**
 * Why `components` is not a valid list of action rows of buttons
 * (https://discord.com/developers/docs/interactions/message-components): at most 5 rows
 * (type 1) of 1–5 buttons (type 2) each, every button with a style of 1–5, a label, and a
 * `custom_id` of 1–100 characters (a `url` instead for style 5). `undefined` when valid.
 */
function invalidComponents(components: unknown): string | undefined {
  if (!Array.isArray(components) || components.length > 5) return "must be at most 5 action rows";
  for (const row of components as { type?: unknown; components?: unknown }[]) {
    if (row?.type !== 1 || !Array.isArray(row.components)) return "row must be an action row";
    if (row.components.length < 1 || row.components.length > 5) return "row must hold 1-5 buttons";
    for (const b of row.components as Record<string, unknown>[]) {
      if (b?.type !== 2) return "only buttons are supported by the fake";
      if (typeof b.style !== "number" || b.style < 1 || b.style > 5) return "invalid button style";
      if (typeof b.label !== "string" || b.label === "") return "button needs a label";
      const link = b.style === 5;
      if (
        link
          ? typeof b.url !== "string"
          : typeof b.custom_id !== "string" || b.custom_id === "" || b.custom_id.length > 100
      ) {
        return "button needs a custom_id of 1-100 characters";
      }
    }
  }
  return undefined;
}

function now(): number {
  return performance.timeOrigin + performance.now();
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
