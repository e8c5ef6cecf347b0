import * as z from "zod";
import { CONVERSATION_ID_MAX_CHARS } from "../constants/limits";
import { ARCHIVE_KEEP_MESSAGES, DEFAULT_ARCHIVE_HIGH_WATER } from "../constants/memory";
import { PLATFORMS } from "../constants/platforms";
import { ARCHIVE_VISIBILITY_TIMEOUT_MS, ARCHIVER_TIMEOUT_MS } from "../constants/timings";

/**
 * The archival policy as numbers and pure decisions. The I/O lives in `archiver.ts` (the job),
 * `archive-ledger.ts` (the META bookkeeping) and `archive-requester.ts` (the coalesced request);
 * the whole lifecycle is described in `docs/architecture.md` (Memory lifecycle).
 */

/** The archive thresholds, declared in `core/constants/memory.ts` (configuration reads them). */
export { ARCHIVE_KEEP_MESSAGES, DEFAULT_ARCHIVE_HIGH_WATER };

/**
 * Live messages a turn may read beyond the high-water mark: the turns stored while an archive
 * job waits in the queue or runs. Archival normally lags by a turn or two; more means it is
 * failing (the DLQ alarm), and the oldest live messages then drop out of the context.
 */
export const CONTEXT_LAG_MESSAGES = 10;

/**
 * How many recent messages a turn reads: every live message (the running summary covers the
 * archived ones, so nothing falls between the two), bounded by the high-water mark plus
 * {@link CONTEXT_LAG_MESSAGES}.
 */
export function contextLimit(highWater: number): number {
  return highWater + CONTEXT_LAG_MESSAGES;
}

/**
 * Most messages folded into one summary. Each chunk is committed by one DynamoDB transaction
 * (one delete per message plus the META update), and a transaction holds at most 100 actions,
 * so this must stay below 100; 50 also keeps one summarisation prompt small.
 */
export const ARCHIVE_CHUNK_MAX_MESSAGES = 50;

/**
 * How long an archiver's lease on a conversation lasts from its last renewal, ms: the
 * function's timeout (`ARCHIVER_TIMEOUT_MS`, `core/constants/timings.ts`), so a lease outlives
 * only an invocation that is already dead.
 */
export const ARCHIVE_LEASE_MS = ARCHIVER_TIMEOUT_MS;

/**
 * Age after which a pending archive request (`archiveRequestedAt` on META) no longer blocks a
 * new one, ms: the archive queue's visibility timeout (`core/constants/timings.ts`). By then the
 * job it stood for has been received and either finished (which clears the mark), been retried,
 * or is on its way to the DLQ; the next turn re-requests.
 */
export const ARCHIVE_REQUEST_STALE_MS = ARCHIVE_VISIBILITY_TIMEOUT_MS;

/** Wall-time budget of one summarisation call, ms, retries and fallback included. */
export const SUMMARY_LLM_BUDGET_MS = 45_000;

/**
 * Time an archiver needs left, ms, to start another chunk: one summary call plus the writes.
 * With less, it stops after the chunk in hand and re-requests archival for the rest.
 */
export const ARCHIVE_CHUNK_MIN_REMAINING_MS = SUMMARY_LLM_BUDGET_MS + 15_000;

/**
 * A conversation reference as it travels on the chat and archive queues. Its ids make the
 * conversation's partition key, so each is at most `CONVERSATION_ID_MAX_CHARS` (128).
 */
export const conversationRefSchema = z.object({
  platform: z.enum(PLATFORMS),
  channelId: z.string().min(1).max(CONVERSATION_ID_MAX_CHARS),
  userId: z.string().min(1).max(CONVERSATION_ID_MAX_CHARS),
});

/**
 * An archive job: "this conversation is past {@link ARCHIVE_KEEP_MESSAGES} live messages".
 * It names the conversation only; the archiver reads what to archive when it runs, so a
 * redelivered or redriven job is always current. Validated on both sides of the queue.
 */
export const archiveJobSchema = z.object({
  /** Schema version, bumped on incompatible changes. */
  v: z.literal(1),
  conversation: conversationRefSchema,
  /** When the job was requested, epoch ms (logs and queue-age metrics). */
  requestedAt: z.number().int().nonnegative(),
});

/** See {@link archiveJobSchema}. */
export type ArchiveJob = z.infer<typeof archiveJobSchema>;

/** Whether a conversation holding `messageCount` live messages must be archived. */
export function needsArchival(messageCount: number, highWater: number): boolean {
  return messageCount > highWater;
}

/**
 * The next chunk to archive: from `olderThanKept` (the messages older than the newest `keep`,
 * oldest first; pass at least `max + 1` of them when there are that many), the oldest ones,
 * balanced so a backlog splits into equal chunks of at most `max` (51 → 26 + 25, never
 * 50 + 1: a one-message summary is worth nothing). Returns `[]` when there is nothing to
 * archive.
 *
 * @param total - how many messages are older than the kept ones (at least `olderThanKept.length`).
 */
export function nextChunk<T>(
  olderThanKept: readonly T[],
  total: number = olderThanKept.length,
  max = ARCHIVE_CHUNK_MAX_MESSAGES,
): T[] {
  if (max <= 0 || total <= 0) return [];
  const chunks = Math.ceil(total / max);
  return olderThanKept.slice(0, Math.ceil(total / chunks));
}

/**
 * The `archiveRequestedAt` value below which a pending request counts as stale (see
 * {@link ARCHIVE_REQUEST_STALE_MS}), for the conditional update that coalesces requests.
 */
export function staleRequestCutoff(nowMs: number, staleMs = ARCHIVE_REQUEST_STALE_MS): number {
  return nowMs - staleMs;
}

/** Whether an archiver with `remainingMs` of its invocation left may start another chunk. */
export function canStartChunk(
  remainingMs: number,
  minRemainingMs = ARCHIVE_CHUNK_MIN_REMAINING_MS,
): boolean {
  return remainingMs >= minRemainingMs;
}

/** What the archiver knows after a chunk's commit transaction was cancelled. */
export interface CommitConflictFacts {
  /** Highest `toMessageId` any archiver committed (META `archivedThrough`); absent if none. */
  archivedThrough?: string;
  /** Whether META still exists (`/forget` deletes it). */
  metaExists: boolean;
  /** Whether this archiver's lease token is still the one on META. */
  leaseStillOurs: boolean;
  /** How many of the chunk's messages are still stored. */
  stillStored: number;
  /** The chunk's last message id. */
  toMessageId: string;
}

/**
 * How to react to a cancelled commit, decided from facts re-read after it:
 * - `superseded`: another archiver committed this chunk (`archivedThrough` reached its end:
 *   same range, same deterministic summary id) or took the lease over and will resume the
 *   recorded plan (same id again). Nothing to undo; stop.
 * - `compensate`: every message of the chunk is gone and nobody committed it: `/forget` removed
 *   them. The summary written for them must be removed too.
 * - `retry`: the lease is still ours and some messages remain, so something else deleted part
 *   of the chunk; throw and let SQS retry on fresh reads.
 */
export function resolveCommitConflict(
  facts: CommitConflictFacts,
): "superseded" | "compensate" | "retry" {
  if (facts.metaExists && facts.archivedThrough && facts.archivedThrough >= facts.toMessageId) {
    return "superseded";
  }
  if (facts.stillStored === 0) return "compensate";
  return facts.metaExists && !facts.leaseStillOurs ? "superseded" : "retry";
}
