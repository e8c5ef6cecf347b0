import { randomUUID } from "node:crypto";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Completer } from "../llm/types";
import {
  ARCHIVE_CHUNK_MAX_MESSAGES,
  ARCHIVE_CHUNK_MIN_REMAINING_MS,
  ARCHIVE_KEEP_MESSAGES,
  ARCHIVE_LEASE_MS,
  type ArchiveJob,
  canStartChunk,
  DEFAULT_ARCHIVE_HIGH_WATER,
  needsArchival,
  nextChunk,
  resolveCommitConflict,
} from "./archival";
import {
  ArchiveConflictError,
  type ArchiveStep,
  ArchiveStepError,
  describeConversation,
} from "./archive-errors";
import type { ArchiveLedger, ArchivePlan } from "./archive-ledger";
import type { ArchiveRequester } from "./archive-requester";
import type { RunningSummary, StoredMessage } from "./conversation-items";
import type { ConversationStore } from "./conversations";
import { summaryId } from "./long-term/summaries";
import type { LongTermIndex, SummaryRecord } from "./long-term/types";
import {
  buildSummaryRequest,
  parseSummaryAnswer,
  SUMMARY_MAX_TOKENS,
  SummaryFormatError,
} from "./summary-prompt";
import type { ConversationRef } from "./table/keys";

/** Dependencies of {@link createArchiver}. */
export interface ArchiverDeps {
  /** The message log: what to archive and how much is left. */
  conversations: ConversationStore;
  /** The archival bookkeeping on META: lease, plan, commit. */
  ledger: ArchiveLedger;
  /** Durable summary copies (`SummaryStore`). */
  summaries: {
    put(record: SummaryRecord): Promise<void>;
    delete(ids: readonly string[]): Promise<void>;
    listForUser(platform: ConversationRef["platform"], userId: string): Promise<SummaryRecord[]>;
  };
  index: LongTermIndex;
  llm: Completer;
  /** Model id or alias that writes summaries (`SUMMARY_MODEL`, else `DEFAULT_SUMMARY_MODEL`). */
  summaryModel: string;
  /** Re-requests archival when the conversation is still over the limit after a run. */
  requestArchival: ArchiveRequester;
  logger: Logger;
  /** Epoch-ms clock (lease times, `createdAt`). */
  now: () => number;
  /** Lease token per run; default a random UUID. */
  newToken?: () => string;
  /** Lease duration, ms; default {@link ARCHIVE_LEASE_MS}. */
  leaseMs?: number;
  /** Live messages kept; default {@link ARCHIVE_KEEP_MESSAGES}. */
  keep?: number;
  /**
   * Live messages above which the conversation is archived (`MEMORY_ARCHIVE_HIGH_WATER`):
   * a run that leaves more than this re-requests; default {@link DEFAULT_ARCHIVE_HIGH_WATER}.
   */
  highWater?: number;
  /** Most messages per summary; default {@link ARCHIVE_CHUNK_MAX_MESSAGES}. */
  chunkMax?: number;
  /** Time needed to start another chunk, ms; default {@link ARCHIVE_CHUNK_MIN_REMAINING_MS}. */
  minRemainingMs?: number;
}

/** What one archive run did. */
export interface ArchiveOutcome {
  /**
   * `done`: nothing older than the newest `keep` remains (or the run stopped early and
   * re-requested); `busy`: another archiver holds the lease (it re-checks when it finishes);
   * `superseded`: the lease was taken over mid-run by an archiver that resumes the recorded
   * chunk; `forgotten`: the conversation has no META (`/forget`), and any summaries left for it
   * were removed (listed in `compensatedIds`).
   */
  status: "done" | "busy" | "superseded" | "forgotten";
  /** Chunks committed (one summary each). */
  chunks: number;
  /** Messages deleted after their summary was stored and indexed. */
  archivedMessages: number;
  summaryIds: string[];
  /** Summaries removed because their messages were forgotten before the commit. */
  compensatedIds: string[];
  /** Whether a follow-up job was enqueued because the conversation is still over the limit. */
  requeued: boolean;
}

/**
 * The archive job: folds every message older than the newest `keep` (20) into summaries,
 * oldest first, in balanced chunks of at most `chunkMax` (50).
 *
 * Per chunk: record the plan on META under the lease → one call to the summary model writes
 * the chunk's summary and the running summary with the chunk folded in → write the durable
 * copy (`SummaryStore.put`, deterministic id = conversation + last message id) → index it →
 * commit (one transaction: conditional deletes of exactly the ids read, counter decrement,
 * `archivedThrough`, the new running summary, lease check). Nothing is deleted before the
 * summary is stored and indexed and the running summary holds it; any failure throws
 * {@link ArchiveStepError} with the messages intact.
 *
 * Concurrency: a conditional lease on META admits one archiver per conversation; a second job
 * returns `busy` (the holder re-checks the count when it finishes and re-requests). A holder
 * that outlives its lease is fenced: its plan write, renewal and commit are conditional on
 * its token, and whoever takes over resumes the recorded plan with the same summary id, so no
 * message is summarised twice or lost (see `docs/architecture.md`).
 *
 * @param options.remainingMs - time left in the invocation, ms (Lambda context).
 * @throws {ArchiveStepError} when summarising, storing, indexing or committing a chunk fails;
 *   {@link ArchiveConflictError} when part of a chunk vanished under a held lease; the AWS
 *   SDK's error, unwrapped, when a lease, plan or read of the bookkeeping fails. Messages are
 *   intact in every case.
 */
export function createArchiver(
  deps: ArchiverDeps,
): (job: ArchiveJob, options: { remainingMs: () => number }) => Promise<ArchiveOutcome> {
  const keep = deps.keep ?? ARCHIVE_KEEP_MESSAGES;
  const highWater = deps.highWater ?? DEFAULT_ARCHIVE_HIGH_WATER;
  // A larger chunk could never commit (DynamoDB rejects a transaction over 100 actions), so the
  // job would fail on every receive and end in the DLQ.
  const chunkMax = Math.min(deps.chunkMax ?? ARCHIVE_CHUNK_MAX_MESSAGES, MAX_CHUNK_IN_TRANSACTION);
  const leaseMs = deps.leaseMs ?? ARCHIVE_LEASE_MS;
  const minRemainingMs = deps.minRemainingMs ?? ARCHIVE_CHUNK_MIN_REMAINING_MS;
  const { conversations, ledger } = deps;

  const summarise = async (
    ref: ConversationRef,
    plan: ArchivePlan,
    messages: StoredMessage[],
    running: RunningSummary | undefined,
  ): Promise<{ record: SummaryRecord; running: RunningSummary }> => {
    const request = buildSummaryRequest(messages, running);
    const result = await deps.llm.complete({
      model: deps.summaryModel,
      ...request,
      maxTokens: SUMMARY_MAX_TOKENS,
    });
    if (!result.ok) throw new ArchiveStepError("summarise", ref, { cause: result.error });
    const parts = parseSummaryAnswer(result.completion.text);
    if (!parts) {
      throw new ArchiveStepError("summarise", ref, {
        cause: new SummaryFormatError(result.completion.model, result.completion.text.length),
      });
    }
    const nowMs = deps.now();
    return {
      record: {
        id: plan.summaryId,
        platform: ref.platform,
        userId: ref.userId,
        channelId: ref.channelId,
        text: parts.chunkSummary,
        fromMessageId: messages[0]?.messageId ?? plan.fromMessageId,
        toMessageId: plan.toMessageId,
        messageCount: messages.length,
        model: result.completion.model,
        createdAt: nowMs,
      },
      running: {
        text: parts.runningSummary,
        throughMessageId: plan.toMessageId,
        updatedAt: nowMs,
        model: result.completion.model,
      },
    };
  };

  const step = async <T>(name: ArchiveStep, ref: ConversationRef, fn: () => Promise<T>) => {
    try {
      return await fn();
    } catch (cause) {
      throw new ArchiveStepError(name, ref, { cause });
    }
  };

  return async (job, options) => {
    const ref = job.conversation;
    const token = deps.newToken?.() ?? randomUUID();
    const outcome: ArchiveOutcome = {
      status: "done",
      chunks: 0,
      archivedMessages: 0,
      summaryIds: [],
      compensatedIds: [],
      requeued: false,
    };
    const state = await ledger.acquireArchiveLease(ref, token, deps.now(), leaseMs);
    if (!state && (await ledger.archiveState(ref)) === undefined) {
      // No META: the conversation was forgotten (META only goes with `/forget`, and the first
      // stored message recreates it). Summaries left for its channel are an archiver's whose
      // undo failed after `/forget`; removing them here finishes that undo on the retry.
      const orphans = (await deps.summaries.listForUser(ref.platform, ref.userId))
        .filter((summary) => summary.channelId === ref.channelId)
        .map((summary) => summary.id);
      if (orphans.length > 0) {
        await step("index", ref, () => deps.index.remove(orphans));
        await step("store", ref, () => deps.summaries.delete(orphans));
        deps.logger.warn("removed summaries of a forgotten conversation", {
          conversation: describeConversation(ref),
          summaryIds: orphans,
        });
      }
      return { ...outcome, status: "forgotten", compensatedIds: orphans };
    }
    if (!state) {
      deps.logger.info("archive lease held elsewhere; leaving the work to its holder", {
        conversation: describeConversation(ref),
      });
      return { ...outcome, status: "busy" };
    }

    if (!state.plan && !needsArchival(state.messageCount, highWater)) {
      // A duplicate, redelivered or redriven job for a conversation a run already brought down:
      // archiving now would write a summary of a few messages (one summary call each).
      await ledger.releaseArchiveLease(ref, token, { clearRequest: true });
      return outcome;
    }
    let plan = state.plan;
    // Only the lease holder commits, so the running summary read with the lease stays what META
    // holds until this run's own commits replace it.
    let running = state.runningSummary;
    // Only the lease holder commits, so this local copy stays what META holds. Kept as the
    // highest committed id: a chunk of late-stored messages (ids older than earlier chunks) must
    // not lower it, or a fenced archiver would take a committed summary for a forgotten one.
    let archivedThrough = state.archivedThrough;
    let stoppedEarly = false;
    try {
      for (;;) {
        let messages: StoredMessage[];
        if (plan) {
          // A plan left by an earlier attempt: archive exactly that range again, same id.
          messages = await conversations.messagesBetween(
            ref,
            plan.fromMessageId,
            plan.toMessageId,
            MAX_CHUNK_IN_TRANSACTION,
          );
          if (messages.length === 0) {
            if (!(await ledger.saveArchivePlan(ref, token, undefined))) {
              return { ...outcome, status: "superseded" };
            }
            plan = undefined;
            continue;
          }
        } else {
          const older = await conversations.olderThanNewest(ref, keep, chunkMax);
          messages = nextChunk(older.messages, older.total, chunkMax);
          const first = messages[0];
          const last = messages.at(-1);
          if (!first || !last) break;
          plan = {
            fromMessageId: first.messageId,
            toMessageId: last.messageId,
            summaryId: summaryId(ref, last.messageId),
          };
          if (!(await ledger.saveArchivePlan(ref, token, plan))) {
            return { ...outcome, status: "superseded" };
          }
        }

        const summary = await summarise(ref, plan, messages, running);
        const record = summary.record;
        await step("store", ref, () => deps.summaries.put(record));
        await step("index", ref, () => deps.index.upsert(record));
        const ids = messages.map((m) => m.messageId);
        const through = maxId(archivedThrough, plan.toMessageId);
        const commit = await step("commit", ref, () =>
          ledger.commitArchive(ref, {
            token,
            messageIds: ids,
            toMessageId: through,
            nowMs: deps.now(),
            runningSummary: summary.running,
          }),
        );
        if (commit.committed) {
          archivedThrough = through;
          running = summary.running;
          outcome.chunks++;
          outcome.archivedMessages += ids.length;
          outcome.summaryIds.push(record.id);
          deps.logger.info("archived a chunk", {
            conversation: describeConversation(ref),
            summaryId: record.id,
            messages: ids.length,
          });
        } else {
          const decision = await resolveConflict(ref, token, plan, ids);
          deps.logger.warn("archive commit cancelled", {
            conversation: describeConversation(ref),
            summaryId: record.id,
            reasons: commit.reasons,
            decision,
          });
          if (decision === "superseded") return { ...outcome, status: "superseded" };
          if (decision === "retry") throw new ArchiveConflictError(ref, record.id);
          await step("index", ref, () => deps.index.remove([record.id]));
          await step("store", ref, () => deps.summaries.delete([record.id]));
          outcome.compensatedIds.push(record.id);
          if (!(await ledger.saveArchivePlan(ref, token, undefined))) break;
        }
        plan = undefined;
        if (!canStartChunk(options.remainingMs(), minRemainingMs)) {
          stoppedEarly = true;
          break;
        }
        if (!(await ledger.renewArchiveLease(ref, token, deps.now(), leaseMs))) {
          return { ...outcome, status: "superseded" };
        }
      }
    } catch (error) {
      // Give the lease back so the retry need not wait for it to expire; the plan stays, so
      // the retry resumes the same chunk under the same summary id.
      try {
        await ledger.releaseArchiveLease(ref, token, { clearRequest: false });
      } catch (releaseError) {
        deps.logger.error("could not release the archive lease; it expires on its own", {
          conversation: describeConversation(ref),
          error: releaseError,
        });
      }
      throw error;
    }

    await ledger.releaseArchiveLease(ref, token, { clearRequest: true });
    const remaining = await conversations.messageCount(ref);
    if (needsArchival(remaining, highWater)) {
      outcome.requeued = await deps.requestArchival(ref);
      deps.logger.info("conversation still over the limit; requested another archive run", {
        conversation: describeConversation(ref),
        messageCount: remaining,
        stoppedEarly,
        requeued: outcome.requeued,
      });
    }
    return outcome;
  };

  async function resolveConflict(
    ref: ConversationRef,
    token: string,
    plan: ArchivePlan,
    ids: readonly string[],
  ) {
    const state = await ledger.archiveState(ref);
    const wanted = new Set(ids);
    const stored = await conversations.messagesBetween(
      ref,
      plan.fromMessageId,
      plan.toMessageId,
      MAX_CHUNK_IN_TRANSACTION,
    );
    return resolveCommitConflict({
      ...(state?.archivedThrough ? { archivedThrough: state.archivedThrough } : {}),
      metaExists: state !== undefined,
      leaseStillOurs: state?.lease?.token === token,
      stillStored: stored.filter((m) => wanted.has(m.messageId)).length,
      toMessageId: plan.toMessageId,
    });
  }
}

/** A chunk's messages plus the META update must fit DynamoDB's 100-action transaction. */
const MAX_CHUNK_IN_TRANSACTION = 99;

/** The later of two message ids (zero-padded sequence numbers sort as strings). */
function maxId(a: string | undefined, b: string): string {
  return a !== undefined && a > b ? a : b;
}
