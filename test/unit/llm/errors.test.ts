import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import {
  isRetryableKind,
  kindForStatus,
  LlmError,
  parseRetryAfterMs,
  toLlmError,
} from "../../../core/llm/errors";

const NOW = Date.parse("2026-07-01T12:00:00Z");

function anthropicError(status: number, headers: Record<string, string> = {}) {
  return Anthropic.APIError.generate(
    status,
    { type: "error", error: { type: "api_error", message: `status ${status}` } },
    undefined,
    new Headers(headers),
  );
}

function openaiError(status: number, headers: Record<string, string> = {}) {
  return OpenAI.APIError.generate(
    status,
    { error: { message: `status ${status}`, type: "error" } },
    undefined,
    new Headers(headers),
  );
}

describe("toLlmError for error events inside a 200 stream (no HTTP status)", () => {
  it("maps Anthropic's in-stream overloaded_error to server, as the SDK raises it", () => {
    // What the SDK throws for `event: error` (core/streaming: APIError without a status).
    const body = { type: "error", error: { type: "overloaded_error", message: "Overloaded" } };
    const err = new Anthropic.APIError(
      undefined,
      body,
      undefined,
      new Headers(),
      "overloaded_error",
    );
    expect(toLlmError("anthropic", err, NOW)).toMatchObject({ kind: "server", retryable: true });
  });

  it("maps an OpenAI-compatible error chunk by its type", () => {
    const err = new OpenAI.APIError(
      undefined,
      { message: "boom", type: "server_error" },
      undefined,
      new Headers(),
    );
    expect(toLlmError("openai-compatible", err, NOW)).toMatchObject({ kind: "server" });
  });

  it("leaves an undocumented type unknown", () => {
    const err = new OpenAI.APIError(
      undefined,
      { message: "?", type: "weird" },
      undefined,
      new Headers(),
    );
    expect(toLlmError("openai-compatible", err, NOW).kind).toBe("unknown");
  });
});

describe("toLlmError with real SDK error classes", () => {
  const cases: Array<[number, string]> = [
    [400, "invalid_request"],
    [401, "auth"],
    [403, "auth"],
    [404, "model_not_found"],
    [422, "invalid_request"],
    [429, "rate_limit"],
    [500, "server"],
    [502, "server"],
    [503, "server"],
    [529, "server"],
  ];

  for (const [status, kind] of cases) {
    it(`maps ${status} to ${kind} for both SDKs`, () => {
      for (const [provider, err] of [
        ["anthropic", anthropicError(status)],
        ["openai-compatible", openaiError(status)],
      ] as const) {
        const mapped = toLlmError(provider, err, NOW);
        expect(mapped).toBeInstanceOf(LlmError);
        expect(mapped.kind).toBe(kind);
        expect(mapped.status).toBe(status);
        expect(mapped.provider).toBe(provider);
        expect(mapped.cause).toBe(err);
        expect(mapped.retryable).toBe(["rate_limit", "server"].includes(kind));
      }
    });
  }

  it("recognises Anthropic's 529 as OverloadedError and retries it", () => {
    const err = anthropicError(529);
    expect(err).toBeInstanceOf(Anthropic.OverloadedError);
    expect(toLlmError("anthropic", err).retryable).toBe(true);
  });

  it("maps timeouts and connection errors", () => {
    const t1 = toLlmError("anthropic", new Anthropic.APIConnectionTimeoutError());
    const t2 = toLlmError("openai-compatible", new OpenAI.APIConnectionTimeoutError());
    expect([t1.kind, t2.kind]).toEqual(["timeout", "timeout"]);
    const cause = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const n1 = toLlmError("anthropic", new Anthropic.APIConnectionError({ cause }));
    const n2 = toLlmError("openai-compatible", new OpenAI.APIConnectionError({ cause }));
    expect([n1.kind, n2.kind]).toEqual(["network", "network"]);
    expect(n1.retryable && n2.retryable && t1.retryable).toBe(true);
  });

  it("reads retry-after in seconds, as an HTTP date, and retry-after-ms", () => {
    expect(toLlmError("anthropic", anthropicError(429, { "retry-after": "7" }), NOW)).toMatchObject(
      { kind: "rate_limit", retryAfterMs: 7_000 },
    );
    const date = new Date(NOW + 12_000).toUTCString();
    expect(
      toLlmError("openai-compatible", openaiError(503, { "retry-after": date }), NOW).retryAfterMs,
    ).toBe(12_000);
    expect(
      toLlmError(
        "openai-compatible",
        openaiError(429, { "retry-after-ms": "250", "retry-after": "9" }),
      ).retryAfterMs,
    ).toBe(250);
    expect(toLlmError("anthropic", anthropicError(500)).retryAfterMs).toBeUndefined();
  });

  it("classifies bare runtime errors and passes LlmError through", () => {
    const abort = Object.assign(new Error("aborted"), { name: "AbortError" });
    expect(toLlmError("anthropic", abort).kind).toBe("timeout");
    const reset = Object.assign(new Error("fetch failed"), {
      cause: Object.assign(new Error("socket"), { code: "ECONNRESET" }),
    });
    expect(toLlmError("anthropic", reset).kind).toBe("network");
    expect(toLlmError("anthropic", new TypeError("x is undefined"))).toMatchObject({
      kind: "unknown",
      retryable: false,
    });
    const own = new LlmError({ kind: "auth", provider: "anthropic", message: "m" });
    expect(toLlmError("openai-compatible", own)).toBe(own);
  });
});

describe("parseRetryAfterMs", () => {
  it("handles absent, junk, past dates and plain records", () => {
    expect(parseRetryAfterMs(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfterMs(new Headers({ "retry-after": "soon" }), NOW)).toBeUndefined();
    const past = new Date(NOW - 5_000).toUTCString();
    expect(parseRetryAfterMs(new Headers({ "retry-after": past }), NOW)).toBe(0);
    expect(parseRetryAfterMs({ "Retry-After": "1.5" }, NOW)).toBe(1_500);
  });
});

describe("kinds", () => {
  it("derives retryable from kind", () => {
    expect(kindForStatus(408)).toBe("timeout");
    expect(kindForStatus(402)).toBe("auth");
    expect(isRetryableKind("auth")).toBe(false);
    expect(isRetryableKind("invalid_request")).toBe(false);
    expect(isRetryableKind("model_not_found")).toBe(false);
    expect(isRetryableKind("timeout")).toBe(true);
    expect(new LlmError({ kind: "network", provider: "anthropic", message: "m" }).retryable).toBe(
      true,
    );
  });
});
