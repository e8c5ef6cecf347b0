import type { Logger } from "@aws-lambda-powertools/logger";
import type { LongTermIndex, SummaryHit, SummaryRecord } from "./long-term/types";
import type { ConversationRef } from "./table/keys";

/** How much archived memory one turn may carry (`MEMORY_RECALL_MAX_SUMMARIES` / `_CHARS`). */
export interface RecallBudget {
  /** Most summaries. */
  maxSummaries: number;
  /** Most characters of summary text in total. */
  maxChars: number;
}

/**
 * How long a turn waits for the long-term search, ms. Past it the turn answers without
 * recall: a slow backend must not eat the model's time budget.
 */
export const RECALL_TIMEOUT_MS = 3_000;

/** The long-term search did not answer within the recall timeout. */
export class RecallTimeoutError extends Error {
  override readonly name = "RecallTimeoutError";
}

/** Shortest tail worth keeping when the last summary must be cut to fit the budget, chars. */
export const MIN_TRUNCATED_CHARS = 80;

/**
 * Picks what fits the budget from hits ordered best first: at most `maxSummaries`, and at most
 * `maxChars` characters of text in total. A summary that does not fit whole is cut at a word
 * boundary and marked with `…` when at least {@link MIN_TRUNCATED_CHARS} of it fit; after that
 * nothing more is taken, so the best matches always win over shorter, worse ones.
 */
export function selectRecall(hits: readonly SummaryHit[], budget: RecallBudget): SummaryRecord[] {
  const out: SummaryRecord[] = [];
  let left = budget.maxChars;
  for (const { summary } of hits) {
    if (out.length >= budget.maxSummaries || left <= 0) break;
    if (summary.text.length <= left) {
      out.push(summary);
      left -= summary.text.length;
      continue;
    }
    if (left >= MIN_TRUNCATED_CHARS) {
      const cut = summary.text.slice(0, left - 1);
      const atWord = cut.replace(/\s+\S*$/, "");
      out.push({ ...summary, text: `${atWord.length > 0 ? atWord : cut}…` });
    }
    break;
  }
  return out;
}

/**
 * Recalls archived summaries for a new message; resolves `[]` when none are relevant or the
 * long-term search fails.
 */
export type Recall = (conversation: ConversationRef, text: string) => Promise<SummaryRecord[]>;

/**
 * Budgeted recall over the long-term index, scoped to the conversation's user (summaries of
 * that user's other channels count too: it is the same person). Search failures, and searches
 * slower than `timeoutMs` (default {@link RECALL_TIMEOUT_MS}), are logged as warnings and recall
 * returns `[]`: a turn answers without archived memory rather than failing or stalling because
 * the search backend is down. Never rejects.
 */
export function createRecall(deps: {
  index: LongTermIndex;
  budget: RecallBudget;
  logger: Logger;
  timeoutMs?: number;
}): Recall {
  const timeoutMs = deps.timeoutMs ?? RECALL_TIMEOUT_MS;
  return async (conversation, text) => {
    if (!text.trim() || deps.budget.maxSummaries <= 0) return [];
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RecallTimeoutError(`no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      const search = deps.index.search({
        platform: conversation.platform,
        userId: conversation.userId,
        text,
        limit: deps.budget.maxSummaries,
      });
      // The search may still settle after the timeout; its outcome is of no interest then.
      search.catch(() => undefined);
      const hits = await Promise.race([search, timeout]);
      return selectRecall(hits, deps.budget);
    } catch (error) {
      deps.logger.warn("long-term search failed; answering without recall", {
        backend: deps.index.backend,
        error,
      });
      return [];
    } finally {
      clearTimeout(timer);
    }
  };
}
