import { describe, expect, it } from "vitest";
import {
  createInteractionVerifier,
  MAX_INTERACTION_AGE_SECONDS,
} from "../../core/platforms/discord/verify";
import { discordTestKeys, signInteraction } from "../support/discord";

const keys = discordTestKeys();
const verify = createInteractionVerifier(keys.publicKeyHex);
const NOW = 1_900_000_000;
const body = JSON.stringify({ type: 1, id: "1" });

function check(headers: Record<string, string | undefined>, rawBody = body, nowSeconds = NOW) {
  return verify({
    rawBody,
    signature: headers["x-signature-ed25519"],
    timestamp: headers["x-signature-timestamp"],
    nowSeconds,
  });
}

describe("createInteractionVerifier", () => {
  it("accepts Discord's signature over timestamp + raw body", async () => {
    expect(await check(signInteraction(keys, body, { timestamp: NOW }))).toEqual({ ok: true });
  });

  it("accepts a signature made by the documented tweetnacl-style recipe (hex of the 64-byte signature)", async () => {
    const headers = signInteraction(keys, body, { timestamp: NOW });
    expect(headers["x-signature-ed25519"]).toMatch(/^[0-9a-f]{128}$/);
    expect(
      await check({
        ...headers,
        "x-signature-ed25519": headers["x-signature-ed25519"]?.toUpperCase(),
      }),
    ).toEqual({ ok: true });
  });

  it.each([
    ["a body changed by one byte", (h: Record<string, string>) => check(h, body.replace("1", "2"))],
    [
      "a timestamp changed by a second",
      (h: Record<string, string>) => check({ ...h, "x-signature-timestamp": String(NOW + 1) }),
    ],
    [
      "a flipped signature bit",
      (h: Record<string, string>) => {
        const sig = h["x-signature-ed25519"] ?? "";
        const flipped = (Number.parseInt(sig[0] ?? "0", 16) ^ 1).toString(16) + sig.slice(1);
        return check({ ...h, "x-signature-ed25519": flipped });
      },
    ],
    [
      "a signature that is not hex",
      (h: Record<string, string>) => check({ ...h, "x-signature-ed25519": "zz".repeat(64) }),
    ],
    [
      "a truncated signature",
      (h: Record<string, string>) =>
        check({ ...h, "x-signature-ed25519": h["x-signature-ed25519"]?.slice(0, 126) }),
    ],
  ])("refuses %s as bad_signature", async (_name, run) => {
    expect(await run(signInteraction(keys, body, { timestamp: NOW }))).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("refuses a request signed by another key", async () => {
    const other = discordTestKeys();
    expect(await check(signInteraction(other, body, { timestamp: NOW }))).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("refuses missing headers", async () => {
    const headers = signInteraction(keys, body, { timestamp: NOW });
    expect(await check({ ...headers, "x-signature-ed25519": undefined })).toEqual({
      ok: false,
      reason: "missing_headers",
    });
    expect(await check({ ...headers, "x-signature-timestamp": undefined })).toEqual({
      ok: false,
      reason: "missing_headers",
    });
  });

  it("refuses a timestamp that is not epoch seconds", async () => {
    const headers = signInteraction(keys, body, { timestamp: NOW });
    expect(await check({ ...headers, "x-signature-timestamp": "2030-01-01" })).toEqual({
      ok: false,
      reason: "malformed_timestamp",
    });
  });

  it("accepts up to five minutes of age or skew and refuses more, even when validly signed", async () => {
    const at = (offset: number) => check(signInteraction(keys, body, { timestamp: NOW + offset }));
    expect(await at(-MAX_INTERACTION_AGE_SECONDS)).toEqual({ ok: true });
    expect(await at(MAX_INTERACTION_AGE_SECONDS)).toEqual({ ok: true });
    expect(await at(-MAX_INTERACTION_AGE_SECONDS - 1)).toEqual({
      ok: false,
      reason: "stale_timestamp",
    });
    expect(await at(MAX_INTERACTION_AGE_SECONDS + 1)).toEqual({
      ok: false,
      reason: "stale_timestamp",
    });
  });

  it("fails closed (never throws) with an unusable public key", async () => {
    const broken = createInteractionVerifier("00".repeat(31));
    expect(
      await broken({
        rawBody: body,
        ...(() => {
          const h = signInteraction(keys, body, { timestamp: NOW });
          return { signature: h["x-signature-ed25519"], timestamp: h["x-signature-timestamp"] };
        })(),
        nowSeconds: NOW,
      }),
    ).toEqual({ ok: false, reason: "bad_signature" });
  });
});
