/**
 * The gap in "post at most once per job" that a storage outage opens: the reply was posted, but
 * the record saying so could not be written (docs/reliability/faults.md, "DynamoDB stopped
 * mid-run"). Without this, the job's redelivery finds its idempotency record still in progress,
 * fails until that expires, and then answers and posts a second time.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { ChatJob } from "./job";
import type { AnswerAndPost, ReplyRecord } from "./turn";

/** Most posted-but-unrecorded replies a container remembers; the oldest is forgotten first. */
export const MAX_UNRECORDED_REPLIES = 1_000;

/** Dependencies of {@link rememberUnrecordedReplies}. */
export interface UnrecordedRepliesDeps {
  /**
   * Writes the finished record of `job` with `reply` (what the wrapped `once` would have
   * written), so later redeliveries, in any container, find it.
   * @throws the store's error while it is still unreachable.
   */
  record(job: ChatJob, reply: ReplyRecord): Promise<void>;
  logger: Logger;
  /** Default {@link MAX_UNRECORDED_REPLIES}. */
  maxEntries?: number;
}

/**
 * Wraps an "at most once per job" decorator (`ChatTurnDeps.once`) so that a reply whose post
 * succeeded but whose record failed is kept in memory, by job id. The job still fails (the
 * turn cannot be stored either while the table is down) and the queue redelivers it; that
 * redelivery, in the same container, writes the record with `deps.record` and returns the
 * remembered reply without calling the model or posting again, so the turn is stored once the
 * table is back. A redelivery in another container is not covered (the memory is per
 * container); the local stack is one process.
 */
export function rememberUnrecordedReplies(
  once: (fn: AnswerAndPost) => AnswerAndPost,
  deps: UnrecordedRepliesDeps,
): (fn: AnswerAndPost) => AnswerAndPost {
  const unrecorded = new Map<string, ReplyRecord>();
  const maxEntries = deps.maxEntries ?? MAX_UNRECORDED_REPLIES;
  return (fn) => {
    // Replies produced by calls still inside `once`, so a failure after the post is told
    // apart from one before it.
    const produced = new Map<string, ReplyRecord>();
    const guarded = once(async (job, head) => {
      const reply = await fn(job, head);
      produced.set(job.jobId, reply);
      return reply;
    });
    return async (job, head) => {
      const known = unrecorded.get(job.jobId);
      if (known) {
        await deps.record(job, known);
        unrecorded.delete(job.jobId);
        deps.logger.info("reply record written on redelivery; not posting again", {
          jobId: job.jobId,
          messageId: known.messageId,
        });
        return known;
      }
      try {
        return await guarded(job, head);
      } catch (error) {
        const reply = produced.get(job.jobId);
        if (reply) {
          unrecorded.set(job.jobId, reply);
          if (unrecorded.size > maxEntries) {
            unrecorded.delete(unrecorded.keys().next().value as string);
          }
          deps.logger.warn("reply posted but not recorded; its redelivery will not post again", {
            jobId: job.jobId,
            messageId: reply.messageId,
          });
        }
        throw error;
      } finally {
        produced.delete(job.jobId);
      }
    };
  };
}
