/**
 * The jobs that resume a turn paused for the person's Approve / Deny (docs/architecture.md,
 * "The agent turn"): one chat job per decision, built from the paused turn's own job. A click's
 * job has the id `approval:{approvalId}`, so a redelivery is one job to the worker's reply
 * idempotency (and `ApprovalStore.decide` lets only one click through, `claimRun` one run).
 * The expiry's job has an id of its own, `approval:{approvalId}:expire:{seconds}`: it may be
 * processed before a click's job that is still queued, which must not then count as done.
 */
import { SQS_MAX_DELAY_SECONDS } from "../constants/timings";
import { type ChatJob, chatJobSchema, type ReplyTarget } from "./job";

/** What a decision job says: Approve, Deny, or nobody decided in time. */
export type ApprovalJobDecision = "approve" | "deny" | "expire";

/**
 * The job id of a resume job: `approval:{approvalId}` for a click,
 * `approval:{approvalId}:expire:{delaySeconds}` for an expiry scheduled `delaySeconds` ahead
 * (each re-scheduling of a TTL over 900 s has fewer seconds left, hence an id of its own).
 */
export function approvalJobId(
  approvalId: string,
  decision: ApprovalJobDecision,
  delaySeconds = 0,
): string {
  return decision === "expire"
    ? `approval:${approvalId}:expire:${delaySeconds}`
    : `approval:${approvalId}`;
}

/**
 * The job that resumes the paused turn of `approvalId`: the original job's conversation, text
 * and `sentAt`, with source `{kind: "approval", approvalId, decision}` and job id
 * {@link approvalJobId} (`remainingSeconds` only for `expire`: the seconds until `expiresAt`).
 * `sentAt` replaces the original's when the new reply's life starts at the click (Discord: the
 * replier measures the token's 15 minutes from `sentAt`). `reply` replaces the original's (Discord: the button interaction's own
 * token, valid 15 minutes from the click, where the original `/ask` token may be nearly spent).
 * @param originalJob - the paused job's JSON as stored with the approval (`ApprovalRecord.job`).
 * @throws {z.ZodError} when `originalJob` is not a valid chat job, or the result is not one.
 * @throws {SyntaxError} when `originalJob` is not JSON.
 */
export function approvalResumeJob(
  originalJob: string,
  approvalId: string,
  decision: ApprovalJobDecision,
  options: { reply?: ReplyTarget; sentAt?: number; remainingSeconds?: number } = {},
): ChatJob {
  const original = chatJobSchema.parse(JSON.parse(originalJob));
  return chatJobSchema.parse({
    ...original,
    jobId: approvalJobId(approvalId, decision, options.remainingSeconds),
    source: { kind: "approval", approvalId, decision },
    reply: options.reply ?? original.reply,
    sentAt: options.sentAt ?? original.sentAt,
  });
}

/** A chat queue that can hold a job back (SQS `DelaySeconds`); `SqsChatQueue` is one. */
export interface DelayingJobSink {
  enqueue(job: ChatJob, options: { delaySeconds: number }): Promise<void>;
}

/**
 * Enqueues the expiry of `approvalId`: its `expire` resume job, invisible for
 * ceil(`delayMs` / 1000) seconds, at most SQS's 900 (`SQS_MAX_DELAY_SECONDS`), with the job id
 * `approval:{approvalId}:expire:{ceil(delayMs / 1000)}`. When `delayMs`
 * is longer, the job arrives early: `ApprovalStore.expire` answers `not_due` and the worker
 * schedules the rest the same way.
 * @param originalJob - the paused job's JSON (`ApprovalRecord.job`).
 * @returns the delay asked for, seconds.
 * @throws what {@link approvalResumeJob} throws; the queue's error when it refused the job.
 */
export async function scheduleApprovalExpiry(
  sink: DelayingJobSink,
  originalJob: string,
  approvalId: string,
  delayMs: number,
): Promise<number> {
  const remainingSeconds = Math.max(0, Math.ceil(delayMs / 1000));
  const delaySeconds = Math.min(SQS_MAX_DELAY_SECONDS, remainingSeconds);
  const job = approvalResumeJob(originalJob, approvalId, "expire", { remainingSeconds });
  await sink.enqueue(job, { delaySeconds });
  return delaySeconds;
}
