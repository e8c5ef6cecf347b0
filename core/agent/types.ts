/**
 * The shapes of the agent's tools (docs/architecture.md, "The agent turn"): what the model is
 * offered, how a call runs, and how a call is remembered. The loop that drives them is
 * `./loop.ts`; the chat turn (`core/chat/turn.ts`) runs it. This folder never imports `chat/`
 * or `kadi/`: the broker is reached through {@link AbilityBroker}, which the composition root
 * wires to the KĀDI client.
 */
import type { ChatMessage, ToolCall, ToolSpec } from "../llm/types";
import type { ToolCallRecord, ToolErrorKind } from "../memory/conversation-items";
import type { ConversationRef } from "../memory/table/keys";

export type { ToolCallRecord, ToolErrorKind };

/** Where a tool comes from: the agent's own memory tools, or an ability on the KĀDI broker. */
export type ToolSource = "agent" | "kadi";

/** What a tool call needs to know about the turn it runs in. */
export interface ToolContext {
  /** Whose conversation: the agent's own tools act on this user's memory only. */
  conversation: ConversationRef;
  /** The chat job's id, for the audit log. */
  jobId: string;
  /** Epoch ms by which the call must have answered (the loop's wall-clock budget). */
  deadlineMs: number;
}

/** A failed tool call; `message` is safe to show the model (no secrets, no raw payloads). */
export class ToolError extends Error {
  override readonly name = "ToolError";
  constructor(
    readonly kind: ToolErrorKind,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** One tool as the agent loop sees it. */
export interface AgentTool extends ToolSpec {
  source: ToolSource;
  /** `true` when a call must wait for the person's Approve (`TOOL_APPROVAL_REQUIRED`). */
  needsApproval: boolean;
  /** Short human name for progress lines, e.g. "cloud upload" ("Running cloud upload…"). */
  label: string;
  /**
   * Runs one call.
   * @returns the tool's JSON-serialisable result.
   * @throws {ToolError} for every expected failure; anything else is a bug of ours, and the
   *   loop reports it to the model as `failed`.
   */
  run(input: Record<string, unknown>, ctx: ToolContext): Promise<unknown>;
}

/** The tools of one turn (`createToolbox`). */
export interface Toolbox {
  /**
   * The tools the model is offered for this turn. With `canAskApproval` false (the KĀDI relay,
   * the web console: no buttons) tools that need approval are left out. Never rejects: a
   * broker that cannot be listed gives the agent's own tools only (and a warning in the log).
   */
  toolsFor(turn: { canAskApproval: boolean }): Promise<AgentTool[]>;
}

/**
 * The slice of a KĀDI broker session the agent's tools use (the KĀDI client implements it;
 * https://github.com/kadi-framework — `kadi.ability.list`, `kadi.ability.request`).
 */
export interface AbilityBroker {
  /**
   * `kadi.ability.list {networks, includeProviders}` → `{tools:[{name, description,
   * inputSchema, …}]}`: the abilities on the agent's networks.
   * @throws the client's `KadiError` when the broker cannot be asked.
   */
  listAbilities(networks: string[], includeProviders: boolean): Promise<BrokerAbility[]>;
  /**
   * `kadi.ability.request {targetAgent?, toolName, toolInput, timeout}` answered `{status:
   * "pending", requestId}`, then `kadi.ability.response {requestId, result, error}`.
   * @param timeoutMs - the remaining time, sent as `timeout`.
   * @throws the client's `KadiError` (`kind` `timeout`, `tool_error`, `network`, `closed`,
   *   `protocol`).
   */
  invokeTool(
    targetAgent: string | undefined,
    toolName: string,
    input: unknown,
    timeoutMs: number,
  ): Promise<unknown>;
}

/** One entry of `kadi.ability.list`'s `tools`; fields other than these are ignored. */
export interface BrokerAbility {
  name: string;
  description?: string;
  inputSchema?: Record<string, unknown>;
  /** The agents that serve it, when `includeProviders` was asked. */
  providers?: string[];
}

/**
 * An agent loop waiting for the person's decision on one call, as stored with the pending
 * approval (JSON): everything needed to resume the loop in another invocation.
 */
export interface PausedLoop {
  /** The model the loop runs on (later rounds stay on it). */
  model: string;
  system: string;
  /** The conversation sent to the model so far, ending with the assistant's tool calls. */
  messages: ChatMessage[];
  /** The call waiting for approval. */
  pending: ToolCall;
  /** Its tool's human name ("ssh execute"), for the messages about it. */
  pendingLabel: string;
  /** Calls of the same round still to run after it, in order. */
  queued: ToolCall[];
  /** Rounds done so far. */
  rounds: number;
  /** The calls made so far in this turn. */
  actions: ToolCallRecord[];
  /** Wall-clock ms the loop had used before it paused (the wait for a decision is not counted). */
  elapsedMs: number;
  /** Tokens used so far, for the budget accounting. */
  tokens: { input: number; output: number };
}
