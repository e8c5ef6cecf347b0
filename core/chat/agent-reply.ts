/**
 * How a run of the agent loop becomes the reply the person sees and the {@link ReplyRecord}
 * the turn stores (README, "What people see"): the answer with its model footer, an answer cut
 * off with a note, or our apology.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { LoopOutcome } from "../agent/loop";
import type { ToolCallRecord } from "../agent/types";
import type { LiveReply } from "../reply/live-reply";
import { CUT_OFF_NOTE, modelFooter, withLastParagraph } from "./reply-text";

/** What one answered job produced; cached by the reply idempotency layer. */
export interface ReplyRecord {
  /**
   * `answered` when a model produced the text; `cut_off` when its stream failed after the first
   * words or after tools ran (the text is what was shown, ended with {@link CUT_OFF_NOTE});
   * `awaiting_approval` when a tool call waits for the person's Approve (the text is what was
   * shown and the request; the answer comes with the resumed job); `over_budget` when the
   * user's daily token budget was used up (the text says when it resets; nothing of the turn is
   * stored); `expired` when the platform no longer accepted a reply when the job started (a
   * Discord interaction token past its 15 minutes; no model call, nothing stored); otherwise
   * the text is our apology.
   */
  outcome:
    | "answered"
    | "cut_off"
    | "awaiting_approval"
    | "unconfigured"
    | "failed"
    | "over_budget"
    | "expired";
  /** The answer as stored, without the model footer. */
  text: string;
  model?: string;
  /** Tokens the model reported for the turn, all rounds (the streams' final usage events). */
  tokens?: { input: number; output: number };
  /** The tool calls made, redacted and cut (stored with the answer). */
  actions?: ToolCallRecord[];
  /** Platform id of the first posted message ("" when nothing was posted). */
  messageId: string;
  /** When the reply was posted, epoch milliseconds. */
  postedAt: number;
}

/** Text posted when no provider is configured at all. */
export const UNCONFIGURED_REPLY =
  "I can't answer yet: no language model is configured. An operator needs to set " +
  "ANTHROPIC_API_KEY (Claude) or MODEL_MANAGER_BASE_URL (an OpenAI-compatible gateway).";

/** Text posted when every provider failed. */
export const FAILURE_REPLY =
  "Sorry, I couldn't reach a language model just now. Please try again in a minute.";

/** Shown for an answer whose model said nothing. */
export const EMPTY_ANSWER = "(the model returned an empty answer)";

/**
 * Finishes the live reply for a loop that `answered` or `failed` (a `paused` loop is the
 * approval flow's) and describes it.
 * @param modelFooterOn - `REPLY_MODEL_FOOTER`.
 * @throws the platform client's error from `live.finish` (the queue redelivers the job).
 */
export async function settleReply(
  outcome: Exclude<LoopOutcome, { kind: "paused" }>,
  live: LiveReply,
  context: { jobId: string; logger: Logger; now: () => number; modelFooterOn: boolean },
): Promise<ReplyRecord> {
  let record: Omit<ReplyRecord, "messageId" | "postedAt">;
  let footer: string | undefined;
  if (outcome.kind === "answered") {
    const { completion } = outcome;
    record = {
      outcome: "answered",
      text: completion.text.trim() || EMPTY_ANSWER,
      model: completion.model,
      tokens: { input: completion.inputTokens, output: completion.outputTokens },
    };
    if (context.modelFooterOn) footer = modelFooter(completion.model, outcome.fellBackFrom);
    if (outcome.bounded) {
      context.logger.warn("the agent loop hit a bound; the model answered without tools", {
        jobId: context.jobId,
        bound: outcome.bounded,
        toolCalls: outcome.actions.length,
      });
    }
  } else if (outcome.cutOff) {
    record = {
      outcome: "cut_off",
      text: withLastParagraph(outcome.partialText.trimEnd(), CUT_OFF_NOTE).trim(),
      ...(outcome.model ? { model: outcome.model } : {}),
      tokens: outcome.tokens,
    };
    context.logger.error("the model stopped mid-answer; ending the reply with a note", {
      jobId: context.jobId,
      kind: outcome.error.kind,
      shownChars: outcome.partialText.length,
      toolCalls: outcome.actions.length,
      error: outcome.error,
    });
  } else {
    const unconfigured = outcome.error.kind === "unconfigured";
    record = {
      outcome: unconfigured ? "unconfigured" : "failed",
      text: unconfigured ? UNCONFIGURED_REPLY : FAILURE_REPLY,
    };
    context.logger.error("no model answered; apologising", {
      jobId: context.jobId,
      kind: outcome.error.kind,
      error: outcome.error,
    });
  }
  const posted = await live.finish(withLastParagraph(record.text, footer));
  return {
    ...record,
    ...(outcome.actions.length ? { actions: outcome.actions } : {}),
    messageId: posted.messageId,
    postedAt: context.now(),
  };
}
