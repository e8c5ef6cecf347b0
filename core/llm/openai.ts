/**
 * The OpenAI-compatible provider: any endpoint serving OpenAI's chat-completions API
 * (https://platform.openai.com/docs/api-reference/chat/create), such as the deployed gateway,
 * LiteLLM, vLLM or Ollama, via the official `openai` SDK with a configurable base URL.
 */
import OpenAI, { APIError, OpenAIError } from "openai";
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
} from "openai/resources/chat/completions";
import type { CompletionUsage } from "openai/resources/completions";
import { LlmError, toLlmError } from "./errors";
import { streamEndedEarly, watchStream } from "./stream-idle";
import {
  asToolInput,
  type ChatMessage,
  type Completion,
  type CompletionRequest,
  type LlmProvider,
  type StreamRequest,
  type ToolCall,
} from "./types";

/**
 * Sent as the bearer token when no `MODEL_MANAGER_API_KEY` is configured: local Ollama or an
 * open LiteLLM accept any token, and the SDK refuses to construct without one (it would
 * otherwise read `OPENAI_API_KEY`).
 */
export const PLACEHOLDER_API_KEY = "no-key-configured";

/** Options of {@link createOpenAICompatibleProvider}; the composition root fills them in. */
export interface OpenAICompatibleProviderOptions {
  /** `MODEL_MANAGER_BASE_URL`, including the API prefix, e.g. `http://host:4000/v1`. */
  baseURL: string;
  /** `MODEL_MANAGER_API_KEY`; {@link PLACEHOLDER_API_KEY} when absent. */
  apiKey?: string;
  /** Client-wide HTTP timeout in ms (default 60 000); each request's `timeoutMs` overrides it. */
  timeoutMs?: number;
  /**
   * Field carrying `maxTokens` (default `max_completion_tokens`). OpenAI deprecated
   * `max_tokens` and its reasoning models reject it; pick `max_tokens` for an older
   * OpenAI-compatible server that only knows that one.
   */
  tokenLimitField?: "max_completion_tokens" | "max_tokens";
  /** Epoch-ms clock for HTTP-date `retry-after` headers (default `Date.now`). */
  now?: () => number;
  /** Custom `fetch` (tests, proxies); default the runtime's global fetch. */
  fetch?: typeof fetch;
}

/**
 * Builds the provider and its SDK client once (per container). SDK retries are off
 * (`maxRetries: 0`) so the provider manager's policy is the only one. Organization and project
 * are pinned to `null` so the SDK does not pick up `OPENAI_*` variables meant for other tools.
 *
 * `complete` rejects with an `LlmError`: SDK errors via `toLlmError`, and a response without
 * any choice as kind `unknown`. `stream` rejects the same way, plus on an idle or whole-call
 * timeout (see `watchStream`), on an error chunk inside the stream, and on a stream that ends
 * without a `finish_reason` (kind `network`: the connection closed early). `finish_reason:
 * "tool_calls"` is a normal end: the calls come back in `Completion.toolCalls`; streamed,
 * `onText` sees only content deltas.
 */
export function createOpenAICompatibleProvider(
  options: OpenAICompatibleProviderOptions,
): LlmProvider {
  const now = options.now ?? Date.now;
  const field = options.tokenLimitField ?? "max_completion_tokens";
  const client = createOpenAIClient({ ...options, timeoutMs: options.timeoutMs ?? 60_000 });
  return {
    id: "openai-compatible",
    async complete(req: CompletionRequest): Promise<Completion> {
      let response: ChatCompletion;
      try {
        response = await client.chat.completions.create(toChatCompletionParams(req, field), {
          timeout: req.timeoutMs,
        });
      } catch (err) {
        throw toLlmError("openai-compatible", err, now());
      }
      return fromChatCompletion(response, req.model);
    },
    stream(req: StreamRequest, onText: (delta: string) => void): Promise<Completion> {
      return watchStream(
        "openai-compatible",
        req,
        async (signal, touch) => {
          // https://platform.openai.com/docs/api-reference/chat-streaming: chunks with
          // `choices[0].delta.content` or `delta.tool_calls[]` fragments (by `index`; id and
          // name first, `arguments` in pieces), then (include_usage) a usage chunk with no
          // choices. The SDK's ChatCompletionStream assembles the chunks, tool calls and usage
          // included, into the ChatCompletion `finalChatCompletion()` returns. Servers that
          // ignore include_usage send no usage: counts are then 0.
          const stream = client.chat.completions.stream(
            {
              ...toChatCompletionParams(req, field),
              stream: true,
              stream_options: { include_usage: true },
            },
            { timeout: req.timeoutMs, signal },
          );
          let finished = false;
          let usage: CompletionUsage | undefined;
          try {
            for await (const chunk of stream) {
              touch();
              if (chunk.usage) usage = chunk.usage;
              const choice = chunk.choices?.[0];
              const delta = choice?.delta?.content;
              if (delta) onText(delta);
              if (choice?.finish_reason) finished = true;
            }
          } catch (err) {
            // The helper's own complaints at the end of the body ("missing finish_reason",
            // "request ended without sending any chunks") are an early close, not a bad request.
            if (!finished && err instanceof OpenAIError && !(err instanceof APIError)) {
              throw streamEndedEarly("openai-compatible", "a finish_reason");
            }
            throw err;
          }
          if (!finished) throw streamEndedEarly("openai-compatible", "a finish_reason");
          // The helper keeps a usage chunk only when it carries an id; some servers omit it.
          const final = await stream.finalChatCompletion();
          return fromChatCompletion({ ...final, usage: final.usage ?? usage }, req.model);
        },
        now,
      );
    },
  };
}

/**
 * Maps our request to chat-completions parameters: the system prompt becomes the first
 * message; a non-empty `req.tools` becomes `tools` (`{type:"function", function:{name,
 * description, parameters}}`) with `tool_choice` `auto` or `none`
 * (https://platform.openai.com/docs/guides/function-calling).
 */
export function toChatCompletionParams(
  req: CompletionRequest,
  tokenLimitField: "max_completion_tokens" | "max_tokens" = "max_completion_tokens",
): ChatCompletionCreateParamsNonStreaming {
  const messages: ChatCompletionMessageParam[] = [];
  if (req.system.trim()) messages.push({ role: "system", content: req.system });
  for (const m of req.messages) messages.push(toOpenAiMessage(m));
  const params: ChatCompletionCreateParamsNonStreaming = {
    model: req.model,
    messages,
    [tokenLimitField]: req.maxTokens,
  };
  if (req.tools?.length) {
    params.tools = req.tools.map((spec) => ({
      type: "function",
      function: { name: spec.name, description: spec.description, parameters: spec.inputSchema },
    }));
    params.tool_choice = req.toolChoice ?? "auto";
  }
  return params;
}

/**
 * One of our messages as a chat-completions message: an assistant turn's tool calls become
 * `tool_calls` (arguments as a JSON string), a tool result a `role:"tool"` message
 * (https://platform.openai.com/docs/guides/function-calling).
 */
export function toOpenAiMessage(m: ChatMessage): ChatCompletionMessageParam {
  if (m.role === "tool") return { role: "tool", tool_call_id: m.toolCallId, content: m.content };
  if (m.role === "assistant" && m.toolCalls?.length) {
    return {
      role: "assistant",
      content: m.content || null,
      tool_calls: m.toolCalls.map((call) => ({
        id: call.id,
        type: "function",
        function: { name: call.name, arguments: JSON.stringify(call.input) },
      })),
    };
  }
  return { role: m.role, content: m.content };
}

/**
 * Reads the first choice: its text, and its function `tool_calls` as `toolCalls` (absent when
 * there are none; `arguments` parsed from JSON, malformed or non-object JSON reading as `{}`).
 * A `null` content (refusal, tool call) is an empty reply, not an error; no choice at all means
 * the server answered 200 with a malformed body.
 *
 * @throws {LlmError} kind `unknown` when `choices` is empty.
 */
export function fromChatCompletion(response: ChatCompletion, requestedModel: string): Completion {
  const choice = response.choices?.[0];
  if (!choice) {
    throw new LlmError({
      kind: "unknown",
      provider: "openai-compatible",
      message: "openai-compatible: response contained no choices",
    });
  }
  const toolCalls = (choice.message?.tool_calls ?? []).flatMap(fromToolCall);
  return {
    text: choice.message?.content ?? "",
    model: response.model || requestedModel,
    provider: "openai-compatible",
    inputTokens: response.usage?.prompt_tokens ?? 0,
    outputTokens: response.usage?.completion_tokens ?? 0,
    ...(toolCalls.length ? { toolCalls } : {}),
  };
}

/** A function tool call as a {@link ToolCall}; other kinds (custom tools) are never declared. */
function fromToolCall(call: ChatCompletionMessageToolCall): ToolCall[] {
  if (call.type !== "function") return [];
  return [
    { id: call.id, name: call.function.name, input: parseArguments(call.function.arguments) },
  ];
}

/** `function.arguments` (a JSON string) as an object; malformed or non-object JSON is `{}`. */
function parseArguments(raw: string | undefined): Record<string, unknown> {
  try {
    return asToolInput(JSON.parse(raw || "{}"));
  } catch {
    return {};
  }
}

/**
 * The `openai` client for an OpenAI-compatible endpoint as this project uses it: SDK retries
 * off (the provider manager's policy is the only one), no organization/project headers (other
 * servers reject or ignore them), the placeholder key when none is configured.
 * @param options.timeoutMs - per-request timeout, ms; the SDK's default (10 min) when absent.
 */
export function createOpenAIClient(options: {
  apiKey?: string | undefined;
  baseURL: string;
  timeoutMs?: number | undefined;
  fetch?: typeof fetch | undefined;
}): OpenAI {
  return new OpenAI({
    apiKey: options.apiKey ?? PLACEHOLDER_API_KEY,
    baseURL: options.baseURL,
    organization: null,
    project: null,
    maxRetries: 0,
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
