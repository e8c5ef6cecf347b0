import { randomUUID } from "node:crypto";
import type { ChatMessage, Completion, LlmErrorKind } from "../llm/types";
import type { Logger } from "../logger";
import type { ArchiveRequester } from "../queue/archive-queue";
import {
  ARCHIVE_CHUNK_MAX_MESSAGES,
  ARCHIVE_CHUNK_MIN_REMAINING_MS,
  ARCHIVE_KEEP_MESSAGES,
  ARCHIVE_LEASE_MS,
  type ArchiveJob,
  canStartChunk,
  needsArchival,
  nextChunk,
  resolveCommitConflict,
} from "./archival";
import type { ArchivePlan, ConversationStore, StoredMessage } from "./conversations";
import type { ConversationRef } from "./keys";
import { summaryId } from "./long-term/summaries";
import type { LongTermIndex, SummaryRecord } from "./long-term/types";

/** The slice of the provider manager the archiver uses (`createProviderManager`). */
export interface SummaryCompleter {
  complete(input: {
    model?: string;
    system: string;
    messages: ChatMessage[];
    maxTokens?: number;
  }): Promise<
    { ok: true; completion: Completion } | { ok: false; error: Error & { kind: LlmErrorKind } }
  >;
}

/** Dependencies of {@link createArchiver}. */
export interface ArchiverDeps {
  conversations: ConversationStore;
  /** Durable summary copies (`SummaryStore`). */
  summaries: {
    put(record: SummaryRecord): Promise<void>;
    delete(ids: readonly string[]): Promise<void>;
    listForUser(platform: ConversationRef["platform"], userId: string): Promise<SummaryRecord[]>;
  };
  index: LongTermIndex;
  llm: SummaryCompleter;
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

/** Which archive step failed; see {@link ArchiveStepError}. */
export type ArchiveStep = "summarise" | "store" | "index" | "commit";

/**
 * A step of archiving a chunk failed; the messages are still in DynamoDB and the job must be
 * retried (SQS redelivers it; after `maxReceiveCount` receives it goes to the DLQ). `cause` is
 * the LLM, DynamoDB or search backend error.
 */
export class ArchiveStepError extends Error {
  override readonly name = "ArchiveStepError";
  constructor(
    readonly step: ArchiveStep,
    readonly conversation: ConversationRef,
    options: { cause: unknown },
  ) {
    super(`archiving ${describe(conversation)} failed at ${step}`, options);
  }
}

/** Instructions of the summariser: what a later conversation needs, in a few sentences. */
export const SUMMARY_SYSTEM_PROMPT = [
  "You write the long-term memory of a chat assistant.",
  "Summarise the conversation excerpt for a later conversation with the same person:",
  "keep the facts, decisions, names (people, projects, places, numbers, codes) and open",
  "questions it would need; drop greetings and small talk.",
  "Answer with a few plain sentences (at most about 120 words), without a preamble.",
].join(" ");

/** Output token cap of one summary. */
export const SUMMARY_MAX_TOKENS = 400;

/**
 * The summarisation request for a chunk (oldest first): one user message holding the excerpt
 * as `[time] User|Assistant: text` lines, times in UTC ISO 8601 to the minute.
 */
export function buildSummaryRequest(messages: readonly StoredMessage[]): {
  system: string;
  messages: ChatMessage[];
} {
  const lines = messages.map((m) => {
    const at = new Date(m.createdAt).toISOString().slice(0, 16).replace("T", " ");
    return `[${at}] ${m.role === "user" ? "User" : "Assistant"}: ${m.content}`;
  });
  return {
    system: SUMMARY_SYSTEM_PROMPT,
    messages: [
      {
        role: "user",
        content: `Conversation excerpt, oldest first:\n\n${lines.join("\n")}\n\nWrite the summary.`,
      },
    ],
  };
}

/**
 * The archive job: folds every message older than the newest `keep` (20) into summaries,
 * oldest first, in chunks of at most `chunkMax` (50).
 *
 * Per chunk: record the plan on META under the lease → summarise with the summary model →
 * write the durable copy (`SummaryStore.put`, deterministic id = conversation + last message
 * id) → index it → commit (one transaction: conditional deletes of exactly the ids read,
 * counter decrement, `archivedThrough`, lease check). Nothing is deleted before the summary is
 * stored and indexed; any failure throws {@link ArchiveStepError} with the messages intact.
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
  // A larger chunk could never commit (DynamoDB rejects a transaction over 100 actions), so the
  // job would fail on every receive and end in the DLQ.
  const chunkMax = Math.min(deps.chunkMax ?? ARCHIVE_CHUNK_MAX_MESSAGES, MAX_CHUNK_IN_TRANSACTION);
  const leaseMs = deps.leaseMs ?? ARCHIVE_LEASE_MS;
  const minRemainingMs = deps.minRemainingMs ?? ARCHIVE_CHUNK_MIN_REMAINING_MS;
  const conversations = deps.conversations;

  const summarise = async (
    ref: ConversationRef,
    plan: ArchivePlan,
    messages: StoredMessage[],
  ): Promise<SummaryRecord> => {
    const request = buildSummaryRequest(messages);
    const result = await deps.llm.complete({
      model: deps.summaryModel,
      ...request,
      maxTokens: SUMMARY_MAX_TOKENS,
    });
    if (!result.ok) throw new ArchiveStepError("summarise", ref, { cause: result.error });
    const text = result.completion.text.trim();
    if (!text) {
      throw new ArchiveStepError("summarise", ref, {
        cause: new Error(`${result.completion.model} returned an empty summary`),
      });
    }
    return {
      id: plan.summaryId,
      platform: ref.platform,
      userId: ref.userId,
      channelId: ref.channelId,
      text,
      fromMessageId: messages[0]?.messageId ?? plan.fromMessageId,
      toMessageId: plan.toMessageId,
      messageCount: messages.length,
      model: result.completion.model,
      createdAt: deps.now(),
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
    const state = await conversations.acquireArchiveLease(ref, token, deps.now(), leaseMs);
    if (!state && (await conversations.archiveState(ref)) === undefined) {
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
          conversation: describe(ref),
          summaryIds: orphans,
        });
      }
      return { ...outcome, status: "forgotten", compensatedIds: orphans };
    }
    if (!state) {
      deps.logger.info("archive lease held elsewhere; leaving the work to its holder", {
        conversation: describe(ref),
      });
      return { ...outcome, status: "busy" };
    }

    let plan = state.plan;
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
            if (!(await conversations.saveArchivePlan(ref, token, undefined))) {
              return { ...outcome, status: "superseded" };
            }
            plan = undefined;
            continue;
          }
        } else {
          messages = nextChunk(await conversations.olderThanNewest(ref, keep, chunkMax), chunkMax);
          const first = messages[0];
          const last = messages.at(-1);
          if (!first || !last) break;
          plan = {
            fromMessageId: first.messageId,
            toMessageId: last.messageId,
            summaryId: summaryId(ref, last.messageId),
          };
          if (!(await conversations.saveArchivePlan(ref, token, plan))) {
            return { ...outcome, status: "superseded" };
          }
        }

        const record = await summarise(ref, plan, messages);
        await step("store", ref, () => deps.summaries.put(record));
        await step("index", ref, () => deps.index.upsert(record));
        const ids = messages.map((m) => m.messageId);
        const through = maxId(archivedThrough, plan.toMessageId);
        const commit = await step("commit", ref, () =>
          conversations.commitArchive(ref, {
            token,
            messageIds: ids,
            toMessageId: through,
            nowMs: deps.now(),
          }),
        );
        if (commit.committed) {
          archivedThrough = through;
          outcome.chunks++;
          outcome.archivedMessages += ids.length;
          outcome.summaryIds.push(record.id);
          deps.logger.info("archived a chunk", {
            conversation: describe(ref),
            summaryId: record.id,
            messages: ids.length,
          });
        } else {
          const decision = await resolveConflict(ref, token, plan, ids);
          deps.logger.warn("archive commit cancelled", {
            conversation: describe(ref),
            summaryId: record.id,
            reasons: commit.reasons,
            decision,
          });
          if (decision === "superseded") return { ...outcome, status: "superseded" };
          if (decision === "retry") throw new ArchiveConflictError(ref, record.id);
          await step("index", ref, () => deps.index.remove([record.id]));
          await step("store", ref, () => deps.summaries.delete([record.id]));
          outcome.compensatedIds.push(record.id);
          if (!(await conversations.saveArchivePlan(ref, token, undefined))) break;
        }
        plan = undefined;
        if (!canStartChunk(options.remainingMs(), minRemainingMs)) {
          stoppedEarly = true;
          break;
        }
        if (!(await conversations.renewArchiveLease(ref, token, deps.now(), leaseMs))) {
          return { ...outcome, status: "superseded" };
        }
      }
    } catch (error) {
      // Give the lease back so the retry need not wait for it to expire; the plan stays, so
      // the retry resumes the same chunk under the same summary id.
      try {
        await conversations.releaseArchiveLease(ref, token, { clearRequest: false });
      } catch (releaseError) {
        deps.logger.error("could not release the archive lease; it expires on its own", {
          conversation: describe(ref),
          error: releaseError,
        });
      }
      throw error;
    }

    await conversations.releaseArchiveLease(ref, token, { clearRequest: true });
    const remaining = await conversations.messageCount(ref);
    if (needsArchival(remaining, keep)) {
      outcome.requeued = await deps.requestArchival(ref);
      deps.logger.info("conversation still over the limit; requested another archive run", {
        conversation: describe(ref),
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
    const state = await conversations.archiveState(ref);
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

/**
 * Part of a chunk was deleted by something other than an archiver while this one held the
 * lease; thrown so SQS retries the job on fresh reads.
 */
export class ArchiveConflictError extends Error {
  override readonly name = "ArchiveConflictError";
  constructor(
    readonly conversation: ConversationRef,
    readonly summaryId: string,
  ) {
    super(`messages of ${summaryId} in ${describe(conversation)} changed during archival`);
  }
}

/** A chunk's messages plus the META update must fit DynamoDB's 100-action transaction. */
const MAX_CHUNK_IN_TRANSACTION = 99;

/** The later of two ULIDs (they sort lexicographically by time). */
function maxId(a: string | undefined, b: string): string {
  return a !== undefined && a > b ? a : b;
}

function describe(ref: ConversationRef): string {
  return `${ref.platform}/${ref.channelId}/${ref.userId}`;
}
