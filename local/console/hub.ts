import type { ChatJob } from "../../core/chat/job";
import { type WebConversation, webReplyConversation } from "../../core/platforms/web/job";
import { fellBackFromFooter, type WebReplySink } from "../../core/platforms/web/replier";

/**
 * What the console's event stream (`GET /console/api/events`, server-sent events named by
 * `type`) carries for one conversation:
 * - `delta`: words of `jobId`'s answer as the model writes them;
 * - `status`: a progress line of `jobId` (a tool call's step, or that the turn failed and will
 *   be retried);
 * - `done`: `jobId` is answered and stored: `text` without the model footer, the `model` that
 *   answered and the one it `fellBackFrom` (read from the footer, so absent with
 *   `REPLY_MODEL_FOOTER=false`), the turn's `outcome` (`ReplyRecord.outcome`, or `refused`);
 * - `notice`: a message outside any answer.
 */
export type ConsoleEvent =
  | { type: "delta"; jobId: string; text: string }
  | { type: "status"; jobId: string; line: string }
  | {
      type: "done";
      jobId: string;
      text: string;
      model?: string;
      fellBackFrom?: string;
      outcome: string;
    }
  | { type: "notice"; text: string };

/** The parts of a worker result the `done` event reports (`ReplyRecord`, `AccessRefused`). */
export interface JobResult {
  outcome: string;
  text?: string;
  model?: string;
}

/** Finished texts kept for their `done` event at most; a job that never reports is dropped. */
const MAX_PENDING_FINISHED = 1_000;

/**
 * The local stack's in-process event hub: the web replier publishes into it, and every page
 * or terminal subscribed to a conversation receives that conversation's events, in order.
 * Nothing is kept for late subscribers: a client subscribes before it sends.
 */
export class ConsoleHub implements WebReplySink {
  private readonly listeners = new Map<string, Set<(event: ConsoleEvent) => void>>();
  private readonly finishedTexts = new Map<string, string>();
  private readonly closers = new Set<() => unknown>();

  /**
   * Calls `listener` with every event of `conversation` from now on.
   * @returns the function that unsubscribes it.
   */
  subscribe(conversation: WebConversation, listener: (event: ConsoleEvent) => void): () => void {
    const key = keyOf(conversation);
    let set = this.listeners.get(key);
    if (!set) {
      set = new Set();
      this.listeners.set(key, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(key);
    };
  }

  /**
   * Calls `closer` on {@link ConsoleHub.close} (an open event stream, so the HTTP server can
   * stop). @returns the function that unregisters it.
   */
  onClose(closer: () => unknown): () => void {
    this.closers.add(closer);
    return () => this.closers.delete(closer);
  }

  /** Ends every open event stream (the stack is stopping). */
  async close(): Promise<void> {
    const closers = [...this.closers];
    this.closers.clear();
    await Promise.allSettled(closers.map(async (close) => close()));
  }

  /** See {@link WebReplySink.delta}. */
  delta(conversation: WebConversation, jobId: string, text: string): void {
    this.publish(conversation, { type: "delta", jobId, text });
  }

  /** See {@link WebReplySink.status}. */
  status(conversation: WebConversation, jobId: string, line: string): void {
    this.publish(conversation, { type: "status", jobId, line });
  }

  /** Keeps the shown text until the job reports (its footer names a fallback). */
  finished(_conversation: WebConversation, jobId: string, text: string): void {
    if (this.finishedTexts.size >= MAX_PENDING_FINISHED) {
      const oldest = this.finishedTexts.keys().next().value;
      if (oldest !== undefined) this.finishedTexts.delete(oldest);
    }
    this.finishedTexts.set(jobId, text);
  }

  /** See {@link WebReplySink.notice}. */
  notice(conversation: WebConversation, text: string): void {
    this.publish(conversation, { type: "notice", text });
  }

  /** Publishes `done` for a web job the worker finished (answered and stored, or refused). */
  report(job: ChatJob, result: JobResult): void {
    const conversation = conversationOf(job);
    if (!conversation) return;
    const shown = this.finishedTexts.get(job.jobId);
    this.finishedTexts.delete(job.jobId);
    const fellBackFrom =
      shown !== undefined && result.model ? fellBackFromFooter(shown, result.model) : undefined;
    this.publish(conversation, {
      type: "done",
      jobId: job.jobId,
      text: result.text ?? "",
      ...(result.model ? { model: result.model } : {}),
      ...(fellBackFrom ? { fellBackFrom } : {}),
      outcome: result.outcome,
    });
  }

  /** Publishes a `status` line for a web job whose turn threw (the queue redelivers it). */
  failed(job: ChatJob): void {
    const conversation = conversationOf(job);
    if (!conversation) return;
    this.publish(conversation, {
      type: "status",
      jobId: job.jobId,
      line: "the answer failed; the queue will try again",
    });
  }

  private publish(conversation: WebConversation, event: ConsoleEvent): void {
    for (const listener of this.listeners.get(keyOf(conversation)) ?? []) listener(event);
  }
}

/**
 * `runJob` that reports each web job's end to `hub` (`done`, or a `status` line when it
 * throws); other platforms' jobs pass through untouched.
 */
export function reportingTo<R extends JobResult>(
  hub: ConsoleHub,
  runJob: (job: ChatJob) => Promise<R>,
): (job: ChatJob) => Promise<R> {
  return async (job) => {
    if (job.reply.platform !== "web") return runJob(job);
    try {
      const result = await runJob(job);
      hub.report(job, result);
      return result;
    } catch (error) {
      hub.failed(job);
      throw error;
    }
  };
}

function conversationOf(job: ChatJob): WebConversation | undefined {
  if (job.reply.platform !== "web") return undefined;
  try {
    return webReplyConversation(job.reply.address);
  } catch {
    return undefined;
  }
}

function keyOf(c: WebConversation): string {
  return `${c.channel}#${c.user}`;
}
