/**
 * Wire-level fake of the Slack Web API methods the agent calls, close enough to the published
 * format that `@slack/web-api`'s `WebClient` (and its `chatStream()` helper) works against it
 * unchanged via `new WebClient(token, { slackApiUrl: fake.url })`.
 *
 * It keeps a message store (every bot message with its current text, streaming state and a
 * timestamped history of the calls that wrote it) and the assistant-thread state, so tests can
 * assert "start → appends → stop", count calls, and measure when text first became visible.
 *
 * Formats followed (arguments, answers and error codes from Slack's method reference):
 * - chat.postMessage: https://docs.slack.dev/reference/methods/chat.postMessage
 * - chat.update: https://docs.slack.dev/reference/methods/chat.update
 * - chat.startStream / appendStream / stopStream:
 *   https://docs.slack.dev/reference/methods/chat.startStream,
 *   https://docs.slack.dev/reference/methods/chat.appendStream,
 *   https://docs.slack.dev/reference/methods/chat.stopStream; chunk objects:
 *   https://docs.slack.dev/messaging/sending-and-scheduling-messages#text-streaming
 * - assistant.threads.setStatus / setSuggestedPrompts / setTitle:
 *   https://docs.slack.dev/reference/methods/assistant.threads.setStatus,
 *   https://docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts,
 *   https://docs.slack.dev/reference/methods/assistant.threads.setTitle
 * - auth.test: https://docs.slack.dev/reference/methods/auth.test
 * - rate limits (HTTP 429 + `Retry-After`): https://docs.slack.dev/apis/web-api/rate-limits
 * - a missing required argument answers `invalid_arguments` with
 *   `response_metadata.messages`, as the Web API does for every method.
 *
 * Where the reference is silent the fake picks a behaviour and says so: a channel id starting
 * with `D` is a DM (streams there need no recipient); `markdown_text` over 12 000 characters
 * answers `msg_too_long`; `thread_ts` values must look like `<digits>.<digits>`.
 */
import type { IncomingHttpHeaders } from "node:http";
import { FailureQueue, fakeId, parseJsonObject, sendJson, startHttpFake } from "./http-fake";

/**
 * How `chat.startStream` answers: `"ok"` streams; any other value is the Slack error code it
 * answers with (`{ ok: false, error }`), e.g. `"not_allowed"`, `"channel_type_not_supported"`,
 * or `"unknown_method"` (what an Enterprise Grid without the streaming methods answers).
 */
export type SlackStreamingMode =
  | "ok"
  | "not_allowed"
  | "channel_type_not_supported"
  | "unknown_method"
  | (string & {});

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
  /** How `chat.startStream` answers; see {@link SlackStreamingMode}. Default `"ok"`. */
  streaming?: SlackStreamingMode;
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
   * Decoded arguments, from a form-encoded or JSON body. Form values are strings, except the
   * structured ones (`blocks`, `attachments`, `metadata`, `chunks`, `prompts`,
   * `loading_messages`), which `WebClient` sends JSON-encoded and the fake decodes.
   */
  args: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  /** When the request arrived, epoch ms with sub-ms precision. */
  at: number;
  /** The answer's `error` code, or `undefined` when it answered `ok: true`. */
  error?: string;
}

/** One call that wrote a message. */
export interface SlackMessageEvent {
  method:
    | "chat.postMessage"
    | "chat.startStream"
    | "chat.appendStream"
    | "chat.stopStream"
    | "chat.update";
  /** When the call arrived, epoch ms. */
  at: number;
  /** The message's whole text after this call. */
  text: string;
}

/** A message in the fake's store. */
export interface SlackMessage {
  channel: string;
  ts: string;
  /** Parent thread, when the message is a reply. */
  threadTs?: string;
  /** Author: the bot's user id, or the user given to {@link FakeSlack.seedMessage}. */
  user: string;
  /**
   * Current text: the `markdown_text` (or the `chunks`' markdown text, concatenated) when the
   * message was written with Markdown, else `text`.
   */
  text: string;
  /** Whether the text was last written as `markdown_text`/chunks (rendered as Markdown). */
  markdown: boolean;
  /** Blocks from `chat.postMessage`/`chat.update`, or `chat.stopStream`'s closing blocks. */
  blocks?: unknown[];
  /** True between `chat.startStream` and `chat.stopStream`. */
  streaming: boolean;
  /**
   * For a streamed message, what its stream carries text in (Slack locks a stream to the
   * form of its first text: `streaming_mode_mismatch` otherwise). `chatStream()` uses chunks.
   */
  streamMode?: "markdown_text" | "chunks";
  /** Every call that wrote the message, oldest first (empty for seeded messages). */
  events: SlackMessageEvent[];
}

/** Selects messages of one channel and/or thread (a thread's root message included). */
export interface SlackMessageFilter {
  channel?: string;
  threadTs?: string;
}

/** Assistant-thread state set by the `assistant.threads.*` methods. */
export interface SlackAssistantThread {
  /** Last `setStatus` status; `""` once cleared (explicitly, or by a bot reply in the thread). */
  status?: string;
  loadingMessages?: string[];
  /** Last `setTitle` title. */
  title?: string;
  /** Last `setSuggestedPrompts` prompts and their list title. */
  prompts?: { title: string; message: string }[];
  promptsTitle?: string;
}

/** A running fake Slack Web API. */
export interface FakeSlack {
  /** Base URL ending in `/api/`, to pass as `WebClient`'s `slackApiUrl`. */
  url: string;
  /** The bot token clients must use. */
  token: string;
  /** Every call received, oldest first, including rejected ones. */
  calls: SlackCall[];
  /** The calls of `method` (or of any of `methods`), oldest first, including rejected ones. */
  callsTo(method: string | string[]): SlackCall[];
  /** Args of the `chat.postMessage` calls that succeeded, in order. */
  posted(): Record<string, unknown>[];
  /** The bot's messages, in the order they were created, optionally of one channel/thread. */
  messages(filter?: SlackMessageFilter): SlackMessage[];
  /** One stored message (bot or seeded), or `undefined`. */
  message(channel: string, ts: string): SlackMessage | undefined;
  /**
   * When bot text first became visible (epoch ms): the first post, stream start/append or
   * update that left a matching bot message with non-empty text accepted by `accept` (default:
   * any). `undefined` while there is none.
   */
  firstTextAt(filter?: SlackMessageFilter, accept?: (text: string) => boolean): number | undefined;
  /**
   * When the bot's messages were last written (epoch ms), i.e. when the answer was finished;
   * `undefined` while there is no matching message or one of them is still streaming.
   */
  finishedAt(filter?: SlackMessageFilter): number | undefined;
  /** Assistant-thread state of `channelId`/`threadTs`, or `undefined` if never set. */
  assistantThread(channelId: string, threadTs?: string): SlackAssistantThread | undefined;
  /**
   * Stores a message not written by the bot (e.g. the user's question), so tests can check
   * `cant_update_message` / `message_not_owned_by_app`. Returns its `ts`.
   */
  seedMessage(message: { channel: string; text: string; user?: string; threadTs?: string }): string;
  /** Switches how `chat.startStream` answers from now on; see {@link SlackStreamingMode}. */
  setStreaming(mode: SlackStreamingMode): void;
  /**
   * A fresh `response_url` for an interaction payload
   * (https://api.slack.com/interactivity/handling#message_responses): POSTs to it are recorded
   * in {@link FakeSlack.responses} and answered 200 `ok`.
   */
  responseUrl(): string;
  /** The messages POSTed to response URLs, oldest first (JSON bodies as sent). */
  responses(): { url: string; body: Record<string, unknown> }[];
  /** Makes the next `times` calls of `method` fail as described by {@link SlackFailure}. */
  failNext(method: string, failure: SlackFailure): void;
  /** While `true`, connections are destroyed on arrival (clients see a request error). */
  setDown(down: boolean): void;
  /**
   * Clears calls, messages, assistant threads and pending failures, restores the `streaming`
   * option, and brings the fake up.
   */
  reset(): void;
  /** Stops the server and drops open connections. */
  close(): Promise<void>;
}

/** Arguments `WebClient` sends JSON-encoded in form bodies. */
const JSON_ARGS = ["blocks", "attachments", "metadata", "chunks", "prompts", "loading_messages"];
/** `markdown_text` limit of every method that takes it. */
const MAX_MARKDOWN_CHARS = 12_000;
/** `chat.update`'s documented `text` limit (`msg_too_long`). */
const MAX_UPDATE_TEXT_CHARS = 4_000;
const MAX_LOADING_MESSAGES = 10;
/** "Use this method to set up to four suggested prompts". */
const MAX_PROMPTS = 4;
const TS = /^\d+\.\d+$/;

/** A Slack answer: the body sent with HTTP 200. */
type Answer =
  | { ok: true; [key: string]: unknown }
  | { ok: false; error: string; [key: string]: unknown };

/**
 * Starts the fake on 127.0.0.1. Every call is answered in Slack's style: HTTP 200 with
 * `{ ok: false, error }` for platform errors; only rate limits and injected statuses use other
 * HTTP codes. Message `ts` values are unique and increasing (`<seconds>.<micros>`).
 */
export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const token = options.token ?? "xoxb-fake-token";
  const botUserId = options.botUserId ?? "U0FAKEBOT";
  const botId = options.botId ?? "B0FAKEBOT";
  const teamId = options.teamId ?? "T0FAKE";
  const failures = new FailureQueue<{ method: string } & SlackFailure>();
  const calls: SlackCall[] = [];
  const posted: Record<string, unknown>[] = [];
  const store = new Map<string, SlackMessage>();
  const threads = new Map<string, SlackAssistantThread>();
  let streaming: SlackStreamingMode = options.streaming ?? "ok";
  let lastMicros = 0;
  const nextTs = () => {
    lastMicros = Math.max(Date.now() * 1000, lastMicros + 1);
    return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, "0")}`;
  };
  const key = (channel: string, ts: string) => `${channel} ${ts}`;
  const threadKey = (channel: string, threadTs = "") => `${channel} ${threadTs}`;

  const responses: { url: string; body: Record<string, unknown> }[] = [];
  let responseUrls = 0;
  const http = await startHttpFake((req, res, raw) => {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    if (path.startsWith("/actions/")) {
      // A response URL takes a JSON message and answers plain `ok`, as Slack's hooks do.
      const body = parseJsonObject(raw) ?? {};
      responses.push({ url: `${http.url}${path}`, body });
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      return;
    }
    const method = path.startsWith("/api/") ? path.slice("/api/".length) : path;
    const args = decodeArgs(raw, req.headers["content-type"]);
    const call: SlackCall = { method, args, headers: req.headers, at: now() };
    calls.push(call);

    const injected = failures.take((f) => f.method === method);
    if (injected) {
      const status = injected.status ?? 200;
      call.error = injected.error ?? (status === 429 ? "ratelimited" : "internal_error");
      const headers: Record<string, string> =
        status === 429 ? { "retry-after": String(injected.retryAfterSeconds ?? 1) } : {};
      return sendJson(res, status, { ok: false, error: call.error }, headers);
    }

    const answer = handle(method, args, call);
    if (!answer.ok) call.error = answer.error;
    return sendJson(res, 200, answer);
  });

  /** Answers one call that was not failed on purpose. */
  function handle(method: string, args: Record<string, unknown>, call: SlackCall): Answer {
    const bearer = call.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    const presented = bearer ?? optionalString(args.token);
    if (!presented) return fail("not_authed");
    if (presented !== token) return fail("invalid_auth");
    const { at } = call;

    switch (method) {
      case "auth.test":
        return {
          ok: true,
          url: "https://fake-workspace.slack.com/",
          team: "Fake Workspace",
          user: "fakebot",
          team_id: teamId,
          user_id: botUserId,
          bot_id: botId,
          is_enterprise_install: false,
        };
      case "chat.postMessage":
        return postMessage(args, at);
      case "chat.update":
        return update(args, at);
      case "chat.startStream":
        return startStream(args, at);
      case "chat.appendStream":
      case "chat.stopStream":
        return continueStream(method, args, at);
      case "assistant.threads.setStatus":
      case "assistant.threads.setSuggestedPrompts":
      case "assistant.threads.setTitle":
        return assistant(method, args);
      default:
        return fail("unknown_method");
    }
  }

  /** `channel_not_found` for a missing or (with `options.channels`) unknown channel. */
  function channelError(channel: unknown): Answer | undefined {
    if (typeof channel !== "string" || channel === "") return fail("channel_not_found");
    if (options.channels && !options.channels.includes(channel)) return fail("channel_not_found");
    return undefined;
  }

  function postMessage(args: Record<string, unknown>, at: number): Answer {
    const channel = args.channel as string;
    const bad = channelError(channel);
    if (bad) return bad;
    const text = optionalString(args.text);
    const markdownText = optionalString(args.markdown_text);
    const blocks = Array.isArray(args.blocks) && args.blocks.length > 0 ? args.blocks : undefined;
    if (markdownText !== undefined && (text !== undefined || blocks)) {
      return fail("markdown_text_conflict");
    }
    if (!text && !markdownText && !blocks) return fail("no_text");
    if ((markdownText?.length ?? 0) > MAX_MARKDOWN_CHARS) return fail("msg_too_long");
    const message = create(channel, optionalString(args.thread_ts), {
      text: markdownText ?? text ?? "",
      markdown: markdownText !== undefined,
      blocks,
    });
    record(message, "chat.postMessage", at);
    posted.push(args);
    return { ok: true, channel, ts: message.ts, message: messageObject(message) };
  }

  function update(args: Record<string, unknown>, at: number): Answer {
    const channel = args.channel as string;
    const bad = channelError(channel);
    if (bad) return bad;
    if (typeof args.ts !== "string" || args.ts === "") return missing("ts");
    const message = store.get(key(channel, args.ts));
    if (!message) return fail("message_not_found");
    if (message.user !== botUserId) return fail("cant_update_message");
    // Documented for chat.update: "The message is currently streaming text and cannot be edited."
    if (message.streaming) return fail("streaming_state_conflict");
    const text = optionalString(args.text);
    const markdownText = optionalString(args.markdown_text);
    const blocks = Array.isArray(args.blocks) ? args.blocks : undefined;
    if (markdownText !== undefined && (text !== undefined || blocks)) {
      return fail("markdown_text_conflict");
    }
    if (!text && !markdownText && !blocks?.length) return fail("no_text");
    if ((text?.length ?? 0) > MAX_UPDATE_TEXT_CHARS) return fail("msg_too_long");
    if ((markdownText?.length ?? 0) > MAX_MARKDOWN_CHARS) return fail("msg_too_long");
    // Per the reference (https://api.slack.com/methods/chat.update): without `blocks` the
    // previous blocks are retained, and an empty array removes them. `markdown_text` cannot go
    // with `blocks` and replaces the whole content, blocks included.
    if (blocks?.length) message.blocks = blocks;
    else if (blocks || markdownText !== undefined) delete message.blocks;
    if (markdownText !== undefined || text !== undefined) {
      message.text = markdownText ?? text ?? "";
      message.markdown = markdownText !== undefined;
    }
    record(message, "chat.update", at);
    return {
      ok: true,
      channel,
      ts: message.ts,
      text: message.text,
      message: messageObject(message),
    };
  }

  function startStream(args: Record<string, unknown>, at: number): Answer {
    if (streaming !== "ok") return fail(streaming);
    const channel = args.channel as string;
    const bad = channelError(channel);
    if (bad) return bad;
    // "Required when streaming to channels": everything but a DM (`D…`) is a channel here.
    if (!channel.startsWith("D")) {
      if (!optionalString(args.recipient_team_id)) return fail("missing_recipient_team_id");
      if (!optionalString(args.recipient_user_id)) return fail("missing_recipient_user_id");
    }
    const content = streamContent(args, false);
    if ("error" in content) return fail(content.error);
    const message = create(channel, optionalString(args.thread_ts), {
      text: content.text ?? "",
      markdown: true,
      streaming: true,
    });
    if (content.mode) message.streamMode = content.mode;
    record(message, "chat.startStream", at);
    return { ok: true, channel, ts: message.ts };
  }

  function continueStream(
    method: "chat.appendStream" | "chat.stopStream",
    args: Record<string, unknown>,
    at: number,
  ): Answer {
    const channel = args.channel as string;
    const bad = channelError(channel);
    if (bad) return bad;
    if (typeof args.ts !== "string" || args.ts === "") return missing("ts");
    const stopping = method === "chat.stopStream";
    const content = streamContent(args, !stopping);
    if ("error" in content) return fail(content.error);
    const message = store.get(key(channel, args.ts));
    if (!message) return fail("message_not_found");
    if (message.user !== botUserId) return fail("message_not_owned_by_app");
    if (!message.streaming) return fail("message_not_in_streaming_state");
    if (content.mode && message.streamMode && content.mode !== message.streamMode) {
      return fail("streaming_mode_mismatch");
    }
    if (content.mode) message.streamMode ??= content.mode;
    message.text += content.text ?? "";
    if (stopping) {
      message.streaming = false;
      if (Array.isArray(args.blocks) && args.blocks.length > 0) message.blocks = args.blocks;
    }
    record(message, method, at);
    return stopping
      ? { ok: true, channel, ts: message.ts, message: messageObject(message) }
      : { ok: true, channel, ts: message.ts };
  }

  function assistant(method: string, args: Record<string, unknown>): Answer {
    const channel = args.channel_id as string;
    const bad = channelError(channel);
    if (bad) return bad;
    const threadTs = args.thread_ts as string | undefined;
    const prompts = method === "assistant.threads.setSuggestedPrompts";
    if (threadTs === undefined && !prompts) return missing("thread_ts");
    if (threadTs !== undefined && (typeof threadTs !== "string" || !TS.test(threadTs))) {
      return fail("invalid_thread_ts");
    }
    const state = threads.get(threadKey(channel, threadTs)) ?? {};
    if (method === "assistant.threads.setStatus") {
      if (typeof args.status !== "string") return missing("status");
      const loading = args.loading_messages;
      if (
        loading !== undefined &&
        (!isStringArray(loading) || loading.length > MAX_LOADING_MESSAGES)
      ) {
        return invalid(`loading_messages must be at most ${MAX_LOADING_MESSAGES} strings`);
      }
      state.status = args.status;
      if (loading === undefined) delete state.loadingMessages;
      else state.loadingMessages = loading;
    } else if (prompts) {
      const list = args.prompts;
      if (list === undefined) return missing("prompts");
      if (!Array.isArray(list) || list.length === 0 || list.length > MAX_PROMPTS) {
        return invalid(`prompts must be 1 to ${MAX_PROMPTS} items`);
      }
      if (!list.every((p) => isNonEmptyString(p?.title) && isNonEmptyString(p?.message))) {
        return invalid("each prompt needs a title and a message");
      }
      state.prompts = list.map((p) => ({ title: p.title, message: p.message }));
      if (typeof args.title === "string") state.promptsTitle = args.title;
      else delete state.promptsTitle;
    } else {
      if (!isNonEmptyString(args.title)) return missing("title");
      state.title = args.title;
    }
    threads.set(threadKey(channel, threadTs), state);
    return { ok: true };
  }

  function create(
    channel: string,
    threadTs: string | undefined,
    fields: { text: string; markdown: boolean; blocks?: unknown[]; streaming?: boolean },
  ): SlackMessage {
    const message: SlackMessage = {
      channel,
      ts: nextTs(),
      ...(threadTs ? { threadTs } : {}),
      user: botUserId,
      text: fields.text,
      markdown: fields.markdown,
      ...(fields.blocks ? { blocks: fields.blocks } : {}),
      streaming: fields.streaming ?? false,
      events: [],
    };
    store.set(key(channel, message.ts), message);
    // Slack clears an assistant thread's status when the app replies in it.
    const thread = threads.get(threadKey(channel, threadTs));
    if (thread?.status) thread.status = "";
    return message;
  }

  function record(message: SlackMessage, method: SlackMessageEvent["method"], at: number): void {
    message.events.push({ method, at, text: message.text });
  }

  function messageObject(message: SlackMessage) {
    const streamed = message.events[0]?.method === "chat.startStream";
    return {
      type: "message",
      text: message.text,
      user: message.user,
      ts: message.ts,
      ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
      ...(message.blocks ? { blocks: message.blocks } : {}),
      ...(streamed ? { streaming_state: message.streaming ? "in_progress" : "completed" } : {}),
      bot_id: botId,
      team: teamId,
    };
  }

  const matches = (m: SlackMessage, filter: SlackMessageFilter = {}) =>
    (filter.channel === undefined || m.channel === filter.channel) &&
    (filter.threadTs === undefined || m.threadTs === filter.threadTs || m.ts === filter.threadTs);
  const botMessages = (filter?: SlackMessageFilter) =>
    [...store.values()].filter((m) => m.user === botUserId && matches(m, filter));

  return {
    url: `${http.url}/api/`,
    token,
    calls,
    callsTo: (method) => {
      const methods = Array.isArray(method) ? method : [method];
      return calls.filter((c) => methods.includes(c.method));
    },
    posted: () => [...posted],
    messages: botMessages,
    message: (channel, ts) => store.get(key(channel, ts)),
    firstTextAt: (filter, accept = () => true) => {
      const times = botMessages(filter).flatMap((m) =>
        m.events.filter((e) => e.text !== "" && accept(e.text)).map((e) => e.at),
      );
      return times.length > 0 ? Math.min(...times) : undefined;
    },
    finishedAt: (filter) => {
      const list = botMessages(filter);
      if (list.length === 0 || list.some((m) => m.streaming)) return undefined;
      return Math.max(...list.flatMap((m) => m.events.map((e) => e.at)));
    },
    assistantThread: (channelId, threadTs) => {
      const state = threads.get(threadKey(channelId, threadTs));
      return state ? structuredClone(state) : undefined;
    },
    seedMessage: ({ channel, text, user = "U0FAKEUSER", threadTs }) => {
      const ts = nextTs();
      store.set(key(channel, ts), {
        channel,
        ts,
        ...(threadTs ? { threadTs } : {}),
        user,
        text,
        markdown: false,
        streaming: false,
        events: [],
      });
      return ts;
    },
    setStreaming: (mode) => {
      streaming = mode;
    },
    responseUrl: () => `${http.url}/actions/${teamId}/${++responseUrls}/${fakeId("")}`,
    responses: () => [...responses],
    failNext: (method, failure) => failures.add({ method, ...failure }, failure.times ?? 1),
    setDown: http.setDown,
    reset: () => {
      calls.length = 0;
      posted.length = 0;
      store.clear();
      threads.clear();
      responses.length = 0;
      streaming = options.streaming ?? "ok";
      failures.clear();
      http.setDown(false);
    },
    close: http.close,
  };
}

type StreamMode = NonNullable<SlackMessage["streamMode"]>;

/**
 * The text a stream call carries, and in which mode. `required` (appendStream) demands one of
 * `markdown_text`/`chunks`; an empty `chunks` array carries nothing (`chatStream().stop()`
 * sends one when its buffer is empty) and so sets no mode.
 */
function streamContent(
  args: Record<string, unknown>,
  required: boolean,
): { text?: string; mode?: StreamMode } | { error: string } {
  const markdownText = args.markdown_text;
  const chunks = args.chunks;
  if (markdownText !== undefined && chunks !== undefined) {
    return { error: "cannot_provide_both_markdown_text_and_chunks" };
  }
  if (markdownText !== undefined) {
    if (typeof markdownText !== "string") return { error: "invalid_arguments" };
    if (markdownText.length > MAX_MARKDOWN_CHARS) return { error: "msg_too_long" };
    return { text: markdownText, mode: "markdown_text" };
  }
  if (chunks === undefined || (Array.isArray(chunks) && chunks.length === 0)) {
    return required ? { error: "markdown_text_or_chunks_required" } : {};
  }
  if (!Array.isArray(chunks)) return { error: "invalid_chunks" };
  let text = "";
  for (const chunk of chunks as Record<string, unknown>[]) {
    if (typeof chunk !== "object" || chunk === null || typeof chunk.type !== "string") {
      return { error: "invalid_chunks" };
    }
    if (chunk.type === "markdown_text") {
      if (typeof chunk.text !== "string") return { error: "invalid_chunks" };
      if (chunk.text.length > MAX_MARKDOWN_CHARS) return { error: "msg_too_long" };
      text += chunk.text;
    } else if (!["task_update", "plan_update", "blocks"].includes(chunk.type)) {
      return { error: "invalid_chunks" };
    }
  }
  return { text, mode: "chunks" };
}

function fail(error: string): Answer {
  return { ok: false, error };
}

/** Slack's answer to a call missing a required argument. */
function missing(field: string): Answer {
  return invalid(`missing required field: ${field}`);
}

function invalid(message: string): Answer {
  return {
    ok: false,
    error: "invalid_arguments",
    response_metadata: { messages: [`[ERROR] ${message}`] },
  };
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

/** Wall-clock time in epoch ms with sub-millisecond precision. */
function now(): number {
  return performance.timeOrigin + performance.now();
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
