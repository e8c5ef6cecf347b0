/**
 * How a tool call is remembered: one structured audit line per call (sizes only, never a value),
 * and the compact {@link ToolCallRecord} stored with the turn (redacted and cut).
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import {
  TOOL_NAME_PATTERN,
  TOOL_RECORD_INPUT_MAX_BYTES,
  TOOL_RESULT_MAX_BYTES,
} from "../constants/agent";
import { cutResult, redact, redactText } from "./redact";
import type { ToolCallRecord, ToolErrorKind, ToolSource } from "./types";

/** The fields of one audit line. */
export interface ToolCallAudit {
  jobId: string;
  userId: string;
  /** The tool the model asked for (a name outside the tool-name rule is logged by its length). */
  tool: string;
  /** Where the tool came from; `unknown` when the model named no tool it was offered. */
  source: ToolSource | "unknown";
  durationMs: number;
  outcome: "ok" | ToolErrorKind;
  /** Bytes of UTF-8 of the input's JSON. */
  inputBytes: number;
  /** Bytes of UTF-8 of the result's JSON (or of the error message). */
  outputBytes: number;
}

/**
 * Logs one line `tool call` at INFO (WARN when the call failed) with the fields of `audit`:
 * who, which tool, how long, how it ended and how large its input and output were. No input or
 * output value is ever logged, so nothing a person or a tool put there (paths, keys, file
 * contents) can reach the log.
 */
export function auditToolCall(logger: Logger, audit: ToolCallAudit): void {
  const fields = {
    jobId: audit.jobId,
    userId: audit.userId,
    tool: TOOL_NAME_PATTERN.test(audit.tool)
      ? audit.tool
      : `invalid name of ${audit.tool.length} chars`,
    source: audit.source,
    durationMs: Math.round(audit.durationMs),
    outcome: audit.outcome,
    inputBytes: audit.inputBytes,
    outputBytes: audit.outputBytes,
  };
  if (audit.outcome === "ok") logger.info("tool call", fields);
  else logger.warn("tool call", fields);
}

/** What {@link toolCallRecord} builds a record from. */
export interface ToolCallOutcome {
  tool: string;
  input: unknown;
  durationMs: number;
  /** The result of a call that succeeded. */
  result?: unknown;
  /** Why it failed; `message` is what the model was told. */
  error?: { kind: ToolErrorKind; message: string };
}

/**
 * The {@link ToolCallRecord} of one call: input and result redacted (see `redact`), the input's
 * JSON cut to `TOOL_RECORD_INPUT_MAX_BYTES` (300) bytes and the result's (or the error message)
 * to `maxResultBytes`.
 *
 * @param maxResultBytes - result budget in bytes of UTF-8 (`TOOL_RESULT_MAX_BYTES`).
 */
export function toolCallRecord(
  call: ToolCallOutcome,
  maxResultBytes: number = TOOL_RESULT_MAX_BYTES.default,
): ToolCallRecord {
  const input = cutResult(redact(call.input ?? {}), TOOL_RECORD_INPUT_MAX_BYTES);
  const durationMs = Math.round(call.durationMs);
  if (call.error) {
    return {
      tool: call.tool,
      input,
      outcome: call.error.kind,
      result: cutResult(redactText(call.error.message), maxResultBytes),
      durationMs,
    };
  }
  return {
    tool: call.tool,
    input,
    outcome: "ok",
    result: cutResult(redact(call.result ?? null), maxResultBytes),
    durationMs,
  };
}
