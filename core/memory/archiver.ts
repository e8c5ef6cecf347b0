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
  DEFAULT_ARCHIVE_HIGH_WATER,
  needsArchival,
  nextChunk,
  resolveCommitConflict,
} from "./archival";
import type {
  ArchivePlan,
  ConversationStore,
  RunningSummary,
  StoredMessage,
} from "./conversations";
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

/** Tags that delimit the two parts of a summary answer (XML tags, as Anthropic recommends for
 * structured output: https://docs.anthropic.com/en/docs/build-with-claude/prompt-engineering/use-xml-tags). */
export const CHUNK_SUMMARY_TAG = "chunk_summary";
/** See {@link CHUNK_SUMMARY_TAG}. */
export const RUNNING_SUMMARY_TAG = "running_summary";

/**
 * Bound of the running summary, tokens. The summary prompt asks for it (in words, which models
 * follow more reliably than token counts: about 0.75 words per token in English); the text is
 * never cut afterwards, since a sliced summary loses its latest facts.
 */
export const RUNNING_SUMMARY_MAX_TOKENS = 600;

/**
 * Instructions of the summariser. One call does two jobs (so archiving costs one LLM call per
 * chunk): a summary of the excerpt alone, durable and indexed for search, and the running
 * summary with the excerpt folded in (progressive summarisation, as in LangChain's
 * summary-buffer memory), which every later turn of the conversation carries.
 */
export const SUMMARY_SYSTEM_PROMPT = [
  "You write the long-term memory of a chat assistant.",
  "You get the running summary of a conversation with one person (empty at first) and the next",
  "excerpt of that conversation, oldest first. Answer with exactly two parts and nothing else:",
  `<${CHUNK_SUMMARY_TAG}>the excerpt alone, for a later search: keep the facts, decisions,`,
  "names (people, projects, places, numbers, codes) and open questions; drop greetings and",
  `small talk; a few plain sentences, at most about 120 words.</${CHUNK_SUMMARY_TAG}>`,
  `<${RUNNING_SUMMARY_TAG}>the running summary with the excerpt folded in: what a later turn of`,
  "this conversation needs to know about everything said so far, in plain sentences, at most",
  `${Math.round(RUNNING_SUMMARY_MAX_TOKENS * 0.6)} words (about ${RUNNING_SUMMARY_MAX_TOKENS}`,
  "tokens). When it would be longer, shorten or drop the least important older details first;",
  `keep the latest decisions and open questions.</${RUNNING_SUMMARY_TAG}>`,
].join(" ");

/** Output token cap of one summary call: both parts, with room to spare. */
export const SUMMARY_MAX_TOKENS = 1_000;

/**
 * The summarisation request for a chunk (oldest first) and the running summary so far: one
 * user message holding the running summary (or "(none yet)") and the excerpt as
 * `[time] User|Assistant: text` lines, times in UTC ISO 8601 to the minute.
 */
export function buildSummaryRequest(
  messages: readonly StoredMessage[],
  running?: RunningSummary,
): { system: string; messages: ChatMessage[] } {
  const lines = messages.map((m) => {
    const at = new Date(m.sentAt).toISOString().slice(0, 16).replace("T", " ");
    return `[${at}] ${m.role === "user" ? "User" : "Assistant"}: ${m.content}`;
  });
  return {
    system: SUMMARY_SYSTEM_PROMPT,
    messages: [
      {
        role: "user",
        content:
          `Running summary so far:\n${running?.text.trim() || "(none yet)"}\n\n` +
          `Conversation excerpt, oldest first:\n\n${lines.join("\n")}\n\n` +
          `Write the ${CHUNK_SUMMARY_TAG} and the ${RUNNING_SUMMARY_TAG}.`,
      },
    ],
  };
}

/**
 * The two parts of a summary answer, or `undefined` when either tag is missing or empty.
 * Tags are matched case-insensitively; whatever stands outside them is ignored.
 */
export function parseSummaryAnswer(
  answer: string,
): { chunkSummary: string; runningSummary: string } | undefined {
  const part = (tag: string) =>
    new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "i").exec(answer)?.[1]?.trim() ?? "";
  const chunkSummary = part(CHUNK_SUMMARY_TAG);
  const runningSummary = part(RUNNING_SUMMARY_TAG);
  return chunkSummary && runningSummary ? { chunkSummary, runningSummary } : undefined;
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
  const conversations = deps.conversations;

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

    if (!state.plan && !needsArchival(state.messageCount, highWater)) {
      // A duplicate, redelivered or redriven job for a conversation a run already brought down:
      // archiving now would write a summary of a few messages (one summary call each).
      await conversations.releaseArchiveLease(ref, token, { clearRequest: true });
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
            if (!(await conversations.saveArchivePlan(ref, token, undefined))) {
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
          if (!(await conversations.saveArchivePlan(ref, token, plan))) {
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
          conversations.commitArchive(ref, {
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
    if (needsArchival(remaining, highWater)) {
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

/**
 * The summary model's answer lacked one of the two tagged parts (see `parseSummaryAnswer`);
 * the step is retried like any failed summary call. Carries the answer's size, never its text.
 */
export class SummaryFormatError extends Error {
  override readonly name = "SummaryFormatError";
  constructor(
    readonly model: string,
    readonly answerChars: number,
  ) {
    super(
      `${model} answered without both <${CHUNK_SUMMARY_TAG}> and <${RUNNING_SUMMARY_TAG}> ` +
        `(${answerChars} characters)`,
    );
  }
}

/** A chunk's messages plus the META update must fit DynamoDB's 100-action transaction. */
const MAX_CHUNK_IN_TRANSACTION = 99;

/** The later of two message ids (zero-padded sequence numbers sort as strings). */
function maxId(a: string | undefined, b: string): string {
  return a !== undefined && a > b ? a : b;
}

function describe(ref: ConversationRef): string {
  return `${ref.platform}/${ref.channelId}/${ref.userId}`;
}
