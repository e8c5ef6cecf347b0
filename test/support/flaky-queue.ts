import type { ChatJob } from "../../core/chat/job";
import type { ChatJobSink } from "../../core/queue/chat-queue";

/**
 * A chat queue whose first `failures` enqueues throw `queue down`; the jobs it takes after
 * that are in `accepted`, in order.
 */
export function flakyQueue(failures: number): ChatJobSink & { accepted: ChatJob[] } {
  let left = failures;
  const accepted: ChatJob[] = [];
  return {
    accepted,
    async enqueue(job) {
      if (left-- > 0) throw new Error("queue down");
      accepted.push(job);
    },
  };
}
