/**
 * What of a tool call may be kept: secret-looking values are replaced (`redact`) before a call
 * is stored with the turn, and a result is cut to a size budget (`cutResult`) before the model
 * or the store sees it. Pure.
 */
import { TOOL_RESULT_MAX_BYTES } from "../constants/agent";

/** What a redacted value is replaced with. */
export const REDACTED = "[redacted]";

/**
 * Field names whose value is a secret whatever it looks like, compared lower-case without `_`
 * and `-` (`api_key`, `apiKey` and `API-KEY` are all `apikey`): any name containing one of
 * these. Numbers and booleans under `token` names are kept (`inputTokens` is a count).
 */
const SECRET_NAME_PARTS = [
  "password",
  "passwd",
  "passphrase",
  "secret",
  "apikey",
  "privatekey",
  "authorization",
  "credential",
  "cookie",
] as const;

/** Names that hold a secret when the value is text: `accessToken`, `refresh_token`, `auth`. */
const TOKEN_NAME_PARTS = ["token", "auth"] as const;

/**
 * Secret-looking runs inside any text, replaced wherever they occur:
 * - PEM blocks (`-----BEGIN … PRIVATE KEY-----` … `-----END …-----`), and a block whose end was
 *   cut off (everything after its BEGIN line);
 * - provider keys: OpenAI/Anthropic `sk-…`, Slack `xox[abposr]-…`, GitHub `gh[pousr]_…`,
 *   AWS access key ids `AKIA…`/`ASIA…`;
 * - JWT-like tokens (`eyJ…`, a base64url JSON header);
 * - long base64 runs (40+ characters mixing upper case, lower case and digits) and hex runs
 *   (48+), which is how most other keys and signatures look. A UUID or a git commit id is kept.
 */
const SECRET_PATTERNS: readonly RegExp[] = [
  /-----BEGIN [A-Z0-9 ]{1,40}-----[\s\S]*?(?:-----END [A-Z0-9 ]{1,40}-----|$)/g,
  /(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{16,}/g,
  /(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{8,}/g,
  /(?<![A-Za-z0-9])gh[pousr]_[A-Za-z0-9]{20,}/g,
  /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}/g,
  /(?<![A-Za-z0-9])eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){0,2}/g,
  // base64 / base64url: upper, lower and digits mixed, as random bytes encode.
  /(?<![A-Za-z0-9+/_-])(?=[A-Za-z0-9+/_-]*[0-9])(?=[A-Za-z0-9+/_-]*[a-z])(?=[A-Za-z0-9+/_-]*[A-Z])[A-Za-z0-9+/_-]{40,}={0,2}/g,
  // hex: longer than a git commit id (40), so SHA-256 digests and hex keys go, commit ids stay.
  /(?<![0-9a-fA-F])(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{48,}/g,
];

/** Deepest nesting walked; deeper values are replaced (no tool result is nested this deep). */
const MAX_DEPTH = 32;

/**
 * A copy of `value` with secrets replaced by `"[redacted]"`:
 * - the value of a field whose name looks like a secret (`password`, `secret`, `apiKey`,
 *   `privateKey`, `authorization`, `credentials`, `cookie`, … and text under `token`/`auth`
 *   names), whatever its shape;
 * - a string under a name ending in `key` (`key`, `accessKey`, `sshKey`) that looks like a key
 *   (16+ characters without spaces, letters and digits mixed);
 * - secret-looking runs inside every string (see `SECRET_PATTERNS` in this file).
 *
 * Works on JSON-like values (objects, arrays, strings, numbers, booleans, null); anything else
 * (functions, symbols) becomes its type name, cycles and nesting deeper than 32 levels
 * `"[redacted]"`. Never throws.
 */
export function redact(value: unknown): unknown {
  return walk(value, 0, new WeakSet());
}

/** `text` with every secret-looking run (see {@link redact}) replaced. */
export function redactText(text: string): string {
  let out = text;
  // A second pass catches a run that only formed once its neighbour was replaced; the marker's
  // brackets end every pattern, so two passes are enough and the loop is a backstop.
  for (let pass = 0; pass < 3; pass++) {
    const next = SECRET_PATTERNS.reduce((acc, pattern) => acc.replace(pattern, REDACTED), out);
    if (next === out) return next;
    out = next;
  }
  return out;
}

/** True when `text` still holds a run that {@link redactText} would replace (for tests). */
export function looksSecret(text: string): boolean {
  return SECRET_PATTERNS.some((pattern) => new RegExp(pattern.source).test(text));
}

function walk(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === "string") return redactText(value);
  if (value === null || typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value !== "object") return typeof value;
  if (depth >= MAX_DEPTH || seen.has(value)) return REDACTED;
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1, seen));
    const out: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(value)) {
      out[name] = secretField(name, field) ? REDACTED : walk(field, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function secretField(name: string, value: unknown): boolean {
  if (value === null || value === undefined || typeof value === "boolean") return false;
  const normalized = name.toLowerCase().replace(/[_-]/g, "");
  if (SECRET_NAME_PARTS.some((part) => normalized.includes(part))) return true;
  if (typeof value === "number") return false;
  if (TOKEN_NAME_PARTS.some((part) => normalized.includes(part))) return true;
  return normalized.endsWith("key") && typeof value === "string" && keyLike(value);
}

/** A value under a `…key` name that reads as a key rather than a name (`deploy-notes`). */
function keyLike(value: string): boolean {
  return value.length >= 16 && !/\s/.test(value) && /[0-9]/.test(value) && /[A-Za-z]/.test(value);
}

/**
 * The JSON text of a tool result (a string result as it is, without quotes), cut to `maxBytes`
 * bytes of UTF-8 when longer: the cut falls on a character boundary and the text ends with a
 * note `(cut: N of M bytes shown)`, so the model knows it saw a part. The answer never exceeds
 * `maxBytes` bytes (below about 40 bytes the note itself is left out) and is always valid
 * UTF-8 (a lone surrogate in a string becomes U+FFFD, as `Buffer` encodes it).
 *
 * @param maxBytes - budget in bytes of UTF-8, default `TOOL_RESULT_MAX_BYTES.default` (8192).
 */
export function cutResult(
  value: unknown,
  maxBytes: number = TOOL_RESULT_MAX_BYTES.default,
): string {
  const text = typeof value === "string" ? value : (safeJson(value) ?? "null");
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return bytes.toString("utf8");
  const total = bytes.length;
  // The note's length depends on how many bytes are shown; the longest form bounds it.
  const longestNote = note(total, total);
  const noteBytes = Buffer.byteLength(longestNote, "utf8");
  if (noteBytes >= maxBytes) return bytes.subarray(0, boundary(bytes, maxBytes)).toString("utf8");
  const shown = boundary(bytes, maxBytes - noteBytes);
  return `${bytes.subarray(0, shown).toString("utf8")}${note(shown, total)}`;
}

function note(shown: number, total: number): string {
  return `\n(cut: ${shown} of ${total} bytes shown)`;
}

/** The largest `n <= limit` at which `bytes` can be cut without splitting a character. */
function boundary(bytes: Buffer, limit: number): number {
  let n = Math.max(0, Math.min(limit, bytes.length));
  // A continuation byte (10xxxxxx) at `n` means the character starting before it would split.
  while (n > 0 && n < bytes.length && ((bytes[n] ?? 0) & 0xc0) === 0x80) n--;
  return n;
}

/** `JSON.stringify`, or `undefined` for what JSON cannot hold (cycles, BigInt). */
function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** Bytes of UTF-8 of `value`'s JSON (a string counts as itself), for the audit log. */
export function jsonBytes(value: unknown): number {
  if (value === undefined) return 0;
  const text = typeof value === "string" ? value : (safeJson(value) ?? "");
  return Buffer.byteLength(text, "utf8");
}
