import type { ConversationRef } from "./table/keys";

/** The archiver's typed errors (`archiver.ts`); each leaves every message in place. */

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
    super(`archiving ${describeConversation(conversation)} failed at ${step}`, options);
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
    super(
      `messages of ${summaryId} in ${describeConversation(conversation)} changed during archival`,
    );
  }
}

/** `{platform}/{channelId}/{userId}`, for log fields and error messages (ids only). */
export function describeConversation(ref: ConversationRef): string {
  return `${ref.platform}/${ref.channelId}/${ref.userId}`;
}
