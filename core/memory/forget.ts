import type { ConversationStore } from "./conversations";
import type { LongTermIndex, SummaryRecord } from "./long-term/types";
import type { ConversationRef } from "./table/keys";

/** Dependencies of {@link createForgetConversation}. */
export interface ForgetDeps {
  conversations: ConversationStore;
  /** Durable summary copies (`SummaryStore`). */
  summaries: {
    listForUser(platform: ConversationRef["platform"], userId: string): Promise<SummaryRecord[]>;
    delete(ids: readonly string[]): Promise<void>;
  };
  index: Pick<LongTermIndex, "remove">;
}

/**
 * Forgets one conversation (Discord `/forget`): deletes its live messages and META item, then
 * its archived summaries from the search index and their durable copies.
 *
 * Order matters: messages first, so an archiver racing with this finds its commit cancelled
 * and removes the summary it had just written (see `resolveCommitConflict`); summaries are
 * listed after that, so one written before the messages went is found here; the index entry
 * goes before the durable copy, so a failure in between leaves a copy that a retry (or
 * `memory:reindex`) still sees, never an index entry without its copy.
 *
 * @returns how many messages and summaries were deleted.
 * @throws the DynamoDB or search backend error; calling again finishes the job.
 */
export function createForgetConversation(
  deps: ForgetDeps,
): (ref: ConversationRef) => Promise<{ messages: number; summaries: number }> {
  return async (ref) => {
    const messages = await deps.conversations.deleteConversation(ref);
    const owned = await deps.summaries.listForUser(ref.platform, ref.userId);
    const ids = owned.filter((s) => s.channelId === ref.channelId).map((s) => s.id);
    if (ids.length > 0) {
      await deps.index.remove(ids);
      await deps.summaries.delete(ids);
    }
    return { messages, summaries: ids.length };
  };
}
