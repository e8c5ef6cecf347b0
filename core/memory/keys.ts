import { createHash } from "node:crypto";
import { ulid } from "ulid";

/**
 * Key layout of the single DynamoDB table (`pk`, `sk`), as in `../shared/design.md` (Storage).
 * Every key the code writes is built here, so the layout can be read in one place.
 */

/** Chat platforms a conversation can live on. */
export type Platform = "slack" | "discord";

/** A conversation is one user in one channel on one platform. */
export interface ConversationRef {
  platform: Platform;
  channelId: string;
  userId: string;
}

/** `CONV#{platform}#{channelId}#{userId}`. */
export function conversationPk(c: ConversationRef): string {
  return `CONV#${c.platform}#${c.channelId}#${c.userId}`;
}

/** Sort-key prefix of message items; `MSG#{ulid}` sorts oldest first. */
export const MESSAGE_SK_PREFIX = "MSG#";

/** Sort key of the per-conversation meta item holding the atomic message counter. */
export const CONVERSATION_META_SK = "META";

/** `MSG#{messageId}`. */
export function messageSk(messageId: string): string {
  return `${MESSAGE_SK_PREFIX}${messageId}`;
}

/** `USER#{platform}#{userId}`: the partition of one user's preferences. */
export function userPk(platform: Platform, userId: string): string {
  return `USER#${platform}#${userId}`;
}

/** Sort-key prefix of preference items. */
export const PREFERENCE_SK_PREFIX = "PREF#";

/** Partition of the shared knowledge base. */
export const KNOWLEDGE_PK = "KNOWLEDGE";

/** Sort-key prefix of knowledge entries. */
export const KNOWLEDGE_SK_PREFIX = "ENTRY#";

/** `DEDUPE#{scope}#{id}` with `sk = "DEDUPE"`. */
export function dedupeKey(scope: string, id: string): { pk: string; sk: string } {
  return { pk: `DEDUPE#${scope}#${id}`, sk: "DEDUPE" };
}

/**
 * A ULID whose time part is `timeMs` and whose random part is derived from `seed`, so that a
 * redelivered job writes the same message id again (and the conditional write sees it) instead
 * of storing a duplicate turn. Format: https://github.com/ulid/spec.
 */
export function deterministicMessageId(timeMs: number, seed: string): string {
  const digest = createHash("sha256").update(seed).digest();
  let i = 0;
  return ulid(timeMs, () => (digest[i++ % digest.length] ?? 0) / 256);
}
