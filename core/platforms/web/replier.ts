import type { ReplyTarget } from "../../chat/job";
import type { Replier } from "../../chat/replier";
import { modelFooter } from "../../chat/reply-text";
import { type LiveReply, toolStepLine } from "../../reply/live-reply";
import { type WebConversation, webReplyConversation } from "./job";

/**
 * Where the web replier sends what it shows: the local console's event hub, which passes it to
 * the pages and terminals watching that conversation (server-sent events).
 */
export interface WebReplySink {
  /** Text the model just wrote for `jobId`'s answer. */
  delta(conversation: WebConversation, jobId: string, text: string): void;
  /** A tool step of `jobId`'s turn as one line ("Running cloud upload… done (1.2 s)"). */
  status(conversation: WebConversation, jobId: string, line: string): void;
  /** The whole answer as shown (model footer or cut-off note included); the job is ending. */
  finished(conversation: WebConversation, jobId: string, text: string): void;
  /** A message outside any answer (e.g. an access refusal). */
  notice(conversation: WebConversation, text: string): void;
}

/**
 * The `web` platform's direct {@link Replier}: nothing is posted anywhere, every word is
 * handed to the {@link WebReplySink} at once (no pacing: it is an in-process call). Only the
 * local stack builds one; elsewhere a web job fails with `PlatformNotConfiguredError`.
 * Message ids are the job id (`post`: `notice`).
 */
export class WebReplier implements Replier {
  constructor(private readonly sink: WebReplySink) {}

  /** @throws {InvalidReplyAddressError} for an address without `user` and `channel`. */
  async post(target: ReplyTarget, text: string): Promise<{ messageId: string }> {
    this.sink.notice(webReplyConversation(target.address), text);
    return { messageId: "notice" };
  }

  /** @throws {InvalidReplyAddressError} for an address without `user` and `channel`. */
  async open(target: ReplyTarget, job: { jobId: string }): Promise<LiveReply> {
    const conversation = webReplyConversation(target.address);
    const { sink } = this;
    return {
      state: "open",
      append(delta) {
        if (delta) sink.delta(conversation, job.jobId, delta);
      },
      progress(step) {
        sink.status(conversation, job.jobId, toolStepLine(step));
      },
      async finish(text) {
        sink.finished(conversation, job.jobId, text);
        return { messageId: job.jobId };
      },
    };
  }

  /** The console shows no Approve / Deny buttons. */
  canAskApproval(): boolean {
    return false;
  }
}

/**
 * The model an answer fell back from, read from its footer (`_gpt-5.4 · fell back from
 * claude-sonnet-5-5_`, see `modelFooter`): `undefined` when the shown text does not end with a
 * fallback footer for `model`. The turn's `ReplyRecord` names the model but not the fallback.
 */
export function fellBackFromFooter(shown: string, model: string): string | undefined {
  const marker = "\u0000";
  const [before = "", after = ""] = modelFooter(model, marker).split(marker);
  const last = shown.slice(shown.lastIndexOf("\n\n") + 2);
  if (!last.startsWith(before) || !last.endsWith(after)) return undefined;
  const from = last.slice(before.length, last.length - after.length);
  return from.length > 0 && !from.includes("\n") ? from : undefined;
}
