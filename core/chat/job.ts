import * as z from "zod";
import { KEY_ID_MAX_BYTES, MESSAGE_TEXT_MAX_CHARS } from "../constants/limits";
import { PLATFORMS } from "../constants/platforms";
import { conversationRefSchema } from "../memory/archival";

/**
 * How a reply reaches the person (docs/architecture.md, "Platforms and transports"):
 * - `direct`: the platform's own API (Slack Web API, Discord interaction webhook);
 * - `kadi`: relayed through a KĀDI broker's reply tools for that platform;
 * - `inline`: not posted at all; the caller reads the text from the turn's result (the agent's
 *   own `chat` tool served over KĀDI).
 */
export const REPLY_VIAS = ["direct", "kadi", "inline"] as const;

/** One of {@link REPLY_VIAS}. */
export type ReplyVia = (typeof REPLY_VIAS)[number];

/**
 * Where a reply is posted: the platform, the way there, and an address in the platform's own
 * terms, which only that platform's folder reads and validates (`core/platforms/{platform}/`):
 * Slack `{channel, threadTs?}`, Discord direct `{applicationId, interactionToken}`, Discord
 * through KĀDI `{channel, messageId}`; `{}` for `inline`. Keeping the address opaque here is
 * what lets a new platform plug in without changing the job contract.
 */
export const replyTargetSchema = z.object({
  platform: z.enum(PLATFORMS),
  via: z.enum(REPLY_VIAS),
  address: z.record(z.string(), z.string().min(1).max(1000)),
});

/** See {@link replyTargetSchema}. */
export type ReplyTarget = z.infer<typeof replyTargetSchema>;

/**
 * A chat job: one inbound user message waiting for an answer. Ingress validates and enqueues
 * it on the chat queue; the chat worker validates it again on receipt (the queue is a trust
 * boundary: a hand-sent or stale-format message is rejected, not half-processed).
 */
export const chatJobSchema = z.object({
  /** Schema version, bumped on incompatible changes (2: `reply` became {@link ReplyTarget}). */
  v: z.literal(2),
  /**
   * Stable id of the user message being answered, e.g. `slack:C1:1700000000.000100` (channel
   * and message ts), built by the platform's folder. The worker's reply idempotency and the
   * stored turns' ids derive from it; it is part of the turn marker's sort key, hence the bound
   * in bytes.
   */
  jobId: z
    .string()
    .min(1)
    .max(512)
    .refine((id) => Buffer.byteLength(id, "utf8") <= KEY_ID_MAX_BYTES, {
      message: `Too big: expected at most ${KEY_ID_MAX_BYTES} bytes of UTF-8`,
    }),
  /** Where the job came from, for logs and dedupe: the platform's own id of the event. */
  source: z.discriminatedUnion("kind", [
    /**
     * Slack Events API `event_id`, and the envelope's `team_id` (the workspace, checked against
     * `ALLOWED_SLACK_TEAMS`; optional, so jobs queued before it was added still parse).
     */
    z.object({
      kind: z.literal("slack-events"),
      eventId: z.string().min(1),
      teamId: z.string().min(1).max(64).optional(),
    }),
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
    /** The local stack's console (`npm start`'s web page or `npm run chat`): platform `web`. */
    z.object({ kind: z.literal("web-console") }),
    /**
     * A decision on a paused tool call (Approve / Deny button, or the expiry timer): resumes
     * the turn stored under `approvalId` (`ApprovalStore`).
     */
    z.object({
      kind: z.literal("approval"),
      approvalId: z.string().min(1).max(128),
      decision: z.enum(["approve", "deny", "expire"]),
    }),
  ]),
  /** Whose conversation: its ids are bounded, they make the conversation's partition key. */
  conversation: conversationRefSchema,
  /** The user's text with the bot mention removed. */
  text: z.string().max(MESSAGE_TEXT_MAX_CHARS),
  /** When the user sent the message, epoch milliseconds. */
  sentAt: z.number().int().nonnegative(),
  /** Where the answer goes. */
  reply: replyTargetSchema,
});

/** See {@link chatJobSchema}. */
export type ChatJob = z.infer<typeof chatJobSchema>;
