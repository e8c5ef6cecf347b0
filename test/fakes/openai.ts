/**
 * Wire-level fake of an OpenAI-compatible chat-completions endpoint, close enough to the
 * published format that the official `openai` client works against it unchanged.
 *
 * Formats followed:
 * - chat completions and chunks: https://platform.openai.com/docs/api-reference/chat
 * - models list: https://platform.openai.com/docs/api-reference/models/list
 * - error bodies: https://platform.openai.com/docs/guides/error-codes
 * - tools (`tools`, `tool_choice`, `tool_calls`, `role:"tool"` results):
 *   https://platform.openai.com/docs/guides/function-calling
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
export type OpenAIReplyFn = ReplyFn;

/** Models served when {@link FakeOpenAIOptions.models} is not given. */
export const DEFAULT_OPENAI_MODELS = ["gpt-4o-mini", "gpt-4o", "llama3.1:8b"];

/** Options for {@link startFakeOpenAI}. */
export interface FakeOpenAIOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>`; otherwise any key passes. */
  apiKey?: string;
  /**
   * Served model ids: listed by `GET /v1/models`; others get 404.
   * Default {@link DEFAULT_OPENAI_MODELS}.
   */
  models?: string[];
  /** Reply (text or tool calls); default {@link defaultOpenAIReply}. */
  reply?: OpenAIReplyFn;
  /**
   * Pacing and failure of streamed answers (`stream: true`), e.g.
   * `{ firstTokenMs: 300, tokensPerSecond: 50 }`; default everything at once. See
   * {@link StreamBehaviour}; change it later with `setStream` / `streamNext`.
   */
  stream?: StreamBehaviour;
}

/** Options for {@link FakeOpenAI.failNext}. */
export type OpenAIFailureOptions = LlmFailureOptions;

/** A running fake OpenAI-compatible API. */
export interface FakeOpenAI extends LlmFakeControls {
  /** Base URL ending in `/v1`, to pass as the SDK's `baseURL`. */
  url: string;
  /** Model ids this fake serves. */
  models: string[];
  /**
   * Makes the next `times` chat-completion requests fail with `status`. Bodies follow OpenAI's
   * `{ error: { message, type, param, code } }`: 429 `rate_limit_exceeded`, 401
   * `invalid_api_key`, 404 `model_not_found`, 5xx `server_error`. `GET /v1/models` is unaffected.
   */
  failNext(status: number, options?: OpenAIFailureOptions): void;
}

/** Default reply: `fake-openai(<model>): <text of the last user message>`. */
export const defaultOpenAIReply = ({ body }: RecordedRequest): string =>
  `fake-openai(${String(body.model)}): ${lastUserText(body.messages)}`;

const ERROR_KINDS: Record<number, [type: string, code: string | null]> = {
  401: ["invalid_request_error", "invalid_api_key"],
  404: ["invalid_request_error", "model_not_found"],
  429: ["requests", "rate_limit_exceeded"],
};

function errorBody(status: number, message: string, param: string | null = null) {
  const [type, code] =
    ERROR_KINDS[status] ??
    (status >= 500 ? ["server_error", null] : ["invalid_request_error", null]);
  return { error: { message, type, param, code } };
}

/**
 * Starts the fake on 127.0.0.1. Chat completions are checked in this order: injected failure,
 * bearer key (401, only when `apiKey` is set), body (400; tools as in {@link toolProblem}),
 * model (404). `usage` counts are whitespace-separated words over all message contents
 * (prompt) and the reply's text plus each tool call's name and arguments (completion).
 * Streams end with a usage-only chunk when `stream_options.include_usage` is true.
 *
 * Answers come from `script` entries, then the reply function (see `LlmFakeControls`). An
 * answer with tool calls is a message with `content` (its text, or `null` when there is none)
 * and `tool_calls[{id, type:"function", function:{name, arguments}}]`, `finish_reason:
 * "tool_calls"`.
 */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const models = options.models ?? DEFAULT_OPENAI_MODELS;
  const script = new ReplyScript(options.reply ?? defaultOpenAIReply);
  const failures = new FailureQueue<{ status: number } & OpenAIFailureOptions>();
  const requests: RecordedRequest[] = [];
  const streaming = new StreamSettings(options.stream);

  const http = await startHttpFake(async (req, res, raw) => {
    const startedAt = Date.now();
    const headers = { "x-request-id": fakeId("req_") };
    const fail = (
      status: number,
      message: string,
      extra: Record<string, string> = {},
      param: string | null = null,
    ) => sendJson(res, status, errorBody(status, message, param), { ...headers, ...extra });
    const authorized =
      options.apiKey === undefined || req.headers.authorization === `Bearer ${options.apiKey}`;
    const path = new URL(req.url ?? "/", "http://fake").pathname;

    if (req.method === "GET" && path === "/v1/models") {
      if (!authorized) return fail(401, "Incorrect API key provided.");
      const data = models.map((id) => ({ id, object: "model", created: 0, owned_by: "fake" }));
      return sendJson(res, 200, { object: "list", data }, headers);
    }
    if (req.method !== "POST" || path !== "/v1/chat/completions") {
      return fail(404, `Invalid URL (${req.method} ${path})`);
    }
    const parsed = parseJsonObject(raw);
    const request: RecordedRequest = { headers: req.headers, body: parsed ?? {} };
    requests.push(request);

    const injected = failures.take();
    if (injected) {
      const message = injected.message ?? `Injected failure (${injected.status})`;
      return fail(injected.status, message, retryAfterHeader(injected.retryAfterSeconds));
    }
    if (!authorized) return fail(401, "Incorrect API key provided.");
    if (!parsed) return fail(400, "We could not parse the JSON body of your request.");
    if (typeof parsed.model !== "string") return fail(400, "you must provide a model parameter");
    if (!Array.isArray(parsed.messages) || parsed.messages.length === 0) {
      return fail(400, "Missing required parameter: 'messages'.");
    }
    const problem = toolProblem(parsed);
    if (problem) return fail(400, problem.message, {}, problem.param);
    const model = parsed.model;
    if (!models.includes(model)) {
      return fail(404, `The model \`${model}\` does not exist or you do not have access to it.`);
    }

    const tools = Array.isArray(parsed.tools) ? (parsed.tools as WireTool[]) : [];
    const answer = await script.answer(request, {
      tools: tools.map((t) => String(t.function?.name)),
      choiceNone: parsed.tool_choice === "none",
      idPrefix: "call_",
    });
    const prompt = parsed.messages.map((m: { content?: unknown }) => textOf(m?.content)).join(" ");
    const [promptTokens, completionTokens] = [
      countTokens(prompt),
      countTokens(answerWords(answer)),
    ];
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    const base = { id: fakeId("chatcmpl-"), created: Math.floor(Date.now() / 1000), model };
    if (parsed.stream === true) {
      const streamOptions = parsed.stream_options as { include_usage?: unknown } | undefined;
      const includeUsage = streamOptions?.include_usage === true;
      const usageOrNull = includeUsage ? usage : null;
      return streamCompletion(res, headers, base, answer, usageOrNull, streaming.take(), startedAt);
    }
    const calls = answer.toolCalls;
    const message = {
      role: "assistant",
      content: calls.length && !answer.text ? null : answer.text,
      refusal: null,
      ...(calls.length
        ? {
            tool_calls: calls.map((c) => ({
              id: c.id,
              type: "function",
              function: { name: c.name, arguments: c.argumentsText },
            })),
          }
        : {}),
    };
    const finish = calls.length ? "tool_calls" : "stop";
    const choice = { index: 0, message, finish_reason: finish, logprobs: null };
    sendJson(res, 200, { ...base, object: "chat.completion", choices: [choice], usage }, headers);
  });

  return {
    url: `${http.url}/v1`,
    models,
    requests,
    failNext: (status, failure = {}) => failures.add({ status, ...failure }, failure.times ?? 1),
    setDown: http.setDown,
    setReply: (fn) => script.setReply(fn),
    script: (...entries) => script.push(entries),
    setStream: (behaviour) => streaming.set(behaviour),
    streamNext: (behaviour, times) => streaming.next(behaviour, times),
    reset: () => {
      requests.length = 0;
      failures.clear();
      script.reset();
      streaming.reset();
      http.setDown(false);
    },
    close: http.close,
  };
}

type WireTool = { type?: unknown; function?: { name?: unknown } };
type WireMessage = { role?: unknown; tool_call_id?: unknown; tool_calls?: { id?: unknown }[] };

/**
 * The API's cheap tool checks, with its messages and `param`: each tool is `{type:"function",
 * function:{name}}`; `tool_choice` needs `tools`; a `role:"tool"` message must answer a
 * `tool_calls` id of the assistant message before it (and the tool messages after it), and
 * every such id must be answered before the next other message.
 */
function toolProblem(
  body: Record<string, unknown>,
): { message: string; param: string } | undefined {
  const tools = body.tools;
  for (const [i, tool] of (Array.isArray(tools) ? (tools as WireTool[]) : []).entries()) {
    if (tool?.type !== "function") {
      return {
        message: `Invalid value: '${String(tool?.type)}'. Supported values are: 'function' and 'custom'.`,
        param: `tools[${i}].type`,
      };
    }
    if (typeof tool.function?.name !== "string" || tool.function.name === "") {
      return {
        message: `Missing required parameter: 'tools[${i}].function.name'.`,
        param: `tools[${i}].function.name`,
      };
    }
  }
  if (body.tool_choice !== undefined && !(Array.isArray(tools) && tools.length > 0)) {
    return {
      message:
        "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
      param: "tool_choice",
    };
  }
  const unanswered = (pending: Set<unknown>, i: number) => ({
    message:
      "An assistant message with 'tool_calls' must be followed by tool messages responding to " +
      `each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...pending].map(String).join(", ")}`,
    param: `messages.[${i}].role`,
  });
  let pending = new Set<unknown>();
  const messages = body.messages as WireMessage[];
  for (const [i, m] of messages.entries()) {
    if (m?.role === "tool") {
      if (!pending.delete(m.tool_call_id)) {
        return {
          message:
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding " +
            "message with 'tool_calls'.",
          param: `messages.[${i}].role`,
        };
      }
      continue;
    }
    if (pending.size) return unanswered(pending, i);
    pending = new Set(m?.role === "assistant" ? (m.tool_calls ?? []).map((c) => c?.id) : []);
  }
  return pending.size ? unanswered(pending, messages.length - 1) : undefined;
}

/**
 * Writes `chat.completion.chunk` events
 * (https://platform.openai.com/docs/api-reference/chat-streaming): the role chunk, one content
 * delta per word, then per tool call a `delta.tool_calls[{index, id, type:"function",
 * function:{name, arguments:""}}]` chunk and one `delta.tool_calls[{index, function:
 * {arguments}}]` chunk per fragment of its arguments, the finish chunk (`stop` or
 * `tool_calls`), the usage-only chunk (empty `choices`) when asked, then `data: [DONE]`; paced
 * and failed as `behaviour` says. A failure is an error chunk
 * `data: {"error": {…}}` and the connection closing without `[DONE]`, as OpenAI-compatible
 * servers report a failure after the 200 (the SDK raises it as an `APIError`).
 */
async function streamCompletion(
  res: ServerResponse,
  headers: Record<string, string>,
  base: { id: string; created: number; model: string },
  answer: PlannedAnswer,
  usage: Record<string, number> | null,
  behaviour: StreamBehaviour,
  startedAt: number,
): Promise<void> {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    ...headers,
  });
  // With include_usage every chunk carries `usage: null` except the final usage-only one.
  const usageField = usage ? { usage: null } : {};
  const chunk = (delta: Record<string, unknown>, finishReason: string | null) =>
    writeSse(
      res,
      JSON.stringify({
        ...base,
        object: "chat.completion.chunk",
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
        ...usageField,
      }),
    );
  chunk({ role: "assistant", content: "", refusal: null }, null);
  const deltas: Record<string, unknown>[] = streamChunks(answer.text).map((piece) => ({
    content: piece,
  }));
  for (const [index, call] of answer.toolCalls.entries()) {
    const fn = { name: call.name, arguments: "" };
    deltas.push({ tool_calls: [{ index, id: call.id, type: "function", function: fn }] });
    for (const fragment of argumentFragments(call.argumentsText)) {
      deltas.push({ tool_calls: [{ index, function: { arguments: fragment } }] });
    }
  }
  await playStream(
    res,
    deltas,
    behaviour,
    {
      token: (delta) => chunk(delta, null),
      error: () =>
        writeSse(
          res,
          JSON.stringify({
            error: {
              message: "The server had an error while processing your request.",
              type: "server_error",
              param: null,
              code: null,
            },
          }),
        ),
      finish: () => {
        chunk({}, answer.toolCalls.length ? "tool_calls" : "stop");
        if (usage) {
          const last = { ...base, object: "chat.completion.chunk", choices: [], usage };
          writeSse(res, JSON.stringify(last));
        }
        writeSse(res, "[DONE]");
      },
    },
    startedAt,
  );
}
