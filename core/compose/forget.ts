import type { Config } from "../config";
import { ConversationStore } from "../memory/conversations";
import { createForgetConversation } from "../memory/forget";
import { ArcadeDbLongTermIndex } from "../memory/long-term/arcadedb";
import { SummaryStore } from "../memory/long-term/summaries";
import type { LongTermIndex } from "../memory/long-term/types";
import type { ConversationRef } from "../memory/table/keys";
import { type AwsClients, memoryTable } from "./aws";
import type { LongTermMemory } from "./memory";

/**
 * `forgetConversation(ref)` for `/forget`: deletes the conversation's messages, META and
 * archived summaries (index entries and durable copies). See `createForgetConversation`.
 *
 * Built without the embedded search engine, which the ingress (where Discord's `/forget` runs)
 * would otherwise load: the embedded index searches the durable copies, so deleting them is its
 * removal (its `remove` does nothing), and only ArcadeDB has entries of its own to delete.
 * Keeping it out took the single-file ingress bundle from 255 KB to 234 KB (`npm run bench:ingress`).
 *
 * @param memory - the container's long-term memory, when it has one (the local console).
 */
export function buildForgetConversation(
  config: Config,
  aws: AwsClients,
  memory?: LongTermMemory,
): (ref: ConversationRef) => Promise<{ messages: number; summaries: number }> {
  return createForgetConversation({
    conversations: new ConversationStore(memoryTable(config, aws)),
    summaries: memory?.summaries ?? new SummaryStore(memoryTable(config, aws)),
    index: memory?.index ?? removalIndex(config),
  });
}

/** The index `/forget` removes from: ArcadeDB's, or none for the embedded search. */
function removalIndex(config: Config): Pick<LongTermIndex, "remove"> {
  const { url, username, password } = config.arcadedb;
  if (url) return new ArcadeDbLongTermIndex({ url, username, password });
  return { remove: async () => {} };
}
