/**
 * Field conventions shared by the mentions the broker's platform agents publish
 * (docs/architecture.md, "Platforms and transports"): required ids and text are non-empty strings,
 * optional fields arrive absent or `null`, times come in several notations.
 */
import * as z from "zod";

/** A required field: a non-empty string. */
export const requiredText = z.string().min(1);

/** An optional field: publishers send it absent or `null` when they have no value. */
export const optionalText = z.string().nullish();

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

/** Longest `id` copied into a refusal's log record: real ids are under 30 characters. */
const MAX_LOGGED_ID = 64;

/** The payload's `id` when it is a plausible id, for the log of a refusal. */
export function loggableId(data: unknown): string | undefined {
  const id = (data as { id?: unknown } | null)?.id;
  return typeof id === "string" && id.length > 0 && id.length <= MAX_LOGGED_ID ? id : undefined;
}
