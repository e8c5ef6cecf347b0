/**
 * Wire-level fake of the Anthropic Messages API (`POST /v1/messages`) and Models API
 * (`GET /v1/models`), close enough to the published format that the official
 * `@anthropic-ai/sdk` client works against it unchanged.
 *
 * Formats followed:
 * - request/response: https://docs.anthropic.com/en/api/messages
 * - models list (cursor pagination `limit`/`after_id`/`before_id`):
 *   https://docs.anthropic.com/en/api/models-list
 * - streaming events: https://docs.anthropic.com/en/docs/build-with-claude/streaming
 * - errors and the `request-id` header: https://docs.anthropic.com/en/api/errors
 * - tool use (`tools`, `tool_choice`, `tool_use` / `tool_result` blocks, `input_json_delta`):
 *   https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use
 */
import type { ServerResponse } from "node:http";
import {
  countTokens,
  FailureQueue,
  fakeId,
  type LlmFailureOptions,
  type LlmFakeControls,
  lastUserText,
  parseJsonObject,
  type RecordedRequest,
  type ReplyFn,
  retryAfterHeader,
  sendJson,
  startHttpFake,
  streamChunks,
  textOf,
  writeSse,
} from "./http-fake";
import { playStream, type StreamBehaviour, StreamSettings } from "./llm-stream";
import { answerWords, argumentFragments, type PlannedAnswer, ReplyScript } from "./llm-tools";

/** Produces the answer (text, or text and tool calls) for a request that passed all checks. */
export type AnthropicReplyFn = ReplyFn;

/** Options for {@link startFakeAnthropic}. */
export interface FakeAnthropicOptions {
  /**
   * Key clients must present, in `x-api-key` or as `Authorization: Bearer <key>`.
   * Default `"sk-ant-fake-key"`.
   */
  apiKey?: string;
  /**
   * Accepted model ids, also listed by `GET /v1/models`; others get 404 `not_found_error`.
   * Default: any id starting `claude` is accepted and {@link DEFAULT_LISTED_ANTHROPIC_MODELS}
   * are listed.
   */
  models?: string[];
  /** Listen on this port (to restart a closed fake where clients still point); default any. */
  port?: number;
  /** Reply (text or tool calls); default {@link defaultAnthropicReply}. */
  reply?: AnthropicReplyFn;
  /**
   * Pacing and failure of streamed answers (`stream: true`), e.g.
   * `{ firstTokenMs: 300, tokensPerSecond: 50 }`; default everything at once. See
   * {@link StreamBehaviour}; change it later with `setStream` / `streamNext`.
   */
  stream?: StreamBehaviour;
}

/** Models `GET /v1/models` lists when {@link FakeAnthropicOptions.models} is not given. */
export const DEFAULT_LISTED_ANTHROPIC_MODELS = [
  "claude-opus-5-5",
  "claude-sonnet-5-5",
  "claude-haiku-5-5",
];

/** Options for {@link FakeAnthropic.failNext}. */
export type AnthropicFailureOptions = LlmFailureOptions;

/** A running fake Anthropic API. */
export interface FakeAnthropic extends LlmFakeControls {
  /** Origin to pass as the SDK's `baseURL` (the SDK itself appends `/v1/messages`). */
  url: string;
  /** The key clients must send (`x-api-key` or `Authorization: Bearer`). */
  apiKey: string;
  /** Every `GET /v1/models` request, oldest first (not in `requests`, which are completions). */
  listRequests: RecordedRequest[];
  /**
   * Makes the next `times` requests fail with `status` and the matching documented error type:
   * 400 `invalid_request_error`, 401 `authentication_error`, 403 `permission_error`,
   * 404 `not_found_error`, 429 `rate_limit_error`, 500 `api_error`, 529 `overloaded_error`.
   * Injected failures take precedence over every other check. `GET /v1/models` is unaffected.
   */
  failNext(status: number, options?: AnthropicFailureOptions): void;
}

/** Default reply: `fake-anthropic(<model>): <text of the last user message>`. */
export const defaultAnthropicReply = ({ body }: RecordedRequest): string =>
  `fake-anthropic(${String(body.model)}): ${lastUserText(body.messages)}`;

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error",
};

/**
 * Starts the fake on 127.0.0.1. Messages checks run in this order: injected failure,
 * API key (401), `anthropic-version` header and body (400; tools as in {@link toolProblem}),
 * model (404). The models list checks the API key (401) and `limit` (1-1000, default 20; 400
 * otherwise). `usage` counts are whitespace-separated words: input over `system` plus all
 * messages' text, output over the reply's text and each tool call's name and arguments; the
 * cache counts are 0 (the fake caches nothing).
 *
 * Answers come from `script` entries, then the reply function (see `LlmFakeControls`). An
 * answer with tool calls is a message whose content is the text block (when there is text)
 * then one `tool_use` block `{id, name, input}` per call, `stop_reason: "tool_use"`.
 */
export async function startFakeAnthropic(
  options: FakeAnthropicOptions = {},
): Promise<FakeAnthropic> {
  const apiKey = options.apiKey ?? "sk-ant-fake-key";
  const acceptsModel = (model: string) =>
    options.models ? options.models.includes(model) : model.startsWith("claude");
  const script = new ReplyScript(options.reply ?? defaultAnthropicReply);
  const failures = new FailureQueue<{ status: number } & AnthropicFailureOptions>();
  const requests: RecordedRequest[] = [];
  const listRequests: RecordedRequest[] = [];
  const listed = options.models ?? DEFAULT_LISTED_ANTHROPIC_MODELS;

  const streaming = new StreamSettings(options.stream);

  const http = await startHttpFake(
    async (req, res, raw) => {
      const startedAt = Date.now();
      const requestId = fakeId("req_");
      const fail = (status: number, message: string, headers: Record<string, string> = {}) => {
        const error = { type: ERROR_TYPES[status] ?? "api_error", message };
        const body = { type: "error", error, request_id: requestId };
        sendJson(res, status, body, { "request-id": requestId, ...headers });
      };

      const url = new URL(req.url ?? "/", "http://fake");
      const path = url.pathname;
      // Current SDKs send the key as `Authorization: Bearer`; the documented header is `x-api-key`.
      const bearer = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
      const authorized = (req.headers["x-api-key"] ?? bearer) === apiKey;
      if (req.method === "GET" && path === "/v1/models") {
        listRequests.push({ headers: req.headers, body: {} });
        if (!authorized) return fail(401, "invalid x-api-key");
        const page = listModels(listed, url.searchParams);
        if (typeof page === "string") return fail(400, page);
        return sendJson(res, 200, page, { "request-id": requestId });
      }
      if (req.method !== "POST" || path !== "/v1/messages") {
        return fail(404, `Not found: ${req.method} ${path}`);
      }
      const parsed = parseJsonObject(raw);
      const request: RecordedRequest = { headers: req.headers, body: parsed ?? {} };
      requests.push(request);

      const injected = failures.take();
      if (injected) {
        const message = injected.message ?? `Injected failure (${injected.status})`;
        return fail(injected.status, message, retryAfterHeader(injected.retryAfterSeconds));
      }
      if (!authorized) return fail(401, "invalid x-api-key");
      if (!req.headers["anthropic-version"]) {
        return fail(400, "anthropic-version: header is required");
      }
      if (!parsed) return fail(400, "Request body must be a JSON object");
      const problem = validate(parsed);
      if (problem) return fail(400, problem);
      const model = parsed.model as string;
      if (!acceptsModel(model)) return fail(404, `model: ${model}`);

      const tools = Array.isArray(parsed.tools) ? (parsed.tools as { name: string }[]) : [];
      const answer = await script.answer(request, {
        tools: tools.map((t) => t.name),
        choiceNone: (parsed.tool_choice as { type?: unknown } | undefined)?.type === "none",
        idPrefix: "toolu_",
      });
      const messages = parsed.messages as { content: unknown }[];
      const prompt = [textOf(parsed.system), ...messages.map((m) => textOf(m.content))].join(" ");
      // Every field the SDK's `Usage` declares as always present (nullable), as the API sends
      // them for a request without prompt caching or server tools.
      const usage = {
        input_tokens: countTokens(prompt),
        output_tokens: countTokens(answerWords(answer)),
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        server_tool_use: null,
        service_tier: "standard",
      };
      const calls = answer.toolCalls;
      const message = {
        id: fakeId("msg_"),
        type: "message",
        role: "assistant",
        model,
        content: [
          ...(answer.text || calls.length === 0 ? [{ type: "text", text: answer.text }] : []),
          ...calls.map((c) => ({ type: "tool_use", id: c.id, name: c.name, input: c.input })),
        ],
        stop_reason: calls.length ? "tool_use" : "end_turn",
        stop_sequence: null,
        usage,
      };
      if (parsed.stream === true) {
        await streamMessage(res, requestId, message, answer, streaming.take(), startedAt);
      } else {
        sendJson(res, 200, message, { "request-id": requestId });
      }
    },
    options.port === undefined ? {} : { port: options.port },
  );

  return {
    url: http.url,
    apiKey,
    requests,
    listRequests,
    failNext: (status, failure = {}) => failures.add({ status, ...failure }, failure.times ?? 1),
    setDown: http.setDown,
    setReply: (fn) => script.setReply(fn),
    script: (...entries) => script.push(entries),
    setStream: (behaviour) => streaming.set(behaviour),
    streamNext: (behaviour, times) => streaming.next(behaviour, times),
    reset: () => {
      requests.length = 0;
      listRequests.length = 0;
      failures.clear();
      script.reset();
      streaming.reset();
      http.setDown(false);
    },
    close: http.close,
  };
}

/**
 * One page of `ids` as the Models API lists it (newest first in the real API; here in the
 * given order), honouring `limit`, `after_id` and `before_id`. A string is a 400 message.
 */
function listModels(ids: string[], query: URLSearchParams): Record<string, unknown> | string {
  const rawLimit = query.get("limit");
  const limit = rawLimit === null ? 20 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    return "limit: Input should be between 1 and 1000";
  }
  const after = query.get("after_id");
  const before = query.get("before_id");
  let start = after === null ? 0 : ids.indexOf(after) + 1;
  let end = before === null ? ids.length : Math.max(0, ids.indexOf(before));
  if (before !== null && after === null) start = Math.max(0, end - limit);
  end = Math.min(end, start + limit);
  const data = ids.slice(start, end).map((id) => ({
    type: "model",
    id,
    display_name: id,
    created_at: "2026-01-01T00:00:00Z",
  }));
  return {
    data,
    has_more: before !== null ? start > 0 : end < ids.length,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
  };
}

function validate(body: Record<string, unknown>): string | undefined {
  if (typeof body.model !== "string" || body.model === "") return "model: Field required";
  if (!Array.isArray(body.messages)) return "messages: Field required";
  if (body.messages.length === 0) return "messages: at least one message is required";
  if (!Number.isInteger(body.max_tokens)) return "max_tokens: Field required";
  if ((body.max_tokens as number) < 1) return "max_tokens: must be greater than or equal to 1";
  return toolProblem(body);
}

type Block = { type?: unknown; id?: unknown; tool_use_id?: unknown };
type Turn = { role?: unknown; content?: unknown };

const blocksOf = (turn: Turn | undefined, type: string): Block[] =>
  Array.isArray(turn?.content) ? turn.content.filter((b: Block) => b?.type === type) : [];

/**
 * The API's cheap tool checks, with its messages: each tool needs a `name` and an
 * `input_schema`; `tool_choice` needs `tools` and a known `type`; `tool_use` / `tool_result`
 * blocks need `tools`; each `tool_result` must answer a `tool_use` of the previous (assistant)
 * message, and each `tool_use` must be answered in the next message.
 */
function toolProblem(body: Record<string, unknown>): string | undefined {
  const tools = body.tools;
  if (tools !== undefined && !Array.isArray(tools)) return "tools: Input should be a valid list";
  for (const [i, tool] of (tools ?? []).entries()) {
    if (typeof tool?.name !== "string" || !/^[a-zA-Z0-9_-]{1,128}$/.test(tool.name)) {
      return `tools.${i}.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`;
    }
    if (typeof tool.input_schema !== "object" || tool.input_schema === null) {
      return `tools.${i}.input_schema: Field required`;
    }
  }
  const hasTools = Array.isArray(tools) && tools.length > 0;
  const choice = body.tool_choice as { type?: unknown } | undefined;
  if (choice !== undefined) {
    if (!["auto", "any", "tool", "none"].includes(String(choice?.type))) {
      return "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'";
    }
    if (!hasTools) return "tool_choice: may only be specified while providing tools";
  }
  const messages = body.messages as Turn[];
  for (const [i, turn] of messages.entries()) {
    const results = blocksOf(turn, "tool_result");
    if ((blocksOf(turn, "tool_use").length || results.length) && !hasTools) {
      return `messages.${i}.content: Requests which include \`tool_use\` or \`tool_result\` blocks must define tools.`;
    }
    const previous = new Set(
      messages[i - 1]?.role === "assistant"
        ? blocksOf(messages[i - 1], "tool_use").map((b) => b.id)
        : [],
    );
    const unexpected = results.filter((b) => !previous.has(b.tool_use_id));
    if (unexpected.length) {
      return (
        `messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ` +
        `${unexpected.map((b) => String(b.tool_use_id)).join(", ")}. Each \`tool_result\` block ` +
        "must have a corresponding `tool_use` block in the previous message."
      );
    }
  }
  // A second pass, so a stray tool_result is reported as such, not as the unanswered tool_use.
  for (const [i, turn] of messages.entries()) {
    const uses = blocksOf(turn, "tool_use");
    const next = messages[i + 1];
    if (turn?.role === "assistant" && uses.length && next) {
      const answered = new Set(blocksOf(next, "tool_result").map((b) => b.tool_use_id));
      const missing = uses.filter((b) => !answered.has(b.id));
      if (missing.length) {
        return (
          `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks ` +
          `immediately after: ${missing.map((b) => String(b.id)).join(", ")}. Each ` +
          "`tool_use` block must have a corresponding `tool_result` block in the next message."
        );
      }
    }
  }
  return undefined;
}

type SseEvent = [event: string, data: Record<string, unknown>];

/**
 * Replays a finished message as the documented SSE event sequence
 * (https://docs.anthropic.com/en/docs/build-with-claude/streaming): `message_start`, then the
 * text block (`content_block_start`, `ping`, one `content_block_delta` `text_delta` per word,
 * `content_block_stop`) unless the answer is tool calls only (then `ping` follows
 * `message_start`), then per tool call a `content_block_start` `{type:"tool_use", id, name,
 * input:{}}`, an empty `input_json_delta` and one per fragment of its arguments (`partial_json`),
 * `content_block_stop`; finally `message_delta` (stop reason, final output usage) and
 * `message_stop`. Paced and failed as `behaviour` says, a failure being the documented
 * `event: error` with an `overloaded_error`.
 */
async function streamMessage(
  res: ServerResponse,
  requestId: string,
  message: { usage: { input_tokens: number; output_tokens: number } } & Record<string, unknown>,
  answer: PlannedAnswer,
  behaviour: StreamBehaviour,
  startedAt: number,
): Promise<void> {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "request-id": requestId,
  });
  const send = ([event, data]: SseEvent) =>
    writeSse(res, JSON.stringify({ type: event, ...data }), event);
  const calls = answer.toolCalls;
  send([
    "message_start",
    {
      message: {
        ...message,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: message.usage.input_tokens, output_tokens: 1 },
      },
    },
  ]);
  const pieces: SseEvent[][] = [];
  let index = -1;
  if (answer.text || calls.length === 0) {
    index = 0;
    send(["content_block_start", { index, content_block: { type: "text", text: "" } }]);
    for (const piece of streamChunks(answer.text)) {
      pieces.push([["content_block_delta", { index, delta: { type: "text_delta", text: piece } }]]);
    }
  }
  send(["ping", {}]);
  for (const call of calls) {
    const start: SseEvent[] = index >= 0 ? [["content_block_stop", { index }]] : [];
    index++;
    const block = { type: "tool_use", id: call.id, name: call.name, input: {} };
    const json = (partial: string): SseEvent => [
      "content_block_delta",
      { index, delta: { type: "input_json_delta", partial_json: partial } },
    ];
    pieces.push([...start, ["content_block_start", { index, content_block: block }], json("")]);
    for (const fragment of argumentFragments(call.argumentsText)) pieces.push([json(fragment)]);
  }
  await playStream(
    res,
    pieces,
    behaviour,
    {
      token: (events) => {
        for (const event of events) send(event);
      },
      error: () =>
        send([
          "error",
          { error: { type: "overloaded_error", message: "Overloaded" }, request_id: requestId },
        ]),
      finish: () => {
        send(["content_block_stop", { index }]);
        send([
          "message_delta",
          {
            delta: { stop_reason: message.stop_reason, stop_sequence: null },
            usage: { output_tokens: message.usage.output_tokens },
          },
        ]);
        send(["message_stop", {}]);
      },
    },
    startedAt,
  );
}
