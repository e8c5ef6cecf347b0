import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signKadiCallback, verifyKadiCallback } from "../../core/kadi/callback";

const SECRET = "kadi-callback-secret";
const BODY = JSON.stringify({ channel: "slack.app_mention.U1", data: { id: "1" } });
const NOW = 1_700_000_000;

function headersOf(record: Record<string, string>) {
  return (name: string) => record[name.toLowerCase()];
}

describe("KĀDI callback signature", () => {
  it("signs v0:{ts}:{body} with HMAC-SHA256 under the X-Kadi-* headers", () => {
    const headers = signKadiCallback(SECRET, BODY, NOW);
    const expected = createHmac("sha256", SECRET).update(`v0:${NOW}:${BODY}`).digest("hex");
    expect(headers).toEqual({
      "content-type": "application/json",
      "x-kadi-request-timestamp": String(NOW),
      "x-kadi-signature": `v0=${expected}`,
    });
  });

  it("accepts its own signature within five minutes", () => {
    const headers = headersOf(signKadiCallback(SECRET, BODY, NOW));
    expect(
      verifyKadiCallback({ secret: SECRET, rawBody: BODY, headers, nowSeconds: NOW + 300 }),
    ).toEqual({ ok: true });
  });

  it("refuses a changed body, another secret, a stale timestamp or missing headers", () => {
    const headers = headersOf(signKadiCallback(SECRET, BODY, NOW));
    const verify = (input: Partial<Parameters<typeof verifyKadiCallback>[0]>) =>
      verifyKadiCallback({ secret: SECRET, rawBody: BODY, headers, nowSeconds: NOW, ...input });
    expect(verify({ rawBody: `${BODY} ` })).toEqual({ ok: false, reason: "bad_signature" });
    expect(verify({ secret: "other" })).toEqual({ ok: false, reason: "bad_signature" });
    expect(verify({ nowSeconds: NOW + 301 })).toEqual({ ok: false, reason: "stale_timestamp" });
    expect(verify({ headers: () => undefined })).toEqual({
      ok: false,
      reason: "missing_headers",
    });
  });

  it("does not accept Slack's header names", () => {
    const kadi = signKadiCallback(SECRET, BODY, NOW);
    const slackNamed = headersOf({
      "x-slack-request-timestamp": kadi["x-kadi-request-timestamp"] as string,
      "x-slack-signature": kadi["x-kadi-signature"] as string,
    });
    expect(
      verifyKadiCallback({ secret: SECRET, rawBody: BODY, headers: slackNamed, nowSeconds: NOW }),
    ).toEqual({ ok: false, reason: "missing_headers" });
  });
});
