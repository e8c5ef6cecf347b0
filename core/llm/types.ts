/**
 * Shared shapes of the LLM layer: what the agent turn asks for, what a provider answers,
 * and the typed errors every provider maps its failures to.
 */

import { PROVIDER_IDS, type ProviderId } from "../constants/models";

/** Provider identifiers, declared with the model table (`core/constants/models.ts`). */
export { PROVIDER_IDS, type ProviderId };

/**
 * A tool the model may call: Anthropic `tools[] {name, description, input_schema}`
 * (https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/overview), OpenAI
 * `tools[] {type:"function", function:{name, description, parameters}}`
 * (https://platform.openai.com/docs/guides/function-calling). `inputSchema` is a JSON Schema
 * object (`{type:"object", properties, required?}`).
 */
export interface ToolSpec {
  /** 1–64 characters of `[a-zA-Z0-9_-]`, as both APIs require. */
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/**
 * One call the model made: an Anthropic `tool_use` block `{id, name, input}`, or an OpenAI
 * `tool_calls[]` entry `{id, function:{name, arguments}}` with `arguments` parsed from JSON
 * (malformed JSON reads as `{}`; the tool's own validation then names the problem).
 */
export interface ToolCall {
  /** The provider's id of the call (`toolu_…`, `call_…`); a result names it. */
  id: string;
  name: string;
  input: Record<string, unknown>;
}

/**
 * A tool call's arguments as {@link ToolCall.input}: a JSON object as is; anything else (an
 * array, a scalar, `null`: never what a provider should send) as `{}`.
 */
export function asToolInput(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/**
 * One turn of conversation as sent to a model. `system` text travels separately.
 * - `user` / `assistant`: text; an assistant turn may end with the tool calls it made.
 * - `tool`: the result of one call, sent back the next round (Anthropic: a `tool_result`
 *   block in a user turn, consecutive results in one turn; OpenAI: a `role:"tool"` message
 *   with `tool_call_id`). `isError` marks a failed or refused call (Anthropic `is_error`).
 */
export type ChatMessage =
  | { role: "user"; content: string }
  | { role: "assistant"; content: string; toolCalls?: ToolCall[] }
  | { role: "tool"; toolCallId: string; content: string; isError?: boolean };

/**
 * Whether the model may call the tools it is given: `auto` (it decides) or `none` (it must
 * answer in text; used for the final answer when the agent loop hits a bound, because a
 * conversation holding tool calls must still declare its tools).
 */
export type ToolChoice = "auto" | "none";

/** A completion request after model resolution. */
export interface CompletionRequest {
  /** Concrete model id (aliases already resolved), e.g. `claude-sonnet-5-5`. */
  model: string;
  /** System prompt; may be empty. */
  system: string;
  /** Oldest first; the last one is the new user message. */
  messages: ChatMessage[];
  /** Upper bound on generated tokens. */
  maxTokens: number;
  /** Abort the HTTP call after this many milliseconds. */
  timeoutMs: number;
  /** Tools the model may call; absent or empty: none are declared. */
  tools?: ToolSpec[];
  /** Default `auto`; only meaningful with `tools`. */
  toolChoice?: ToolChoice;
}

/** A successful completion. Token counts are as reported by the provider (0 when absent). */
export interface Completion {
  text: string;
  model: string;
  provider: ProviderId;
  inputTokens: number;
  outputTokens: number;
  /**
   * The tools the model called, in order (Anthropic `stop_reason: "tool_use"`, OpenAI
   * `finish_reason: "tool_calls"`); absent or empty when it answered in text only. `text` is
   * whatever it said before the calls.
   */
  toolCalls?: ToolCall[];
}

/** What a turn asks the provider manager for (see {@link Completer}). */
export interface CompleteInput {
  /** Id or alias from a `[model]` directive or user preference; absent = the default model. */
  model?: string;
  /** System prompt; may be empty. */
  system: string;
  /** Oldest first; the last one is the new user message. */
  messages: ChatMessage[];
  /** Output token limit; default {@link DEFAULT_MAX_TOKENS}. */
  maxTokens?: number;
  /** Tools the model may call (see {@link ToolSpec}); absent: none. */
  tools?: ToolSpec[];
  /** See {@link ToolChoice}; default `auto`. */
  toolChoice?: ToolChoice;
  /**
   * `false`: only the model `model` names is tried (retries and the breaker still apply, no
   * fallback to the other provider). The agent loop's later rounds set it: a loop that started
   * on one provider stays on it, since its tool-call ids mean nothing to the other. Default
   * `true`.
   */
  fallback?: boolean;
}

/** Output token limit of a {@link CompleteInput} that names none, in tokens. */
export const DEFAULT_MAX_TOKENS = 1024;

/**
 * The slice of the provider manager (`createProviderManager`) its consumers (the chat turn,
 * the archiver) depend on, so they can be tested with a fake. Never rejects: a failed turn is
 * an expected state, returned as `{ ok: false }` with the failure kind.
 */
export interface Completer {
  complete(
    input: CompleteInput,
  ): Promise<
    { ok: true; completion: Completion } | { ok: false; error: Error & { kind: LlmErrorKind } }
  >;
}

/**
 * What the provider manager's `stream` resolves to. On success, `fellBackFrom` is the model the
 * turn asked for first when another one answered (for the reply's footer). On failure,
 * `cutOff` tells whether text had already been streamed (`partialText`) when the stream failed:
 * a cut-off answer is never retried or handed to the other provider, so the person sees one
 * message, ended with a note.
 */
export type StreamResult =
  | {
      ok: true;
      completion: Completion;
      /** Concrete model id of the failed or skipped first choice, when a fallback answered. */
      fellBackFrom?: string;
    }
  | {
      ok: false;
      error: Error & { kind: LlmErrorKind };
      /** `true` when at least one text delta had been passed to `onText` before the failure. */
      cutOff: boolean;
      /** The text streamed before the failure ("" when `cutOff` is false). */
      partialText: string;
    };

/**
 * The streaming slice of the provider manager, which the chat turn depends on. `onText` gets
 * each text delta as it arrives (never an empty string), only from the provider that answers:
 * retries and the fallback to the other provider happen only before the first delta. Never
 * rejects (failures are {@link StreamResult} values); `onText` must not throw.
 */
export interface Streamer {
  stream(input: CompleteInput, onText: (delta: string) => void): Promise<StreamResult>;
}

/**
 * Failure categories. `auth`, `invalid_request` and `model_not_found` are permanent
 * (never retried); `rate_limit`, `server` (5xx, including Anthropic's 529 overloaded),
 * `timeout` and `network` are transient; `unconfigured` means the provider has no
 * credentials/endpoint at all; `circuit_open` means the breaker refused the call untried.
 */
export type LlmErrorKind =
  | "auth"
  | "rate_limit"
  | "server"
  | "timeout"
  | "network"
  | "invalid_request"
  | "model_not_found"
  | "unconfigured"
  | "circuit_open"
  | "unknown";

/**
 * One model backend. `complete` sends exactly one HTTP request (no retries of its own: the
 * provider manager owns the retry, fallback and breaker policy) and either resolves with the
 * completion or rejects with an `LlmError` (see `./errors`) whose `kind` classifies the failure.
 */
export interface LlmProvider {
  readonly id: ProviderId;
  complete(req: CompletionRequest): Promise<Completion>;
  /**
   * Sends one streaming request (Anthropic `messages.stream`, OpenAI chat completions with
   * `stream: true`), calling `onText` with each non-empty text delta in order, and resolves with
   * the whole completion, token counts from the stream's final usage event (0 when the server
   * sent none). A gap of more than `idleTimeoutMs` ms between two stream events, or a stream
   * longer than `timeoutMs` ms in all, aborts the request and rejects with an `LlmError` of kind
   * `timeout` (see `watchStream`); a body that ends before the provider's end marker rejects
   * with kind `network` (`streamEndedEarly`); any other failure rejects with the `LlmError` its
   * HTTP status, in-stream error event or network error maps to (`toLlmError`), before or after
   * the first delta.
   */
  stream(req: StreamRequest, onText: (delta: string) => void): Promise<Completion>;
}

/** A {@link CompletionRequest} sent as a stream. */
export interface StreamRequest extends CompletionRequest {
  /** Longest silence between two stream events, ms (`LLM_STREAM_IDLE_TIMEOUT_MS`). */
  idleTimeoutMs: number;
}
