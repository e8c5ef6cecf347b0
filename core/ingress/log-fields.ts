/**
 * What of a payload may go into a log record: short, printable strings (ids, event types,
 * channel names), never anything else. A raw value can be megabytes long or nested thousands of
 * levels deep (the logger's `JSON.stringify` then throws `RangeError`), and may be personal
 * data; so a value is logged only when {@link loggable} lets it through, and by its size
 * otherwise.
 */
import { LOGGED_VALUE_MAX_CHARS } from "../constants/limits";

/** Printable characters only: no controls, separators other than the space, or lone surrogates. */
const PRINTABLE = /^[^\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]+$/u;

/**
 * `value` when it is a non-empty printable string of at most `LOGGED_VALUE_MAX_CHARS` (64)
 * characters, else `undefined`. For ids and names worth a log field; never for texts.
 */
export function loggable(value: unknown): string | undefined {
  return typeof value === "string" &&
    value.length > 0 &&
    value.length <= LOGGED_VALUE_MAX_CHARS &&
    PRINTABLE.test(value)
    ? value
    : undefined;
}

/**
 * `loggable(value)`, or a description of what was there instead (`string of 4096 chars`,
 * `object`), for a log field that should say why a value is missing.
 */
export function loggableOrShape(value: unknown): string {
  const shown = loggable(value);
  if (shown !== undefined) return shown;
  if (typeof value === "string") return `string of ${value.length} chars`;
  return value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
}

/** Longest refusal or ignore reason logged; reasons are built from field names, not values. */
const REASON_MAX_CHARS = 300;

/**
 * A request's log fields with every string passed through {@link loggableOrShape}, so a
 * webhook's ids can never smuggle a raw value into the log; numbers pass as they are.
 */
export function loggableKeys(
  keys: Record<string, string | number | undefined> | undefined,
): Record<string, string | number | undefined> {
  const out: Record<string, string | number | undefined> = {};
  for (const [name, value] of Object.entries(keys ?? {})) {
    out[name] = typeof value === "string" ? loggableOrShape(value) : value;
  }
  return out;
}

/** `reason` cut to 300 characters: a backstop, since reasons name fields, never values. */
export function loggableReason(reason: string): string {
  return reason.length <= REASON_MAX_CHARS ? reason : `${reason.slice(0, REASON_MAX_CHARS)}…`;
}
