/**
 * Wire-level fake of an OpenAI-compatible chat-completions endpoint, close enough to the
 * published format that the official `openai` client works against it unchanged.
 *
 * Formats followed:
 * - chat completions and chunks: https://platform.openai.com/docs/api-reference/chat
 * - models list: https://platform.openai.com/docs/api-reference/models/list
 * - error bodies: https://platform.openai.com/docs/guides/error-codes
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

/** Produces the assistant text for a request that passed all checks. */
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
  /** Reply text; default {@link defaultOpenAIReply}. */
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
export const defaultOpenAIReply: OpenAIReplyFn = ({ body }) =>
  `fake-openai(${String(body.model)}): ${lastUserText(body.messages)}`;

const ERROR_KINDS: Record<number, [type: string, code: string | null]> = {
  401: ["invalid_request_error", "invalid_api_key"],
  404: ["invalid_request_error", "model_not_found"],
  429: ["requests", "rate_limit_exceeded"],
};

function errorBody(status: number, message: string) {
  const [type, code] =
    ERROR_KINDS[status] ??
    (status >= 500 ? ["server_error", null] : ["invalid_request_error", null]);
  return { error: { message, type, param: null, code } };
}

/**
 * Starts the fake on 127.0.0.1. Chat completions are checked in this order: injected failure,
 * bearer key (401, only when `apiKey` is set), body (400), model (404). `usage` counts are
 * whitespace-separated words over all message contents (prompt) and the reply (completion).
 * Streams end with a usage-only chunk when `stream_options.include_usage` is true.
 */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const models = options.models ?? DEFAULT_OPENAI_MODELS;
  const initialReply = options.reply ?? defaultOpenAIReply;
  let reply = initialReply;
  const failures = new FailureQueue<{ status: number } & OpenAIFailureOptions>();
  const requests: RecordedRequest[] = [];
  const streaming = new StreamSettings(options.stream);

  const http = await startHttpFake(async (req, res, raw) => {
    const startedAt = Date.now();
    const headers = { "x-request-id": fakeId("req_") };
    const fail = (status: number, message: string, extra: Record<string, string> = {}) =>
      sendJson(res, status, errorBody(status, message), { ...headers, ...extra });
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
    const model = parsed.model;
    if (!models.includes(model)) {
      return fail(404, `The model \`${model}\` does not exist or you do not have access to it.`);
    }

    const text = await reply(request);
    const prompt = parsed.messages.map((m: { content?: unknown }) => textOf(m?.content)).join(" ");
    const [promptTokens, completionTokens] = [countTokens(prompt), countTokens(text)];
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
      return streamCompletion(res, headers, base, text, usageOrNull, streaming.take(), startedAt);
    }
    const message = { role: "assistant", content: text, refusal: null };
    const choice = { index: 0, message, finish_reason: "stop", logprobs: null };
    sendJson(res, 200, { ...base, object: "chat.completion", choices: [choice], usage }, headers);
  });

  return {
    url: `${http.url}/v1`,
    models,
    requests,
    failNext: (status, failure = {}) => failures.add({ status, ...failure }, failure.times ?? 1),
    setDown: http.setDown,
    setReply: (fn) => {
      reply = fn ?? initialReply;
    },
    setStream: (behaviour) => streaming.set(behaviour),
    streamNext: (behaviour, times) => streaming.next(behaviour, times),
    reset: () => {
      requests.length = 0;
      failures.clear();
      streaming.reset();
      reply = initialReply;
      http.setDown(false);
    },
    close: http.close,
  };
}

/**
 * Writes `chat.completion.chunk` events
 * (https://platform.openai.com/docs/api-reference/chat-streaming): the role chunk, one content
 * delta per word, the finish chunk, the usage-only chunk (empty `choices`) when asked, then
 * `data: [DONE]`; paced and failed as `behaviour` says. A failure is an error chunk
 * `data: {"error": {…}}` and the connection closing without `[DONE]`, as OpenAI-compatible
 * servers report a failure after the 200 (the SDK raises it as an `APIError`).
 */
async function streamCompletion(
  res: ServerResponse,
  headers: Record<string, string>,
  base: { id: string; created: number; model: string },
  text: string,
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
  await playStream(
    res,
    streamChunks(text),
    behaviour,
    {
      token: (piece) => chunk({ content: piece }, null),
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
        chunk({}, "stop");
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
