/**
 * Chat mentions relayed by a KĀDI broker (docs/architecture.md, "Platforms and transports"): which
 * channels to subscribe, and the pure decision of what to do with one delivery. The broker
 * only carries platform messages; each platform's folder parses its own (its
 * `KadiBinding`). No I/O here: see `./ingress` for the shell.
 */
import * as z from "zod";
import type { ChatJob } from "../chat/job";
import type { Platform } from "../constants/platforms";
import { loggableOrShape } from "../ingress/log-fields";
import type { PlatformAdapter } from "../platforms/adapter";

/**
 * Longest channel name accepted: a mention channel is a prefix of about 20 characters and a
 * bot user id (at most `PLATFORM_ID_MAX_CHARS`, 64).
 */
const KADI_CHANNEL_MAX_CHARS = 128;

/** A delivery as `POST /kadi/events` carries it (and `kadi.event.delivery` params). */
export const kadiDeliverySchema = z.object({
  channel: z.string().min(1).max(KADI_CHANNEL_MAX_CHARS),
  data: z.unknown(),
});

/** The bot's own user id on each platform (`SLACK_BOT_USER_ID`, `DISCORD_BOT_USER_ID`). */
export type BotUserIds = Partial<Record<Platform, string | undefined>>;

/** The platforms whose mentions a broker may relay, and our bot on each. */
export interface KadiRouting {
  adapters: readonly Pick<PlatformAdapter, "platform" | "kadi">[];
  bots: BotUserIds;
}

/**
 * The channels the listener subscribes to: `{channelPrefix}{bot user id}` for every platform
 * whose bot user id is configured (without it there is no channel name to subscribe).
 */
export function mentionChannels(routing: KadiRouting): string[] {
  return routing.adapters.flatMap((adapter) => {
    const bot = routing.bots[adapter.platform];
    return bot ? [`${adapter.kadi.channelPrefix}${bot}`] : [];
  });
}

/** What to do with a delivery. Pure data, decided by {@link routeKadiDelivery}. */
export type KadiRoute =
  | { action: "ignore"; reason: string }
  /**
   * The channel is ours but the payload is not a chat event we can answer. `error` names the
   * field and what is wrong with it, never its value; `eventId` is the payload's `id` when it
   * is a plausible id, for the log.
   */
  | { action: "invalid"; error: string; eventId?: string }
  | {
      action: "enqueue";
      /**
       * Dedupe key: `{platform}:{channel}:{id}`. Slack ids (message `ts`) are unique only within
       * a channel, so the event id alone could collide across channels.
       */
      dedupeId: string;
      job: ChatJob;
    };

/**
 * Decides what to do with one delivery, whether it arrived over the broker socket or through
 * `POST /kadi/events`:
 * - channels no platform claims are ignored, and so are mentions of another bot (channel
 *   suffix or `bot_id` differing from ours);
 * - a payload its platform cannot parse is `invalid`;
 * - the bot's own messages and texts empty after removing mentions are ignored;
 * - anything else becomes the platform's {@link ChatJob}, answered through the broker.
 *
 * `bot_id` names the mentioned bot, as the broker's platform agents publish it, not a sending
 * bot; the agents already drop messages from bots before publishing, so `bot_id` is never used
 * to discard an event addressed to us.
 *
 * @param nowMs - fallback `sentAt` when the event carries no parsable time (epoch ms).
 */
export function routeKadiDelivery(
  delivery: { channel: string; data: unknown },
  routing: KadiRouting,
  nowMs: number,
): KadiRoute {
  const { channel } = delivery;
  const adapter = routing.adapters.find((a) => channel.startsWith(a.kadi.channelPrefix));
  if (!adapter) return { action: "ignore", reason: `channel ${loggableOrShape(channel)}` };
  const botUserId = routing.bots[adapter.platform];
  const addressee = channel.slice(adapter.kadi.channelPrefix.length);
  if (botUserId && addressee !== botUserId) return { action: "ignore", reason: "another bot" };
  const parsed = adapter.kadi.parseMention(unwrapEnvelope(delivery.data), {
    channel,
    botUserId,
    nowMs,
  });
  if (!parsed.ok) {
    return parsed.eventId
      ? { action: "invalid", error: parsed.error, eventId: parsed.eventId }
      : { action: "invalid", error: parsed.error };
  }
  if (botUserId && parsed.mentionedBot && parsed.mentionedBot !== botUserId) {
    return { action: "ignore", reason: "another bot" };
  }
  if (parsed.user === (botUserId ?? addressee)) return { action: "ignore", reason: "own message" };
  if (!parsed.job) return { action: "ignore", reason: "empty text" };
  return {
    action: "enqueue",
    dedupeId: `${adapter.platform}:${parsed.job.conversation.channelId}:${parsed.eventId}`,
    job: parsed.job,
  };
}

/**
 * Publishers built on the KĀDI core library wrap the payload in an envelope
 * `{eventName, data, timestamp, source, metadata}`; the chat event is then its `data`.
 */
function unwrapEnvelope(data: unknown): unknown {
  if (typeof data !== "object" || data === null || "id" in data) return data;
  const inner = (data as { data?: unknown }).data;
  return typeof inner === "object" && inner !== null ? inner : data;
}
