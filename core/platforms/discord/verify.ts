import { webcrypto } from "node:crypto";
import { verifyKey } from "discord-interactions";

/**
 * Interactions whose `X-Signature-Timestamp` is further than this from our clock are refused.
 *
 * Discord does not ask for this check, but the signature covers the timestamp, so without it a
 * captured request stays valid forever. The dedupe marks that stop replays of an interaction id
 * expire after a day; a replayed `/forget` after that would wipe the conversation again. Discord
 * needs our answer within 3 s, so every genuine request is seconds old; five minutes absorbs
 * clock skew (the same window Slack uses for its signatures).
 */
export const MAX_INTERACTION_AGE_SECONDS = 5 * 60;

/** Why an interaction request was refused; safe to log and to return to the caller. */
export type InteractionSignatureFailure =
  | "missing_headers"
  | "malformed_timestamp"
  | "stale_timestamp"
  | "bad_signature";

/** Verifies one interaction request; see {@link createInteractionVerifier}. */
export type InteractionVerifier = (request: {
  /** The body exactly as received (UTF-8), before any parsing. */
  rawBody: string;
  /** `X-Signature-Ed25519`: hex Ed25519 signature of `timestamp + rawBody`. */
  signature: string | undefined;
  /** `X-Signature-Timestamp`: epoch seconds, as Discord sent it. */
  timestamp: string | undefined;
  /** Our clock, epoch seconds. */
  nowSeconds: number;
}) => Promise<{ ok: true } | { ok: false; reason: InteractionSignatureFailure }>;

/**
 * Builds the verifier of Discord's interaction signatures
 * (https://discord.com/developers/docs/interactions/receiving-and-responding#security-and-authorization):
 * Ed25519 over the bytes of `X-Signature-Timestamp` followed by the raw body, checked with
 * `verifyKey` from `discord-interactions` against the application's public key. The key is
 * imported once per verifier (a container) rather than per request, which halves the cost of a
 * verification on Node 20 (about 0.7 ms → 0.4 ms measured). Timestamps more than
 * {@link MAX_INTERACTION_AGE_SECONDS} away from `nowSeconds` fail.
 *
 * @param publicKeyHex - `DISCORD_PUBLIC_KEY`: 64 hex characters (32-byte raw Ed25519 key).
 * @returns a verifier that never throws: an unusable key makes every request fail as
 *   `bad_signature` (config validation already rejects malformed keys).
 */
export function createInteractionVerifier(publicKeyHex: string): InteractionVerifier {
  let key: Promise<webcrypto.CryptoKey | string> | undefined;
  const publicKey = () => {
    key ??= webcrypto.subtle
      .importKey("raw", Buffer.from(publicKeyHex, "hex"), { name: "Ed25519" }, false, ["verify"])
      // verifyKey imports the hex key itself (and reports a bad one as a failed check).
      .catch(() => publicKeyHex);
    return key;
  };
  return async ({ rawBody, signature, timestamp, nowSeconds }) => {
    if (!signature || !timestamp) return { ok: false, reason: "missing_headers" };
    if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "malformed_timestamp" };
    if (Math.abs(nowSeconds - Number(timestamp)) > MAX_INTERACTION_AGE_SECONDS) {
      return { ok: false, reason: "stale_timestamp" };
    }
    // verifyKey parses hex leniently (non-hex pairs become 0); insist on the exact shape.
    if (!/^[0-9a-fA-F]{128}$/.test(signature)) return { ok: false, reason: "bad_signature" };
    const valid = await verifyKey(rawBody, signature, timestamp, await publicKey());
    return valid ? { ok: true } : { ok: false, reason: "bad_signature" };
  };
}
