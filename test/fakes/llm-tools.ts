/**
 * Scripted answers of the LLM fakes, tool calls included, and the helpers a scripted answer
 * uses to read the conversation (tools declared, tool results sent back) in either provider's
 * wire format. Each fake turns a {@link PlannedAnswer} into its own format:
 * - Anthropic `tool_use` blocks / `input_json_delta` events:
 *   https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use
 * - OpenAI `tool_calls` / `delta.tool_calls[]` chunks:
 *   https://platform.openai.com/docs/guides/function-calling
 */
import { fakeId, type RecordedRequest } from "./http-fake";

/** One tool call a scripted answer makes. */
export interface ScriptedToolCall {
  /** A tool the request declares (the fake fails loudly with a 500 otherwise). */
  name: string;
  /** The call's arguments. */
  input: Record<string, unknown>;
  /** The call's id; default a fresh `toolu_…` (Anthropic) or `call_…` (OpenAI). */
  id?: string;
  /**
   * Sent verbatim instead of `JSON.stringify(input)` as the arguments text, e.g. `"{oops"` to
   * test malformed arguments: OpenAI `function.arguments` (streamed and not), Anthropic's
   * streamed `partial_json` fragments. A non-streamed Anthropic answer carries `input` (its
   * `tool_use.input` is an object on the wire).
   */
  rawArguments?: string;
}

/**
 * What the fake answers one request with: plain text, or an object with the text said before
 * the calls (default `""`) and the tool calls made (Anthropic `stop_reason: "tool_use"`, OpenAI
 * `finish_reason: "tool_calls"`).
 */
export type LlmReply = string | { text?: string; toolCalls?: ScriptedToolCall[] };

/**
 * Produces the answer of a request that passed the fake's checks; sees the whole recorded
 * request (`body.messages`, `body.tools`, `body.tool_choice`), so it can answer from the tool
 * results in the conversation (see {@link toolResults}).
 */
export type LlmReplyFn = (request: RecordedRequest) => LlmReply | Promise<LlmReply>;

/** A tool call with its id and arguments text settled. */
export interface PlannedToolCall {
  id: string;
  name: string;
  input: Record<string, unknown>;
  /** The arguments as sent on the wire (JSON, or the scripted `rawArguments`). */
  argumentsText: string;
}

/** An answer ready to be written in a fake's wire format. */
export interface PlannedAnswer {
  text: string;
  /** Empty when the answer is text only. */
  toolCalls: PlannedToolCall[];
}

/** A one-off answer queued with a fake's `script`, or a function answering one request. */
export type ScriptEntry = LlmReply | LlmReplyFn;

/**
 * The answers of one fake: the queue `script` fills (one entry per request, oldest first),
 * then the reply function (`setReply`, else the fake's option or default) once the queue is
 * empty.
 */
export class ReplyScript {
  #queue: ScriptEntry[] = [];
  readonly #initial: LlmReplyFn;
  #reply: LlmReplyFn;

  /** @param initial - the reply function of the fake's options, or its default. */
  constructor(initial: LlmReplyFn) {
    this.#initial = initial;
    this.#reply = initial;
  }

  /** Queues `entries`, each answering one later request that passes the fake's checks. */
  push(entries: ScriptEntry[]): void {
    this.#queue.push(...entries);
  }

  /** Replaces the reply function; no argument restores the initial one. */
  setReply(reply?: LlmReplyFn): void {
    this.#reply = reply ?? this.#initial;
  }

  /** Drops queued entries and restores the initial reply function. */
  reset(): void {
    this.#queue = [];
    this.#reply = this.#initial;
  }

  /**
   * The answer to `request`: the next queued entry, else the reply function. Tool calls are
   * dropped when the request's tool choice is `none`, as the real APIs never call a tool then
   * (the text answers alone: the reply function's text when the entry has none).
   *
   * @param wire - what the request declares, in the fake's format.
   * @throws {Error} when a call names a tool the request does not declare: a mistake in the
   *   test's script, surfaced as the fake's loud 500.
   */
  async answer(
    request: RecordedRequest,
    wire: { tools: string[]; choiceNone: boolean; idPrefix: string },
  ): Promise<PlannedAnswer> {
    const fallback = this.#reply;
    const entry = this.#queue.shift() ?? fallback;
    const reply = typeof entry === "function" ? await entry(request) : entry;
    const text = typeof reply === "string" ? reply : (reply.text ?? "");
    const calls = typeof reply === "string" ? [] : (reply.toolCalls ?? []);
    if (calls.length === 0) return { text, toolCalls: [] };
    if (wire.choiceNone) {
      if (text) return { text, toolCalls: [] };
      const plain = await fallback(request);
      return { text: typeof plain === "string" ? plain : (plain.text ?? ""), toolCalls: [] };
    }
    const toolCalls = calls.map((call) => {
      if (!wire.tools.includes(call.name)) {
        throw new Error(`scripted tool call "${call.name}" names no tool the request declares`);
      }
      return {
        id: call.id ?? fakeId(wire.idPrefix),
        name: call.name,
        input: call.input,
        argumentsText: call.rawArguments ?? JSON.stringify(call.input),
      };
    });
    return { text, toolCalls };
  }
}

/**
 * Splits a tool call's arguments text into the fragments a stream carries them in (up to 8
 * characters each, as the real APIs send a few tokens at a time); `""` for empty arguments.
 */
export function argumentFragments(argumentsText: string): string[] {
  return argumentsText.match(/[\s\S]{1,8}/g) ?? [""];
}

/** Words a fake counts as the output tokens of an answer: its text and its calls' arguments. */
export function answerWords(answer: PlannedAnswer): string {
  return [answer.text, ...answer.toolCalls.map((c) => `${c.name} ${c.argumentsText}`)].join(" ");
}

/** One tool result as a request sent it back, in either provider's format. */
export interface SentToolResult {
  /** Anthropic `tool_use_id`, OpenAI `tool_call_id`. */
  toolCallId: string;
  /** The result's text (Anthropic string content or its text blocks). */
  content: string;
  /** Anthropic `is_error`; always `false` for OpenAI, which has no such flag. */
  isError: boolean;
}

type WireMessage = { role?: unknown; content?: unknown; tool_call_id?: unknown };

/**
 * The tool results the request's conversation ends with: the `tool_result` blocks of the last
 * (user) message (Anthropic), or the `role:"tool"` messages after the last assistant message
 * (OpenAI). Empty when the conversation ends with a plain user message, so a reply function can
 * tell "first round" from "results are back".
 */
export function toolResults(request: RecordedRequest): SentToolResult[] {
  const messages = request.body.messages;
  if (!Array.isArray(messages)) return [];
  const last = messages.at(-1) as WireMessage | undefined;
  if (last?.role === "user" && Array.isArray(last.content)) {
    return last.content
      .filter((block) => block?.type === "tool_result")
      .map((block) => ({
        toolCallId: String(block.tool_use_id),
        content: resultText(block.content),
        isError: block.is_error === true,
      }));
  }
  const results: SentToolResult[] = [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as WireMessage;
    if (m?.role !== "tool") break;
    results.unshift({
      toolCallId: String(m.tool_call_id),
      content: resultText(m.content),
      isError: false,
    });
  }
  return results;
}

/** The last of {@link toolResults}, or `undefined` when the conversation ends with none. */
export function lastToolResult(request: RecordedRequest): SentToolResult | undefined {
  return toolResults(request).at(-1);
}

/** Names of the tools the request declares, in either provider's format. */
export function declaredToolNames(request: RecordedRequest): string[] {
  const tools = request.body.tools;
  if (!Array.isArray(tools)) return [];
  return tools.map((t) => String(t?.function?.name ?? t?.name));
}

function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter((part) => part?.type === "text" && typeof part.text === "string")
    .map((part) => part.text as string)
    .join("\n");
}
