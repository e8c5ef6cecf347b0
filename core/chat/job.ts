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
   * Stable id of the user message being answered, e.g. `slack:C1:1700000000.000100` (channel and message ts).
   * The worker's reply idempotency and the stored turns' ids derive from it.
   */
  jobId: z.string().min(1).max(512),
  /** Where the job came from, for logs and dedupe: the platform's own id of the event. */
  source: z.discriminatedUnion("kind", [
    /** Slack Events API `event_id`. */
    z.object({ kind: z.literal("slack-events"), eventId: z.string().min(1) }),
    /** Discord interaction `id` (snowflake). */
    z.object({ kind: z.literal("discord-interaction"), interactionId: z.string().min(1) }),
    /** A KĀDI `kadi.event.delivery` (or `POST /kadi/events`): the event's `id` and channel. */
    z.object({
      kind: z.literal("kadi-event"),
      eventId: z.string().min(1),
      channel: z.string().min(1),
    }),
    /** The agent's own `chat` tool invoked by another KĀDI agent. */
    z.object({ kind: z.literal("kadi-tool"), callerAgent: z.string().optional() }),
  ]),
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
  reply: z.discriminatedUnion("kind", [
    /** Slack Web API `chat.postMessage`. */
    z.object({
      kind: z.literal("slack"),
      channel: z.string().min(1),
      /** Thread to answer in; absent for a top-level direct-message reply. */
      threadTs: z.string().optional(),
    }),
    /**
     * Discord interaction webhook: edit `@original` of the deferred response, then follow-ups
     * (https://discord.com/developers/docs/interactions/receiving-and-responding). The token is
     * valid for 15 minutes after the interaction.
     */
    z.object({
      kind: z.literal("discord-interaction"),
      applicationId: z.string().min(1),
      interactionToken: z.string().min(1),
    }),
    /** Through the broker's `slack_send_reply` tool (design.md, KĀDI wire protocol). */
    z.object({
      kind: z.literal("kadi-slack"),
      channel: z.string().min(1),
      threadTs: z.string().min(1),
    }),
    /** Through the broker's `discord_send_reply`, then `discord_send_message` per chunk. */
    z.object({
      kind: z.literal("kadi-discord"),
      channel: z.string().min(1),
      messageId: z.string().min(1),
    }),
    /** Nothing is posted; the caller takes the text from the turn's result (the `chat` tool). */
    z.object({ kind: z.literal("inline") }),
  ]),
});

/** See {@link chatJobSchema}. */
export type ChatJob = z.infer<typeof chatJobSchema>;

/** Where a reply is posted. */
export type ReplyTarget = ChatJob["reply"];

/** The reply target of one kind, e.g. `ReplyTargetOf<"slack">`. */
export type ReplyTargetOf<K extends ReplyTarget["kind"]> = Extract<ReplyTarget, { kind: K }>;

/**
 * Validates a job before it crosses the queue (a trust boundary: what is enqueued must parse on
 * the other side).
 * @returns the parsed job, or `invalid_job: {path} {message}` naming the first problem.
 */
export function validateChatJob(
  candidate: unknown,
): { ok: true; job: ChatJob } | { ok: false; error: string } {
  const parsed = chatJobSchema.safeParse(candidate);
  if (parsed.success) return { ok: true, job: parsed.data };
  const first = parsed.error.issues[0];
  return { ok: false, error: `invalid_job: ${first?.path.join(".")} ${first?.message}` };
}
