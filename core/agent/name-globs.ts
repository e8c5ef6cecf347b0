/**
 * Tool-name patterns of `KADI_TOOL_ALLOWLIST` and `TOOL_APPROVAL_REQUIRED`: exact names or
 * globs in which `*` stands for any run of characters (none included). No other character is
 * special, so a name never needs escaping. Matching is case-sensitive, as tool names are.
 */

/** A compiled list of name patterns; `true` when any matches the whole name. */
export type NameMatcher = (name: string) => boolean;

/**
 * Compiles `patterns` once into one matcher. An empty list matches nothing.
 *
 * @example compileNameGlobs(["cloud_*", "*delete*"])("cloud_upload_file") // true
 */
export function compileNameGlobs(patterns: readonly string[]): NameMatcher {
  if (patterns.length === 0) return () => false;
  const alternatives = patterns.map((pattern) =>
    pattern
      .split("*")
      .map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*"),
  );
  const regex = new RegExp(`^(?:${alternatives.join("|")})$`, "s");
  return (name) => regex.test(name);
}
