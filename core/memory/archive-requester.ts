import { type ArchiveJob, DEFAULT_ARCHIVE_HIGH_WATER, staleRequestCutoff } from "./archival";
import type { ArchiveLedger } from "./archive-ledger";
import type { ConversationRef } from "./table/keys";

/**
 * Anything that accepts archive jobs. Declared here, beside the policy that produces the jobs,
 * so memory never depends on a transport; `core/queue/archive-queue.ts` implements it on SQS.
 */
export interface ArchiveJobSink {
  /** Enqueues one job. @throws the transport's error when the job was not accepted. */
  enqueue(job: ArchiveJob): Promise<void>;
}

/**
 * Enqueueing an archive job failed. `cause` is the transport's error, or
 * `[enqueueError, dynamoError]` when clearing the pending mark failed too; in that case the mark
 * expires on its own after `ARCHIVE_REQUEST_STALE_MS` and a later turn requests again.
 */
export class ArchiveEnqueueError extends Error {
  override readonly name = "ArchiveEnqueueError";
  constructor(
    /** Whether the pending mark on META was cleared, so the very next turn can retry. */
    readonly markCleared: boolean,
    options: { cause: unknown },
  ) {
    super(
      markCleared
        ? "could not enqueue the archive job; the pending mark was cleared"
        : "could not enqueue the archive job nor clear the pending mark",
      options,
    );
  }
}

/**
 * Asks for archival of one conversation; resolves `true` when a job was enqueued, `false`
 * when none was needed (not over the limit) or one is already pending (coalesced).
 */
export type ArchiveRequester = (conversation: ConversationRef) => Promise<boolean>;

/** Dependencies of {@link createArchiveRequester}. */
export interface ArchiveRequesterDeps {
  /** The META bookkeeping that holds the pending mark. */
  ledger: ArchiveLedger;
  /** Where jobs go (the archive queue). */
  queue: ArchiveJobSink;
  /** Epoch-ms clock. */
  now: () => number;
  /** `MEMORY_ARCHIVE_HIGH_WATER`; default {@link DEFAULT_ARCHIVE_HIGH_WATER}. */
  highWater?: number;
}

/**
 * Builds the coalescing archive requester: a conditional write on the conversation's META
 * (`archiveRequestedAt`, set only when the counter is over the high-water mark, default
 * {@link DEFAULT_ARCHIVE_HIGH_WATER}, and no fresh request is pending) decides, then the job is
 * enqueued. If enqueueing fails the mark is cleared again so the next turn can retry. See
 * `docs/architecture.md` (Memory lifecycle).
 *
 * @throws {ArchiveEnqueueError} when enqueueing failed; the DynamoDB error of the conditional
 *   write.
 */
export function createArchiveRequester(deps: ArchiveRequesterDeps): ArchiveRequester {
  const highWater = deps.highWater ?? DEFAULT_ARCHIVE_HIGH_WATER;
  return async (conversation) => {
    const nowMs = deps.now();
    const marked = await deps.ledger.markArchiveRequested(conversation, {
      nowMs,
      highWater,
      staleBeforeMs: staleRequestCutoff(nowMs),
    });
    if (!marked) return false;
    try {
      await deps.queue.enqueue({ v: 1, conversation, requestedAt: nowMs });
    } catch (error) {
      let markCleared = true;
      try {
        await deps.ledger.clearArchiveRequest(conversation, nowMs);
      } catch (clearError) {
        markCleared = false;
        throw new ArchiveEnqueueError(markCleared, { cause: [error, clearError] });
      }
      throw new ArchiveEnqueueError(markCleared, { cause: error });
    }
    return true;
  };
}
