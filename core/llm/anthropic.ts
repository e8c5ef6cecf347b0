/**
 * The Anthropic Messages API provider (`POST /v1/messages`, plain and streamed) via the
 * official `@anthropic-ai/sdk`.
 */
import Anthropic from "@anthropic-ai/sdk";
import type {
  ContentBlockParam,
  Message,
  MessageCreateParamsNonStreaming,
  MessageParam,
  Tool,
  ToolResultBlockParam,
} from "@anthropic-ai/sdk/resources/messages";
import { toLlmError } from "./errors";
import { streamEndedEarly, watchStream } from "./stream-idle";
import {
  asToolInput,
  type ChatMessage,
  type Completion,
  type CompletionRequest,
  type LlmProvider,
  type StreamRequest,
  type ToolCall,
  type ToolSpec,
} from "./types";

/** The SDK's own default host, passed explicitly so the SDK never falls back to reading env. */
export const ANTHROPIC_DEFAULT_BASE_URL = "https://api.anthropic.com";

/** Options of {@link createAnthropicProvider}; the composition root fills them from config. */
export interface AnthropicProviderOptions {
  /** `ANTHROPIC_API_KEY`, sent as `x-api-key`. */
  apiKey: string;
  /** `ANTHROPIC_BASE_URL` (origin without `/v1`); default {@link ANTHROPIC_DEFAULT_BASE_URL}. */
  baseURL?: string;
  /** Client-wide HTTP timeout in ms (default 60 000); each request's `timeoutMs` overrides it. */
  timeoutMs?: number;
  /** Epoch-ms clock for HTTP-date `retry-after` headers (default `Date.now`). */
  now?: () => number;
  /** Custom `fetch` (tests, proxies); default the runtime's global fetch. */
  fetch?: typeof fetch;
}

/**
 * Builds the provider and its SDK client once (per container). SDK retries are off
 * (`maxRetries: 0`) so the provider manager's policy is the only one: otherwise a 529 would be
 * retried up to 3 × 3 times with two independent backoffs. Credentials and base URL are passed
 * explicitly so the SDK does not read `ANTHROPIC_*` variables behind config's back.
 *
 * `complete` and `stream` reject with an `LlmError` (see `toLlmError`) on any failure; `stream`
 * also on an idle or whole-call timeout (see `watchStream`) and on a stream that ends without
 * `message_stop` (kind `network`: the connection closed early). `stop_reason: "tool_use"` is a
 * normal end: the calls come back in `Completion.toolCalls`; streamed, `onText` sees only text
 * deltas and the SDK's `finalMessage()` assembles each call's `input_json_delta` fragments (the
 * SDK parses them at the block's `content_block_stop` and fails the stream, kind `unknown`, on
 * JSON that does not parse; the API only sends valid JSON there).
 */
export function createAnthropicProvider(options: AnthropicProviderOptions): LlmProvider {
  const now = options.now ?? Date.now;
  const client = new Anthropic({
    apiKey: options.apiKey,
    baseURL: options.baseURL ?? ANTHROPIC_DEFAULT_BASE_URL,
    maxRetries: 0,
    timeout: options.timeoutMs ?? 60_000,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return {
    id: "anthropic",
    async complete(req: CompletionRequest): Promise<Completion> {
      let message: Message;
      try {
        message = await client.messages.create(toAnthropicParams(req), {
          timeout: req.timeoutMs,
        });
      } catch (err) {
        throw toLlmError("anthropic", err, now());
      }
      return fromAnthropicMessage(message, req.model);
    },
    stream(req: StreamRequest, onText: (delta: string) => void): Promise<Completion> {
      return watchStream(
        "anthropic",
        req,
        async (signal, touch) => {
          // https://docs.anthropic.com/en/docs/build-with-claude/streaming: message_start,
          // content blocks with their deltas, message_delta (final usage), message_stop.
          const stream = client.messages.stream(toAnthropicParams(req), {
            timeout: req.timeoutMs,
            signal,
          });
          let stopped = false;
          // The SDK drops `ping` events, so only content and message events reset the idle
          // clock: the API's pings keep a connection alive, they do not make progress.
          for await (const event of stream) {
            touch();
            if (event.type === "content_block_delta" && event.delta.type === "text_delta") {
              if (event.delta.text) onText(event.delta.text);
            } else if (event.type === "message_stop") {
              stopped = true;
            }
          }
          if (!stopped) throw streamEndedEarly("anthropic", "message_stop");
          return fromAnthropicMessage(await stream.finalMessage(), req.model);
        },
        now,
      );
    },
  };
}

/**
 * Maps our request to Messages API parameters: `system` as the top-level field (omitted when
 * empty, since the API rejects an empty text block), messages as plain-string content, and,
 * when `req.tools` is non-empty, `tools` with `tool_choice` `{type:"auto"}` or `{type:"none"}`
 * (https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use).
 */
export function toAnthropicParams(req: CompletionRequest): MessageCreateParamsNonStreaming {
  const params: MessageCreateParamsNonStreaming = {
    model: req.model,
    max_tokens: req.maxTokens,
    messages: toAnthropicMessages(req.messages),
  };
  if (req.system.trim()) params.system = req.system;
  if (req.tools?.length) {
    params.tools = req.tools.map(toAnthropicTool);
    params.tool_choice = { type: req.toolChoice ?? "auto" };
  }
  return params;
}

/** One {@link ToolSpec} as a Messages API tool; the schema is an object schema by contract. */
function toAnthropicTool(spec: ToolSpec): Tool {
  return {
    name: spec.name,
    description: spec.description,
    input_schema: { ...spec.inputSchema, type: "object" },
  };
}

/**
 * Our messages as Messages API turns: an assistant turn's tool calls become `tool_use` blocks
 * after its text, and consecutive tool results become `tool_result` blocks of one user turn
 * (https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use).
 */
export function toAnthropicMessages(messages: readonly ChatMessage[]): MessageParam[] {
  const out: MessageParam[] = [];
  for (const m of messages) {
    if (m.role === "tool") {
      const block: ToolResultBlockParam = {
        type: "tool_result",
        tool_use_id: m.toolCallId,
        content: m.content,
        ...(m.isError ? { is_error: true } : {}),
      };
      const last = out.at(-1);
      if (last?.role === "user" && Array.isArray(last.content)) last.content.push(block);
      else out.push({ role: "user", content: [block] });
    } else if (m.role === "assistant" && m.toolCalls?.length) {
      const blocks: ContentBlockParam[] = m.content ? [{ type: "text", text: m.content }] : [];
      for (const call of m.toolCalls) {
        blocks.push({ type: "tool_use", id: call.id, name: call.name, input: call.input });
      }
      out.push({ role: "assistant", content: blocks });
    } else {
      out.push({ role: m.role, content: m.content });
    }
  }
  return out;
}

/**
 * Joins the response's `text` blocks (other block types, e.g. thinking, are not chat text) and
 * reads its `tool_use` blocks, in order, as `toolCalls` (absent when there are none).
 * `model` is the id the API reports, else the one requested.
 */
export function fromAnthropicMessage(message: Message, requestedModel: string): Completion {
  let text = "";
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    if (block.type === "text") text += block.text;
    else if (block.type === "tool_use") {
      toolCalls.push({ id: block.id, name: block.name, input: asToolInput(block.input) });
    }
  }
  return {
    text,
    model: message.model || requestedModel,
    provider: "anthropic",
    inputTokens: message.usage?.input_tokens ?? 0,
    outputTokens: message.usage?.output_tokens ?? 0,
    ...(toolCalls.length ? { toolCalls } : {}),
  };
}
