/**
 * Field conventions shared by the mentions the broker's platform agents publish
 * (docs/architecture.md, "Platforms and transports"): required ids and text are non-empty strings,
 * optional fields arrive absent or `null`, times come in several notations. Ids, times and
 * names are platform values, so they are bounded like the platform's own
 * (`PLATFORM_ID_MAX_CHARS`, 64 characters); texts by the platform's message limit.
 */
import * as z from "zod";
import { PLATFORM_ID_MAX_CHARS } from "../constants/limits";
import { loggable } from "../ingress/log-fields";

/** A required field: a non-empty string. */
export const requiredText = z.string().min(1);

/** A required id (event, user, channel): 1–64 characters. */
export const requiredId = z.string().min(1).max(PLATFORM_ID_MAX_CHARS);

/**
 * An optional id, time or short name: publishers send it absent or `null` when they have no
 * value; at most 64 characters.
 */
export const optionalId = z.string().max(PLATFORM_ID_MAX_CHARS).nullish();

/** A required message text of 1 to `maxChars` characters. */
export function messageText(maxChars: number) {
  return z.string().min(1).max(maxChars);
}

/**
 * The fields every published mention has, whatever the platform: `{id, user, text, channel,
 * ts, bot_id, timestamp}`. Only `id`, `user`, `text` and `channel` are required; `bot_id` names
 * the mentioned bot, `timestamp` is the time of publication. Unknown fields are ignored. A
 * platform extends it with its own fields and its text bound.
 *
 * @param maxTextChars - the platform's longest message, characters.
 */
export function mentionSchema(maxTextChars: number) {
  return z.looseObject({
    id: requiredId,
    user: requiredId,
    text: messageText(maxTextChars),
    channel: requiredId,
    ts: optionalId,
    bot_id: optionalId,
    timestamp: optionalId,
  });
}

/**
 * Epoch ms of a publisher's time field: Slack-style `seconds.micros`, epoch seconds, epoch ms,
 * or an ISO 8601 time; `undefined` for anything else.
 */
export function instantMs(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  // Eleven digits of seconds reach to the year 5138; twelve or more are milliseconds.
  if (/^\d{1,11}(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  if (/^\d{12,13}$/.test(value)) return Number(value);
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
}

/** The payload's `id` when it is a plausible id (see `loggable`), for the log of a refusal. */
export function loggableId(data: unknown): string | undefined {
  return loggable((data as { id?: unknown } | null)?.id);
}
