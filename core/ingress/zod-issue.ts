import type * as z from "zod";
import { ISSUE_PATH_MAX_CHARS, LOGGED_VALUE_MAX_CHARS } from "../constants/limits";

/** Longest issue message kept; zod's own messages are far shorter. */
const MESSAGE_MAX_CHARS = 200;

/**
 * The one way a refused payload is explained: the first issue zod found, as
 * `{path} {message}`, e.g. `event.ts Invalid input: expected string, received number`. Zod's
 * messages name the expected and received types, never the value, so the text is safe to log
 * and to answer with. A path's segments can be payload keys (a record's), so each is cut to 64
 * characters and the whole path to `ISSUE_PATH_MAX_CHARS` (120), keeping its first and last
 * segments (`a.b.….y.z`): a payload nested 10 000 levels deep is still named in one short line.
 *
 * @param root - names the payload when the issue is at its top level (path empty), e.g. `body`.
 * @param prefix - path segments the schema was applied under, e.g. `["data"]` for a schema of
 *   an interaction's `data`.
 */
export function describeIssue(
  error: z.ZodError,
  root = "body",
  prefix: readonly PropertyKey[] = [],
): string {
  const first = error.issues[0];
  const path = boundPath([...prefix, ...(first?.path ?? [])].map(segment));
  const message = (first?.message ?? "is invalid").slice(0, MESSAGE_MAX_CHARS);
  return `${path || root} ${message}`;
}

function segment(key: PropertyKey): string {
  const text = String(key);
  return text.length <= LOGGED_VALUE_MAX_CHARS ? text : `${text.slice(0, LOGGED_VALUE_MAX_CHARS)}…`;
}

/** Joins `segments` with dots, dropping middle segments until it fits. */
function boundPath(segments: string[]): string {
  const joined = segments.join(".");
  if (joined.length <= ISSUE_PATH_MAX_CHARS) return joined;
  const head: string[] = [];
  const tail: string[] = [];
  let length = 1; // the ellipsis segment
  for (let i = 0, j = segments.length - 1; i <= j; ) {
    const next = head.length <= tail.length ? segments[i] : segments[j];
    if (next === undefined || length + next.length + 1 > ISSUE_PATH_MAX_CHARS) break;
    length += next.length + 1;
    if (head.length <= tail.length) {
      head.push(next);
      i++;
    } else {
      tail.unshift(next);
      j--;
    }
  }
  return [...head, "…", ...tail].join(".");
}
