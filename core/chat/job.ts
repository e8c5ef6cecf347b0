import * as z from "zod";

/**
 * A chat job: one inbound user message waiting for an answer. Ingress validates and enqueues
 * it on the chat queue; the chat worker validates it again on receipt (the queue is a trust
 * boundary: a hand-sent or stale-format message is rejected, not half-processed).
 */
export const chatJobSchema = z.object({
  /** Schema version, bumped on incompatible changes. */
  v: z.literal(1),
  /**
   * Stable id of the user message being answered, e.g. `slack:T1:C1:1700000000.000100`.
   * The worker's reply idempotency and the stored turns' ids derive from it.
   */
  jobId: z.string().min(1).max(512),
  /** Where the job came from, for logs: the platform's event id. */
  source: z.object({ kind: z.literal("slack-events"), eventId: z.string().min(1) }),
  conversation: z.object({
    platform: z.enum(["slack", "discord"]),
    channelId: z.string().min(1),
    userId: z.string().min(1),
  }),
  /** The user's text with the bot mention removed. */
  text: z.string().max(40_000),
  /** When the user sent the message, epoch milliseconds. */
  sentAt: z.number().int().nonnegative(),
  /** Where the answer goes. */
  reply: z.object({
    kind: z.literal("slack"),
    channel: z.string().min(1),
    /** Thread to answer in; absent for a top-level direct-message reply. */
    threadTs: z.string().optional(),
  }),
});

/** See {@link chatJobSchema}. */
export type ChatJob = z.infer<typeof chatJobSchema>;

/** Where a reply is posted. */
export type ReplyTarget = ChatJob["reply"];
