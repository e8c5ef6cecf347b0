import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signRequest, verifyRequestSignature } from "../../core/ingress/hmac-signature";

const secret = "8f742231b10e8888abcd99yyyzzz85a5";
const body = '{"type":"event_callback","event_id":"Ev1"}';
const now = 1_700_000_000;

describe("Slack request signatures", () => {
  it("matches Slack's documented v0 HMAC-SHA256 construction", () => {
    const expected = `v0=${createHmac("sha256", secret).update(`v0:${now}:${body}`).digest("hex")}`;
    expect(signRequest(secret, String(now), body)).toBe(expected);
  });

  it("accepts a correct signature within five minutes", () => {
    const signature = signRequest(secret, String(now - 299), body);
    expect(
      verifyRequestSignature({
        secret,
        rawBody: body,
        timestamp: String(now - 299),
        signature,
        nowSeconds: now,
      }),
    ).toEqual({ ok: true });
  });

  it.each([
    ["stale", String(now - 301), "stale_timestamp"],
    ["future", String(now + 301), "stale_timestamp"],
    ["malformed", "12ab", "malformed_timestamp"],
  ])("rejects a %s timestamp", (_name, timestamp, reason) => {
    const signature = signRequest(secret, timestamp, body);
    expect(
      verifyRequestSignature({ secret, rawBody: body, timestamp, signature, nowSeconds: now }),
    ).toEqual({
      ok: false,
      reason,
    });
  });

  it("rejects a body changed by one byte, a wrong secret, and missing headers", () => {
    const ts = String(now);
    const signature = signRequest(secret, ts, body);
    const check = (over: Partial<Parameters<typeof verifyRequestSignature>[0]>) =>
      verifyRequestSignature({
        secret,
        rawBody: body,
        timestamp: ts,
        signature,
        nowSeconds: now,
        ...over,
      });
    expect(check({ rawBody: body.replace("Ev1", "Ev2") })).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    expect(check({ secret: "other" })).toEqual({ ok: false, reason: "bad_signature" });
    expect(check({ signature: "v0=short" })).toEqual({ ok: false, reason: "bad_signature" });
    expect(check({ signature: undefined })).toEqual({ ok: false, reason: "missing_headers" });
    expect(check({ timestamp: undefined })).toEqual({ ok: false, reason: "missing_headers" });
  });
});
