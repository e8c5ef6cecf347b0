import type { Logger } from "@aws-lambda-powertools/logger";
import { parseModelDirective } from "../llm/models";
import type { ChatMessage, Completion, LlmErrorKind } from "../llm/types";
import type { ConversationStore } from "../memory/conversations";
import { deterministicMessageId } from "../memory/keys";
import type { PreferenceStore } from "../memory/preferences";
import type { Recall } from "../memory/recall";
import type { ArchiveRequester } from "../queue/archive-queue";
import type { ChatJob } from "./job";
import { buildMessages, buildSystemPrompt } from "./prompt";
import type { Replier } from "./replier";

/** The slice of the provider manager the turn uses. */
export interface Completer {
  complete(input: {
    model?: string;
    system: string;
    messages: ChatMessage[];
  }): Promise<
    { ok: true; completion: Completion } | { ok: false; error: Error & { kind: LlmErrorKind } }
  >;
}

/** What one answered job produced; cached by the reply idempotency layer. */
export interface ReplyRecord {
  /** `answered` when a model produced the text; otherwise the text is our apology. */
  outcome: "answered" | "unconfigured" | "failed";
  text: string;
  model?: string;
  /** Platform id of the first posted message. */
  messageId: string;
  /** When the reply was posted, epoch milliseconds. */
  postedAt: number;
}

/** Dependencies of {@link createChatTurn}. */
export interface ChatTurnDeps {
  conversations: ConversationStore;
  preferences: PreferenceStore;
  llm: Completer;
  replier: Replier;
  logger: Logger;
  now: () => number;
  /**
   * Makes "answer and post" run at most once per `jobId` and return the cached
   * {@link ReplyRecord} on redelivery (Powertools idempotency in production). Identity in
   * unit tests that do not exercise redelivery.
   */
  once: (fn: (job: ChatJob) => Promise<ReplyRecord>) => (job: ChatJob) => Promise<ReplyRecord>;
  /**
   * Archived summaries relevant to the new message, within the recall budget (see
   * `createRecall`; never rejects). Absent: no long-term recall.
   */
  recall?: Recall;
  /**
   * Puts one archive job on the archive queue once the conversation holds more than 20
   * messages (coalesced per conversation, see `createArchiveRequester`). Absent: no archival.
   */
  requestArchival?: ArchiveRequester;
}

/** Text posted when no provider is configured at all. */
export const UNCONFIGURED_REPLY =
  "I can't answer yet: no language model is configured. An operator needs to set " +
  "ANTHROPIC_API_KEY (Claude) or MODEL_MANAGER_BASE_URL (an OpenAI-compatible gateway).";

/** Text posted when every provider failed. */
export const FAILURE_REPLY =
  "Sorry, I couldn't reach a language model just now. Please try again in a minute.";

/**
 * The agent turn for one chat job: load the last messages, the user's preferences and the
 * archived summaries relevant to the new message (recall; a search failure means no recall,
 * never a failed turn), pick the model (`[model]` in the text, else the `model` preference,
 * else the default), ask the provider manager, post the answer where the message came from,
 * and store both turns.
 *
 * Failure behaviour: if every provider fails (or none is configured) the user gets a short
 * explanation and the job completes (no endless retries); the error is logged with its cause.
 * Errors from the platform or DynamoDB propagate so the queue redelivers the job; a
 * redelivered job never posts a second time (see {@link ChatTurnDeps.once}) and stores the
 * turns under deterministic ids, so nothing is stored twice either. After storing, a
 * conversation past 20 messages gets one archive job (coalesced).
 */
export function createChatTurn(deps: ChatTurnDeps): (job: ChatJob) => Promise<ReplyRecord> {
  const answerAndPost = deps.once(async (job: ChatJob): Promise<ReplyRecord> => {
    const directive = parseModelDirective(job.text);
    const [history, preferences, recalled] = await Promise.all([
      deps.conversations.recent(job.conversation),
      deps.preferences.getAll(job.conversation.platform, job.conversation.userId),
      deps.recall ? deps.recall(job.conversation, directive.text) : [],
    ]);
    const model = directive.model ?? preferences.model;
    const result = await deps.llm.complete({
      ...(model ? { model } : {}),
      system: buildSystemPrompt(recalled),
      messages: buildMessages(history, directive.text),
    });
    let outcome: ReplyRecord["outcome"] = "answered";
    let text: string;
    if (result.ok) {
      text = result.completion.text.trim() || "(the model returned an empty answer)";
    } else {
      outcome = result.error.kind === "unconfigured" ? "unconfigured" : "failed";
      text = outcome === "unconfigured" ? UNCONFIGURED_REPLY : FAILURE_REPLY;
      deps.logger.error("no model answered; apologising", {
        jobId: job.jobId,
        kind: result.error.kind,
        error: result.error,
      });
    }
    const posted = await deps.replier.post(job.reply, text);
    return {
      outcome,
      text,
      ...(result.ok ? { model: result.completion.model } : {}),
      messageId: posted.messageId,
      postedAt: deps.now(),
    };
  });

  return async (job) => {
    const reply = await answerAndPost(job);
    const userText = parseModelDirective(job.text).text;
    await deps.conversations.append(job.conversation, {
      messageId: deterministicMessageId(job.sentAt, `${job.jobId}#user`),
      role: "user",
      content: userText,
      createdAt: job.sentAt,
    });
    // An apology is not part of the conversation; storing it would feed it back as context.
    if (reply.outcome === "answered") {
      await deps.conversations.append(job.conversation, {
        messageId: deterministicMessageId(
          Math.max(reply.postedAt, job.sentAt + 1),
          `${job.jobId}#assistant`,
        ),
        role: "assistant",
        content: reply.text,
        createdAt: reply.postedAt,
        ...(reply.model ? { model: reply.model } : {}),
      });
    }
    if (deps.requestArchival) {
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
    });
    return reply;
  };
}
