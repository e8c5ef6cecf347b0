import type * as z from "zod";

/**
 * The one way a refused payload is explained: the first issue zod found, as
 * `{path} {message}`, e.g. `event.ts Invalid input: expected string, received number`. Zod's
 * messages name the expected and received types, never the value, so the text is safe to log
 * and to answer with.
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
  const path = [...prefix, ...(first?.path ?? [])].map(String).join(".");
  return `${path || root} ${first?.message ?? "is invalid"}`;
}
