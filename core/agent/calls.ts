/**
 * One tool call of the agent loop: run it (an unknown tool, bad input or a failure becomes an
 * error result for the model), show its progress, send its result back, remember it and write
 * the audit line (docs/architecture.md, "The agent turn").
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { TOOL_RECORD_RESULT_MAX_BYTES } from "../constants/agent";
import type { ChatMessage, ToolCall } from "../llm/types";
import type { ToolStep } from "../reply/live-reply";
import { auditToolCall, toolCallRecord } from "./audit";
import { cutResult, jsonBytes } from "./redact";
import {
  type AgentTool,
  type ToolCallRecord,
  type ToolContext,
  ToolError,
  type ToolErrorKind,
} from "./types";

/** What a call needs from the loop's run: whose turn, where progress goes. */
export interface CallRun {
  context: Omit<ToolContext, "deadlineMs">;
  onStep: (step: ToolStep) => void;
}

/** The loop's state a call adds to: the conversation sent to the model and the calls made. */
export interface CallState {
  messages: ChatMessage[];
  actions: ToolCallRecord[];
}

/** What a call needs of the loop's dependencies. */
export interface CallDeps {
  logger: Logger;
  now: () => number;
  /** Largest result sent to the model, bytes. */
  resultMaxBytes: number;
}

/** A call's result before it is sent back: a value, or why it failed. */
export type CallResult =
  | { ok: true; value: unknown }
  | { ok: false; kind: ToolErrorKind; message: string };

/**
 * Runs one call until `deadlineMs` (epoch ms) and settles it. Never rejects: an unknown tool,
 * a {@link ToolError} or any other error becomes an error result for the model.
 */
export async function runCall(
  deps: CallDeps,
  run: CallRun,
  state: CallState,
  call: ToolCall,
  tool: AgentTool | undefined,
  deadlineMs: number,
): Promise<void> {
  const label = tool?.label ?? call.name;
  const begin = deps.now();
  let result: CallResult;
  if (!tool) {
    result = { ok: false, kind: "invalid_input", message: `unknown tool ${call.name}` };
  } else {
    run.onStep({ id: call.id, label, state: "running" });
    try {
      result = { ok: true, value: await tool.run(call.input, { ...run.context, deadlineMs }) };
    } catch (error) {
      result =
        error instanceof ToolError
          ? { ok: false, kind: error.kind, message: error.message }
          : { ok: false, kind: "failed", message: "the tool failed unexpectedly" };
      if (!(error instanceof ToolError)) {
        deps.logger.error("tool threw an unexpected error", {
          jobId: run.context.jobId,
          tool: call.name,
          error,
        });
      }
    }
  }
  const durationMs = deps.now() - begin;
  if (tool) {
    run.onStep({
      id: call.id,
      label,
      state: result.ok ? "done" : "failed",
      durationMs,
      ...(result.ok ? {} : { detail: result.kind.replace("_", " ") }),
    });
  }
  settle(deps, run, state, call, result, durationMs, tool?.source);
}

/** Sends a call's result back to the model, remembers it and writes the audit line. */
export function settle(
  deps: CallDeps,
  run: CallRun,
  state: CallState,
  call: ToolCall,
  result: CallResult,
  durationMs: number,
  source?: AgentTool["source"],
): void {
  const max = deps.resultMaxBytes;
  const output = result.ok
    ? JSON.stringify(result.value ?? null)
    : JSON.stringify({ error: result.kind, message: result.message });
  state.messages.push({
    role: "tool",
    toolCallId: call.id,
    content: cutResult(output, max),
    ...(result.ok ? {} : { isError: true }),
  });
  state.actions.push(
    toolCallRecord(
      {
        tool: call.name,
        input: call.input,
        durationMs,
        ...(result.ok
          ? { result: result.value }
          : { error: { kind: result.kind, message: result.message } }),
      },
      TOOL_RECORD_RESULT_MAX_BYTES,
    ),
  );
  auditToolCall(deps.logger, {
    jobId: run.context.jobId,
    userId: run.context.conversation.userId,
    tool: call.name,
    source: source ?? "unknown",
    durationMs,
    outcome: result.ok ? "ok" : result.kind,
    inputBytes: jsonBytes(call.input ?? {}),
    outputBytes: jsonBytes(output),
  });
}
