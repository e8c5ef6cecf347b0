/**
 * The shape of a reply that is shown while it is written (docs/architecture.md, "Live
 * replies"): opened when a job starts, fed the model's text as it streams, finished with the
 * whole answer. Each platform implements it its own way (Slack's `chat.startStream` family or
 * `chat.update`, Discord's edits of `@original`, one final post through KĀDI).
 */

/** One answer being shown. */
export interface LiveReply {
  /**
   * `open` for a reply that can be shown; `expired` when the platform no longer accepts it
   * (a Discord interaction token past its 15 minutes): the person was told where that is
   * possible, and the job should not call a model.
   */
  readonly state: "open" | "expired";
  /**
   * Adds streamed text. Never throws and never waits: platform calls are paced behind it, and
   * their failures surface in {@link LiveReply.finish}.
   */
  append(delta: string): void;
  /**
   * Makes the reply show exactly `text` (the whole answer, footer included), ending any
   * stream; further messages are posted when `text` is longer than one message allows.
   * @returns the platform id of the first message (Slack `ts`, Discord message id).
   * @throws the platform client's error when the final call fails; the messages already
   *   posted are in the job's reply ledger, so a redelivery edits them instead of posting.
   */
  finish(text: string): Promise<{ messageId: string }>;
}

/**
 * Where a job's posted messages are recorded before text is added to them, so a redelivered
 * job finishes its own messages instead of posting new ones (`ReplyLedgerStore` in
 * `core/memory/reply-ledger.ts` on DynamoDB).
 */
export interface ReplyLedger {
  /**
   * The platform ids of the messages an earlier run of `jobId` posted, in order; `[]` when none.
   * @throws the store's error.
   */
  read(jobId: string): Promise<string[]>;
  /**
   * Records every message id of `jobId` so far, in order (replacing the earlier list).
   * @throws the store's error.
   */
  write(jobId: string, messageIds: string[]): Promise<void>;
}

/** What a replier needs to know about the job it opens a live reply for. */
export interface LiveReplyJob {
  /** The chat job's id: the key of its {@link ReplyLedger} entry. */
  jobId: string;
  /** When the person sent the message, epoch ms (Discord's 15-minute token window). */
  sentAt: number;
}

/**
 * A live reply that shows nothing until {@link LiveReply.finish}, then posts once with `post`
 * (the KĀDI relay, `inline` replies).
 * @returns `finish` resolves with what `post` resolves, and rejects with what it throws.
 */
export function bufferedLiveReply(
  post: (text: string) => Promise<{ messageId: string }>,
): LiveReply {
  return { state: "open", append() {}, finish: post };
}
