import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  generateKeyPair,
  loadPrivateKey,
  publicKeyBase64,
  signNonce,
  verifyNonceSignature,
} from "../../core/kadi/keys";
import {
  AbilityResponseParamsSchema,
  encodeError,
  encodeRequest,
  encodeResult,
  parseJsonRpcMessage,
} from "../../core/kadi/protocol";
import { reconnectDelayMs } from "../../core/resilience/backoff";

describe("parseJsonRpcMessage", () => {
  it("classifies requests with string ids and no jsonrpc member", () => {
    expect(
      parseJsonRpcMessage(
        '{"id":"abc-1","method":"kadi.ability.request","params":{"toolName":"t"}}',
      ),
    ).toEqual({
      kind: "request",
      id: "abc-1",
      method: "kadi.ability.request",
      params: { toolName: "t" },
    });
  });

  it("treats a method without id (or with id null) as a notification", () => {
    expect(
      parseJsonRpcMessage('{"jsonrpc":"2.0","method":"kadi.event.delivery","params":{}}'),
    ).toEqual({
      kind: "notification",
      method: "kadi.event.delivery",
      params: {},
    });
    expect(parseJsonRpcMessage('{"id":null,"method":"m"}')).toMatchObject({ kind: "notification" });
  });

  it("classifies success (even with a null result) and failure responses", () => {
    expect(parseJsonRpcMessage('{"id":3,"result":null}')).toEqual({
      kind: "success",
      id: 3,
      result: null,
    });
    expect(parseJsonRpcMessage('{"id":"7","result":"pong"}')).toEqual({
      kind: "success",
      id: "7",
      result: "pong",
    });
    expect(
      parseJsonRpcMessage(
        '{"jsonrpc":"2.0","id":4,"error":{"code":-32001,"message":"invalid signature"}}',
      ),
    ).toEqual({ kind: "failure", id: 4, error: { code: -32001, message: "invalid signature" } });
  });

  it("reports malformed frames without throwing, flagging malformed requests", () => {
    expect(parseJsonRpcMessage("not json")).toMatchObject({ kind: "invalid", hadMethod: false });
    expect(parseJsonRpcMessage("[1,2]")).toMatchObject({ kind: "invalid" });
    expect(parseJsonRpcMessage('{"id":1}')).toMatchObject({ kind: "invalid", id: 1 });
    expect(parseJsonRpcMessage('{"jsonrpc":"1.0","id":1,"method":"m"}')).toMatchObject({
      kind: "invalid",
      id: 1,
      hadMethod: true,
    });
    expect(parseJsonRpcMessage('{"id":2,"error":{"message":"no code"}}')).toMatchObject({
      kind: "invalid",
      id: 2,
      hadMethod: false,
    });
  });

  it("encodes with jsonrpc 2.0 and round-trips through the parser", () => {
    expect(JSON.parse(encodeRequest("kadi.session.ping", {}, 5))).toEqual({
      jsonrpc: "2.0",
      id: 5,
      method: "kadi.session.ping",
      params: {},
    });
    expect(parseJsonRpcMessage(encodeRequest("n", { a: 1 }))).toEqual({
      kind: "notification",
      method: "n",
      params: { a: 1 },
    });
    expect(parseJsonRpcMessage(encodeResult("x", undefined))).toEqual({
      kind: "success",
      id: "x",
      result: null,
    });
    expect(parseJsonRpcMessage(encodeError(null, { code: -32600, message: "bad" }))).toEqual({
      kind: "failure",
      id: null,
      error: { code: -32600, message: "bad" },
    });
  });

  it("accepts ability responses with an error object, an error string, or a result", () => {
    expect(AbilityResponseParamsSchema.parse({ requestId: "r", result: { ok: true } })).toEqual({
      requestId: "r",
      result: { ok: true },
    });
    expect(AbilityResponseParamsSchema.parse({ requestId: 1, error: "boom" }).error).toBe("boom");
    expect(
      AbilityResponseParamsSchema.parse({ requestId: "r", result: null, error: null }).error,
    ).toBeNull();
    expect(AbilityResponseParamsSchema.safeParse({ result: 1 }).success).toBe(false);
  });
});

describe("Ed25519 keys", () => {
  it("loads a PKCS#8 PEM, also with literal \\n escapes as env files carry them", () => {
    const { privateKeyPem, privateKey } = generateKeyPair();
    expect(publicKeyBase64(loadPrivateKey(privateKeyPem))).toBe(publicKeyBase64(privateKey));
    const escaped = privateKeyPem.trimEnd().replaceAll("\n", "\\n");
    expect(publicKeyBase64(loadPrivateKey(escaped))).toBe(publicKeyBase64(privateKey));
  });

  it("refuses malformed PEMs and non-Ed25519 keys without echoing the key", () => {
    expect(() =>
      loadPrivateKey("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"),
    ).toThrow("KADI private key is not a valid PKCS#8 PEM");
    const ecPem = generateKeyPairSync("ec", { namedCurve: "P-256" })
      .privateKey.export({ format: "pem", type: "pkcs8" })
      .toString();
    expect(() => loadPrivateKey(ecPem)).toThrow(/must be Ed25519, got ec/);
  });

  it("exports the public key as base64 SPKI DER (44 bytes for Ed25519)", () => {
    const { privateKey, publicKey } = generateKeyPair();
    const b64 = publicKeyBase64(privateKey);
    expect(b64).toBe(publicKeyBase64(publicKey));
    const der = Buffer.from(b64, "base64");
    expect(der).toHaveLength(44);
    // SPKI prefix of an Ed25519 key (RFC 8410 §4): SEQUENCE, AlgorithmIdentifier 1.3.101.112.
    expect(der.subarray(0, 12).toString("hex")).toBe("302a300506032b6570032100");
  });

  it("signs the nonce's UTF-8 bytes; the signature verifies only for that nonce and key", () => {
    const { privateKey } = generateKeyPair();
    const other = generateKeyPair().privateKey;
    const nonce = "n0nce-ü-42";
    const signature = signNonce(privateKey, nonce);
    expect(Buffer.from(signature, "base64")).toHaveLength(64);
    expect(verifyNonceSignature(publicKeyBase64(privateKey), nonce, signature)).toBe(true);
    expect(verifyNonceSignature(publicKeyBase64(privateKey), `${nonce}x`, signature)).toBe(false);
    expect(verifyNonceSignature(publicKeyBase64(other), nonce, signature)).toBe(false);
    expect(verifyNonceSignature("not-a-key", nonce, signature)).toBe(false);
  });
});

describe("reconnectDelayMs", () => {
  it("doubles from the initial delay and caps at the maximum: 1, 2, 4 … 60 s", () => {
    const opts = { initialMs: 1_000, maxMs: 60_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => reconnectDelayMs(n, opts))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]);
  });

  it("jitters within [d/2, d] when a random source is given", () => {
    const opts = { initialMs: 1_000, maxMs: 60_000 };
    expect(reconnectDelayMs(3, { ...opts, random: () => 0 })).toBe(2_000);
    expect(reconnectDelayMs(3, { ...opts, random: () => 0.999999 })).toBe(4_000);
    expect(reconnectDelayMs(10, { ...opts, random: () => 0.5 })).toBe(45_000);
  });
});
