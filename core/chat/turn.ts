import type { Logger } from "@aws-lambda-powertools/logger";
import { DEFAULT_LOOP_BOUNDS, type LoopBounds, runAgentLoop } from "../agent/loop";
import type { Toolbox } from "../agent/types";
import { parseModelDirective } from "../llm/models";
import type { Completion, Streamer } from "../llm/types";
import { contextLimit, DEFAULT_ARCHIVE_HIGH_WATER } from "../memory/archival";
import type { ArchiveRequester } from "../memory/archive-requester";
import type { ConversationHead, NewMessage } from "../memory/conversation-items";
import type { ConversationStore } from "../memory/conversations";
import type { PreferenceStore } from "../memory/preferences";
import type { Recall } from "../memory/recall";
import { type ReplyRecord, settleReply } from "./agent-reply";
import { type ApprovalDeps, pauseForApproval, resumeAfterDecision } from "./approval-turn";
import type { ChatJob } from "./job";
import { buildMessages, buildSystemPrompt } from "./prompt";
import type { Replier } from "./replier";
import type { Spend } from "./spend";

export { FAILURE_REPLY, type ReplyRecord, UNCONFIGURED_REPLY } from "./agent-reply";

/** Dependencies of {@link createChatTurn}. */
export interface ChatTurnDeps {
  conversations: ConversationStore;
  preferences: PreferenceStore;
  /** The provider manager's streaming call (`createProviderManager`). */
  llm: Streamer;
  replier: Replier;
  /** `REPLY_MODEL_FOOTER`: end each answer with the model's name (default `true`). */
  modelFooter?: boolean;
  logger: Logger;
  now: () => number;
  /**
   * Makes "answer and post" run at most once per `jobId` (the first argument) and return the
   * cached {@link ReplyRecord} on redelivery (Powertools idempotency in production). Identity
   * in unit tests that do not exercise redelivery.
   */
  once: (fn: AnswerAndPost) => AnswerAndPost;
  /**
   * Live messages above which a turn requests archival (`MEMORY_ARCHIVE_HIGH_WATER`); also
   * sets how many recent messages a turn reads (`contextLimit`). Default
   * {@link DEFAULT_ARCHIVE_HIGH_WATER}.
   */
  archiveHighWater?: number;
  /**
   * Archived summaries relevant to the new message, within the recall budget (see
   * `createRecall`; never rejects). Absent: no long-term recall.
   */
  recall?: Recall;
  /**
   * Puts one archive job on the archive queue once the conversation holds more live messages
   * than the high-water mark (coalesced per conversation, see `createArchiveRequester`).
   * Absent: no archival.
   */
  requestArchival?: ArchiveRequester;
  /**
   * The daily token budget check before the model call and the token accounting after it
   * (`createSpend`). Absent: no budget and no accounting.
   */
  spend?: Spend;
  /**
   * The tools the model may call (`createToolbox`). Absent: the model only talks (one round,
   * no tools).
   */
  toolbox?: Toolbox;
  /** The agent loop's bounds (`AGENT_MAX_ROUNDS`, …); default {@link DEFAULT_LOOP_BOUNDS}. */
  loopBounds?: LoopBounds;
  /**
   * Pending approvals of risky tool calls. Absent: tools that need approval are never offered.
   */
  approvals?: ApprovalDeps;
}

/**
 * The part of a turn that runs at most once per job: read memory, ask the model, post. `head`
 * is META, read by the turn before (its running summary goes into the prompt).
 */
export type AnswerAndPost = (job: ChatJob, head: Promise<ConversationHead>) => Promise<ReplyRecord>;

/**
 * The agent turn for one chat job: read META (the conversation's running summary and sequence),
 * the live messages (all of them, up to `contextLimit`), the user's preferences and the archived
 * summaries relevant to the new message (recall; a search failure means no recall, never a
 * failed turn), pick the model (`[model]` in the text, else the `model` preference, else the
 * default), stream the provider manager's answer into the platform's live reply (opened
 * first, so the person sees at once that the agent is working), finish it with the model
 * footer, and store the question and the answer under the conversation's next two sequence
 * numbers, adjacent. Token usage from the stream's final event is logged and counted.
 *
 * Failure behaviour: if every provider fails (or none is configured) before the first word the
 * user gets a short explanation and the job completes (no endless retries); the error is logged
 * with its cause, and only the question is stored. A stream that fails after its first words
 * ends the one message with {@link CUT_OFF_NOTE}; that answer is stored. A Discord job whose
 * interaction token has expired is not answered (`expired`, nothing stored). Errors from the platform or DynamoDB propagate so the queue
 * redelivers the job; a redelivered job never posts a second time (see
 * {@link ChatTurnDeps.once}) and finds its turn marker, so nothing is stored twice either. A
 * turn that leaves the conversation above the high-water mark requests one archive job
 * (coalesced). With {@link ChatTurnDeps.spend}, a user whose daily token budget is used up gets
 * the refusal with the reset time instead: no memory read, no model call, nothing stored.
 */
export function createChatTurn(deps: ChatTurnDeps): (job: ChatJob) => Promise<ReplyRecord> {
  const highWater = deps.archiveHighWater ?? DEFAULT_ARCHIVE_HIGH_WATER;
  const loopDeps = {
    llm: deps.llm,
    bounds: deps.loopBounds ?? DEFAULT_LOOP_BOUNDS,
    logger: deps.logger,
    now: deps.now,
  };
  const countTokens = async (completion: Completion, job: ChatJob) => {
    await deps.spend?.record(completion, job.conversation);
  };
  const approvalTurn =
    deps.approvals && deps.toolbox
      ? {
          approvals: deps.approvals,
          replier: deps.replier,
          toolbox: deps.toolbox,
          loop: loopDeps,
          logger: deps.logger,
          now: deps.now,
          modelFooter: deps.modelFooter ?? true,
          onRound: countTokens,
        }
      : undefined;
  const answerAndPost = deps.once(async (job, headRead) => {
    if (job.source.kind === "approval") {
      if (!approvalTurn) throw new Error("a decision job reached a worker without approvals");
      return resumeAfterDecision(approvalTurn, { ...job, source: job.source }, () =>
        deps.replier.open(job.reply, { jobId: job.jobId, sentAt: job.sentAt }),
      );
    }
    // First, so the person sees at once that the agent is working.
    const live = await deps.replier.open(job.reply, { jobId: job.jobId, sentAt: job.sentAt });
    if (live.state === "expired") {
      return { outcome: "expired", text: "", messageId: "", postedAt: deps.now() };
    }
    // Before any memory read or model call: an exhausted budget costs one counter read.
    const refusal = await deps.spend?.refusal(job.conversation);
    if (refusal !== undefined) {
      const posted = await live.finish(refusal);
      return {
        outcome: "over_budget",
        text: refusal,
        messageId: posted.messageId,
        postedAt: deps.now(),
      };
    }
    const directive = parseModelDirective(job.text);
    const [head, history, preferences, recalled] = await Promise.all([
      headRead,
      deps.conversations.recent(job.conversation, contextLimit(highWater)),
      deps.preferences.getAll(job.conversation.platform, job.conversation.userId),
      deps.recall ? deps.recall(job.conversation, directive.text) : [],
    ]);
    const model = directive.model ?? preferences.model;
    const canAskApproval =
      approvalTurn !== undefined && (deps.replier.canAskApproval?.(job.reply) ?? false);
    const tools = deps.toolbox ? await deps.toolbox.toolsFor({ canAskApproval }) : [];
    const outcome = await runAgentLoop(loopDeps, {
      context: { conversation: job.conversation, jobId: job.jobId },
      ...(model ? { model } : {}),
      system: buildSystemPrompt({ runningSummary: head.runningSummary?.text, recalled }),
      messages: buildMessages(history, directive.text),
      tools,
      onText: (delta) => live.append(delta),
      onStep: (step) => live.progress?.(step),
      onRound: (completion) => countTokens(completion, job),
    });
    if (outcome.kind === "paused") {
      if (!approvalTurn)
        throw new Error("a tool that needs approval was offered without approvals");
      return pauseForApproval(approvalTurn, job, live, outcome);
    }
    return settleReply(outcome, live, {
      jobId: job.jobId,
      logger: deps.logger,
      now: deps.now,
      modelFooterOn: deps.modelFooter ?? true,
    });
  });

  return async (job) => {
    const headRead = deps.conversations.head(job.conversation);
    // Awaited below; this only keeps a rejection from going unhandled if `once` throws first.
    headRead.catch(() => undefined);
    const reply = await answerAndPost(job, headRead);
    // A refused turn stores nothing, not even the question: it was never answered, and it
    // would come back as context after the reset (docs/reliability/spend.md). Nor does one
    // that came too late to be answered.
    if (reply.outcome === "over_budget" || reply.outcome === "expired") return reply;
    // A decision job continues a turn whose question is stored already.
    const messages: NewMessage[] =
      job.source.kind === "approval"
        ? []
        : [{ role: "user", content: parseModelDirective(job.text).text, sentAt: job.sentAt }];
    // An apology is not part of the conversation; storing it would feed it back as context.
    // A cut-off answer is: the person read it.
    if (
      reply.outcome === "answered" ||
      reply.outcome === "cut_off" ||
      reply.outcome === "awaiting_approval"
    ) {
      messages.push({
        role: "assistant",
        content: reply.text,
        sentAt: reply.postedAt,
        ...(reply.model ? { model: reply.model } : {}),
        ...(reply.actions?.length ? { actions: reply.actions } : {}),
      });
    }
    if (messages.length === 0) return reply;
    const stored = await deps.conversations.appendTurn(
      job.conversation,
      { jobId: job.jobId, messages, nowMs: deps.now() },
      await headRead,
    );
    if (deps.requestArchival && stored.stored && stored.messageCount > highWater) {
      // The reply is posted and both turns are stored: a failed request must not fail the
      // job (a retry would only repeat the request). The next turn asks again.
      try {
        await deps.requestArchival(job.conversation);
      } catch (error) {
        deps.logger.error("could not request archival; the next turn will", {
          jobId: job.jobId,
          error,
        });
      }
    }
    deps.logger.info("chat turn done", {
      jobId: job.jobId,
      outcome: reply.outcome,
      model: reply.model,
      inputTokens: reply.tokens?.input,
      outputTokens: reply.tokens?.output,
      toolCalls: reply.actions?.length ?? 0,
      stored: stored.stored,
    });
    return reply;
  };
}
