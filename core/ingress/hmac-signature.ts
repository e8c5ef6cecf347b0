/**
 * The `v0` HMAC request-signing scheme Slack defines
 * (https://api.slack.com/authentication/verifying-requests-from-slack), shared by every webhook
 * that uses it: Slack's events endpoint (`X-Slack-*` headers) and `POST /kadi/events`
 * (`X-Kadi-*` headers, see `core/kadi/callback.ts`).
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** Requests whose timestamp is further than this from our clock are rejected (replay guard). */
export const MAX_SIGNATURE_AGE_SECONDS = 5 * 60;

/** Why a signed request was refused; `reason` is safe to log and to return to the caller. */
export type SignatureFailure =
  | "missing_headers"
  | "malformed_timestamp"
  | "stale_timestamp"
  | "bad_signature";

/**
 * Verifies an HMAC-SHA256 request signature in Slack's `v0` scheme
 * (https://api.slack.com/authentication/verifying-requests-from-slack): the expected value is
 * `v0=` + hex(HMAC-SHA256(secret, `v0:{timestamp}:{rawBody}`)). The comparison is constant
 * time; timestamps more than {@link MAX_SIGNATURE_AGE_SECONDS} from `nowSeconds` fail.
 *
 * @param rawBody - the body exactly as received (bytes decoded as UTF-8), before any parsing.
 * @param timestamp - the timestamp header (`X-Slack-Request-Timestamp`), epoch seconds.
 * @param signature - the signature header (`X-Slack-Signature`).
 * @returns `{ ok: true }` or `{ ok: false, reason }`; never throws.
 */
export function verifyRequestSignature(input: {
  secret: string;
  rawBody: string;
  timestamp: string | undefined;
  signature: string | undefined;
  nowSeconds: number;
}): { ok: true } | { ok: false; reason: SignatureFailure } {
  const { secret, rawBody, timestamp, signature, nowSeconds } = input;
  if (!timestamp || !signature) return { ok: false, reason: "missing_headers" };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "malformed_timestamp" };
  if (Math.abs(nowSeconds - Number(timestamp)) > MAX_SIGNATURE_AGE_SECONDS) {
    return { ok: false, reason: "stale_timestamp" };
  }
  const expected = Buffer.from(signRequest(secret, timestamp, rawBody), "utf8");
  const received = Buffer.from(signature, "utf8");
  if (expected.length !== received.length || !timingSafeEqual(expected, received)) {
    return { ok: false, reason: "bad_signature" };
  }
  return { ok: true };
}

/**
 * The `v0=…` signature of a body, as Slack computes it. Exported for tests, the benchmark and
 * clients that sign KĀDI HTTP callbacks the same way.
 */
export function signRequest(secret: string, timestamp: string, rawBody: string): string {
  const digest = createHmac("sha256", secret).update(`v0:${timestamp}:${rawBody}`).digest("hex");
  return `v0=${digest}`;
}
