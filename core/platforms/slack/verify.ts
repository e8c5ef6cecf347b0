/**
 * The signature check every Slack webhook shares (`/slack/events`, `/slack/interactions`):
 * Slack's `v0` HMAC over the raw body (https://api.slack.com/authentication/verifying-requests-from-slack).
 */
import { verifyRequestSignature } from "../../ingress/hmac-signature";
import { type Refusal, refuse } from "../../ingress/pipeline";
import type { RawRequest } from "../../ingress/types";

/**
 * Verifies `request` with `signingSecret` (`SLACK_SIGNING_SECRET`): `{ok: true}`, 401 naming the
 * failure (`missing_headers`, `stale_timestamp`, `bad_signature`…), or 503
 * `slack_not_configured` when the secret is unset.
 */
export function verifySlackRequest(
  signingSecret: string | undefined,
  request: RawRequest,
  nowSeconds: number,
): { ok: true } | Refusal {
  if (!signingSecret) {
    return { ...refuse(503, "slack_not_configured"), reason: "SLACK_SIGNING_SECRET is not set" };
  }
  const verified = verifyRequestSignature({
    secret: signingSecret,
    rawBody: request.rawBody,
    timestamp: request.headers("x-slack-request-timestamp"),
    signature: request.headers("x-slack-signature"),
    nowSeconds,
  });
  return verified.ok ? verified : refuse(401, verified.reason);
}
