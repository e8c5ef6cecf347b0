/**
 * Key layout of the single DynamoDB table (`pk`, `sk`), as in `docs/architecture.md` (Storage).
 * Every key the code writes is built here, so the layout can be read in one place.
 */

import type { Platform } from "../../constants/platforms";

/** Chat platforms a conversation can live on (`core/constants/platforms.ts`). */
export type { Platform };

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

/**
 * Sort-key prefix of message items: `MSG#{messageId}`, where the id is the conversation's own
 * sequence number (see {@link messageIdOf}), so the sort key orders a conversation as it was
 * stored, never by a platform's or a worker's clock.
 */
export const MESSAGE_SK_PREFIX = "MSG#";

/** Sort key of the per-conversation meta item (counters, archival bookkeeping, running summary). */
export const CONVERSATION_META_SK = "META";

/** Digits of a message id: sequence numbers up to 10^12 - 1 sort correctly as strings. */
export const MESSAGE_ID_DIGITS = 12;

/**
 * The message id of sequence number `seq` (1, 2, …, assigned by the store on append): the
 * number zero-padded to {@link MESSAGE_ID_DIGITS} digits, so ids compare as strings in the
 * order they were stored (`000000000007` < `000000000010`).
 * @throws {RangeError} for a sequence number that is not a positive safe integer below 10^12.
 */
export function messageIdOf(seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 1 || seq >= 10 ** MESSAGE_ID_DIGITS) {
    throw new RangeError(`message sequence number out of range: ${seq}`);
  }
  return String(seq).padStart(MESSAGE_ID_DIGITS, "0");
}

/** The key of a conversation's META item: `CONV#…` / `META`. */
export function conversationMetaKey(c: ConversationRef): { pk: string; sk: string } {
  return { pk: conversationPk(c), sk: CONVERSATION_META_SK };
}

/** `MSG#{messageId}`. */
export function messageSk(messageId: string): string {
  return `${MESSAGE_SK_PREFIX}${messageId}`;
}

/** Sort-key prefix of turn markers: `TURN#{jobId}` records that a job's turn is stored. */
export const TURN_SK_PREFIX = "TURN#";

/** `TURN#{jobId}`. */
export function turnSk(jobId: string): string {
  return `${TURN_SK_PREFIX}${jobId}`;
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
 * The mark that the agent takes part in a thread: `THREAD#{platform}#{channelId}#{threadId}`
 * with `sk = "THREAD"` (a Slack thread's id is its parent message's `ts`).
 */
export function threadKey(
  platform: Platform,
  channelId: string,
  threadId: string,
): { pk: string; sk: string } {
  return { pk: `THREAD#${platform}#${channelId}#${threadId}`, sk: "THREAD" };
}

/**
 * A user's token counter for one UTC day (`day` as `YYYY-MM-DD`): `USER#{platform}#{userId}` /
 * `TOKENS#{day}`, next to the user's preferences and summaries.
 */
export function userTokensKey(
  platform: Platform,
  userId: string,
  day: string,
): { pk: string; sk: string } {
  return { pk: userPk(platform, userId), sk: `TOKENS#${day}` };
}

/** Partition of one UTC day's per-provider token counters: `TOKENS#{day}`. */
export function providerTokensPk(day: string): string {
  return `TOKENS#${day}`;
}

/** Sort-key prefix of a provider's counter in {@link providerTokensPk}: `PROVIDER#{provider}`. */
export const PROVIDER_TOKENS_SK_PREFIX = "PROVIDER#";

/**
 * Partition of the local stack's chat outbox: one item per acked chat job not yet answered
 * (`sk` = the job id), so a restart re-enqueues what its in-memory queue lost (`local/outbox.ts`).
 * The Lambda path never writes it.
 */
export const CHAT_OUTBOX_PK = "OUTBOX#chat";

/** The outbox item of one chat job: `OUTBOX#chat` / `{jobId}`. */
export function chatOutboxKey(jobId: string): { pk: string; sk: string } {
  return { pk: CHAT_OUTBOX_PK, sk: jobId };
}

/**
 * The reply ledger of a chat job: `REPLY#{jobId}` / `MESSAGES`, the platform ids of the
 * messages its reply posted (`ReplyLedgerStore`).
 */
export function replyLedgerKey(jobId: string): { pk: string; sk: string } {
  return { pk: `REPLY#${jobId}`, sk: "MESSAGES" };
}

/**
 * A tool call waiting for the person's Approve / Deny: `APPROVAL#{approvalId}` / `APPROVAL`
 * (`ApprovalStore`, `core/agent/approvals.ts`).
 */
export function approvalKey(approvalId: string): { pk: string; sk: string } {
  return { pk: `APPROVAL#${approvalId}`, sk: "APPROVAL" };
}
