/**
 * Signature of `POST /kadi/events`, the HTTP callback form of a `kadi.event.delivery`
 * (docs/architecture.md, "Platforms and transports"): signed exactly like Slack requests, with KĀDI
 * header names.
 */
import {
  type SignatureFailure,
  signRequest,
  verifyRequestSignature,
} from "../ingress/hmac-signature";

/** Header carrying the signing time, epoch seconds. */
export const KADI_TIMESTAMP_HEADER = "x-kadi-request-timestamp";

/** Header carrying `v0=hex(HMAC-SHA256(KADI_CALLBACK_SECRET, "v0:{ts}:{body}"))`. */
export const KADI_SIGNATURE_HEADER = "x-kadi-signature";

/**
 * Verifies a KĀDI callback: `X-Kadi-Signature` must equal
 * `v0=` + hex(HMAC-SHA256(secret, `v0:{X-Kadi-Request-Timestamp}:{rawBody}`)), compared in
 * constant time, and the timestamp must lie within 5 minutes of `nowSeconds` (replay guard).
 * The scheme is Slack's (https://api.slack.com/authentication/verifying-requests-from-slack),
 * so the same verifier serves both.
 *
 * @param headers - case-insensitive header lookup (lower-case names are asked for).
 * @returns `{ ok: true }` or `{ ok: false, reason }` (safe to log and return); never throws.
 */
export function verifyKadiCallback(input: {
  secret: string;
  rawBody: string;
  headers: (name: string) => string | undefined;
  nowSeconds: number;
}): { ok: true } | { ok: false; reason: SignatureFailure } {
  return verifyRequestSignature({
    secret: input.secret,
    rawBody: input.rawBody,
    timestamp: input.headers(KADI_TIMESTAMP_HEADER),
    signature: input.headers(KADI_SIGNATURE_HEADER),
    nowSeconds: input.nowSeconds,
  });
}

/**
 * The headers a relay sends with a callback body: timestamp and signature as
 * {@link verifyKadiCallback} expects them, plus `content-type: application/json`.
 *
 * @param timestampSeconds - signing time, epoch seconds.
 */
export function signKadiCallback(
  secret: string,
  rawBody: string,
  timestampSeconds: number,
): Record<string, string> {
  const timestamp = String(Math.floor(timestampSeconds));
  return {
    "content-type": "application/json",
    [KADI_TIMESTAMP_HEADER]: timestamp,
    [KADI_SIGNATURE_HEADER]: signRequest(secret, timestamp, rawBody),
  };
}
