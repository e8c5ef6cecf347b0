/**
 * Streaming through the real provider classes (official SDKs, real HTTP, real timers) and the
 * provider manager, against the wire-level fakes in `test/fakes/` with paced, failing and
 * stalling streams. Only `sleep` (the manager's backoff) is injected, so retries do not wait.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { LlmError } from "../../core/llm/errors";
import { createOpenAICompatibleProvider } from "../../core/llm/openai";
import type { LlmProvider, StreamRequest } from "../../core/llm/types";
import { useLlmFakes } from "../support/llm-fakes";
import { rejection } from "../support/rejection";

const MM_KEY = "mm-stream-key";
const IDLE_MS = 200;
const ANSWER = "alpha beta gamma delta epsilon zeta eta theta";
const llm = useLlmFakes({ anthropic: "sk-ant-stream", openai: MM_KEY });

beforeEach(() => {
  llm.anthropicFake.setReply(() => ANSWER);
  llm.openaiFake.setReply(() => ANSWER);
});

const request = (model: string): StreamRequest => ({
  model,
  system: "You are terse.",
  messages: [{ role: "user", content: "say eight words" }],
  maxTokens: 64,
  timeoutMs: 5_000,
  idleTimeoutMs: IDLE_MS,
});

/** Calls `provider.stream`, collecting deltas; resolves with the completion or the error. */
async function collect(provider: LlmProvider, model: string) {
  const deltas: string[] = [];
  const started = Date.now();
  try {
    const completion = await provider.stream(request(model), (d) => deltas.push(d));
    return { completion, deltas, ms: Date.now() - started };
  } catch (error) {
    return { error, deltas, ms: Date.now() - started };
  }
}

const manager = () => llm.manager({ streamIdleTimeoutMs: IDLE_MS });

describe.each([
  ["anthropic", () => llm.anthropic, () => llm.anthropicFake, "claude-haiku-5-5"],
  ["openai-compatible", () => llm.openAICompatible, () => llm.openaiFake, "gpt-5.4-mini"],
] as const)("%s provider streaming against its fake", (id, provider, fake, model) => {
  it("streams the text in deltas and reports usage from the final event", async () => {
    fake().setStream({ firstTokenMs: 50, tokensPerSecond: 200 });
    const { completion, deltas } = await collect(provider(), model);
    expect(deltas).toHaveLength(8);
    expect(deltas.join("")).toBe(ANSWER);
    expect(completion).toEqual({
      text: ANSWER,
      model,
      provider: id,
      // Words of the system prompt plus the message, and of the answer (see the fakes).
      inputTokens: 6,
      outputTokens: 8,
    });
    expect(fake().requests[0]?.body).toMatchObject({ model, stream: true });
  });

  it("rejects with a server LlmError after the deltas when the stream errors mid-way", async () => {
    fake().streamNext({ failAfterTokens: 3 });
    const { error, deltas } = await collect(provider(), model);
    expect(deltas.join("")).toBe("alpha beta gamma ");
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ kind: "server", provider: id, retryable: true });
  });

  it("rejects with a network LlmError when the connection drops mid-stream", async () => {
    fake().streamNext({ failAfterTokens: 2, failWith: "drop" });
    const { error, deltas } = await collect(provider(), model);
    expect(deltas).toHaveLength(2);
    expect(error).toMatchObject({ kind: "network", provider: id });
  });

  it("times out after idleTimeoutMs of silence mid-stream", async () => {
    fake().streamNext({ stallAfterTokens: 2 });
    const { error, deltas, ms } = await collect(provider(), model);
    expect(deltas).toHaveLength(2);
    expect(error).toMatchObject({ kind: "timeout", provider: id });
    expect((error as Error).message).toBe(`${id}: no stream event for ${IDLE_MS} ms`);
    expect(ms).toBeGreaterThanOrEqual(IDLE_MS - 10);
    expect(ms).toBeLessThan(IDLE_MS + 2_000);
  });

  it("times out before the first token when the first token takes longer than the idle limit", async () => {
    fake().streamNext({ firstTokenMs: IDLE_MS * 3 });
    const { error, deltas } = await collect(provider(), model);
    expect(deltas).toEqual([]);
    expect(error).toMatchObject({ kind: "timeout" });
  });

  it("maps an HTTP failure before the stream to its status kind", async () => {
    fake().failNext(429, { retryAfterSeconds: 1 });
    const err = await rejection(provider().stream(request(model), () => {}));
    expect(err).toMatchObject({ kind: "rate_limit", status: 429, retryAfterMs: 1_000 });
  });
});

describe("OpenAI-compatible servers that ignore include_usage", () => {
  it("stream with token counts of 0", async () => {
    // The fake sends usage only when asked; a server that ignores the flag behaves like this.
    const stripUsage: typeof fetch = async (input, init) => {
      const body = JSON.parse(String(init?.body));
      delete body.stream_options;
      return fetch(input, { ...init, body: JSON.stringify(body) });
    };
    const provider = createOpenAICompatibleProvider({
      baseURL: llm.openaiFake.url,
      apiKey: MM_KEY,
      fetch: stripUsage,
    });
    const completion = await provider.stream(request("gpt-5.4"), () => {});
    expect(completion).toMatchObject({ text: ANSWER, inputTokens: 0, outputTokens: 0 });
  });
});

describe("provider manager streaming over both fakes", () => {
  it("falls back before the first token and answers from the other provider", async () => {
    llm.anthropicFake.failNext(529, { times: 3 });
    const deltas: string[] = [];
    const result = await manager().stream(
      { system: "", messages: [{ role: "user", content: "hi" }], model: "sonnet" },
      (d) => deltas.push(d),
    );
    expect(llm.anthropicFake.requests).toHaveLength(3);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.completion).toMatchObject({ provider: "openai-compatible", text: ANSWER });
    expect(result.fellBackFrom).toBe("claude-sonnet-5-5");
    expect(deltas.join("")).toBe(ANSWER);
  });

  it("retries an in-stream error before the first token on the same provider", async () => {
    llm.anthropicFake.streamNext({ failAfterTokens: 0 });
    const result = await manager().stream(
      { system: "", messages: [{ role: "user", content: "hi" }] },
      () => {},
    );
    expect(llm.anthropicFake.requests).toHaveLength(2);
    expect(result.ok && result.completion.provider).toBe("anthropic");
    expect(result.attempts.map((a) => a.kind)).toEqual(["server", undefined]);
  });

  it("cuts off after the first token: no retry, no fallback", async () => {
    llm.anthropicFake.streamNext({ failAfterTokens: 4 });
    const deltas: string[] = [];
    const result = await manager().stream(
      { system: "", messages: [{ role: "user", content: "hi" }] },
      (d) => deltas.push(d),
    );
    expect(llm.anthropicFake.requests).toHaveLength(1);
    expect(llm.openaiFake.requests).toHaveLength(0);
    expect(result).toMatchObject({
      ok: false,
      cutOff: true,
      partialText: "alpha beta gamma delta ",
    });
    expect(!result.ok && result.error.kind).toBe("server");
    expect(deltas.join("")).toBe("alpha beta gamma delta ");
  });

  it("cuts off a stalled stream with a timeout within the idle limit", async () => {
    llm.openaiFake.streamNext({ stallAfterTokens: 1 });
    const started = Date.now();
    const result = await manager().stream(
      { system: "", messages: [{ role: "user", content: "hi" }], model: "mini" },
      () => {},
    );
    expect(Date.now() - started).toBeLessThan(IDLE_MS + 2_000);
    expect(result).toMatchObject({ ok: false, cutOff: true, partialText: "alpha " });
    expect(!result.ok && result.error.kind).toBe("timeout");
    expect(llm.anthropicFake.requests).toHaveLength(0);
  });
});
