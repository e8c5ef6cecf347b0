/**
 * The real provider classes (official SDKs, real HTTP) behind the provider manager, against
 * the wire-level fakes in `test/fakes/`. The only things injected are `sleep` (recorded and
 * skipped, so retry-after waits do not slow the suite) and the breaker store.
 */
import { describe, expect, it } from "vitest";
import { createAnthropicProvider } from "../../core/llm/anthropic";
import { DynamoBreakerStore } from "../../core/llm/breaker-store";
import { LlmError } from "../../core/llm/errors";
import type { ProviderManagerOptions } from "../../core/llm/manager";
import { testAws, testConfig } from "../support/aws";
import { useLlmFakes } from "../support/llm-fakes";

const MM_KEY = "mm-test-key";
const llm = useLlmFakes({ anthropic: "sk-ant-test", openai: MM_KEY });

/** A manager over both real providers, with a fresh breaker and a recording sleep. */
function manager(extra: Partial<ProviderManagerOptions> = {}) {
  const sleeps: number[] = [];
  const m = llm.manager({
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  });
  return { manager: m, sleeps };
}

const turn = {
  system: "You are terse.",
  messages: [
    { role: "user" as const, content: "first" },
    { role: "assistant" as const, content: "ok" },
    { role: "user" as const, content: "what is 2+2?" },
  ],
  maxTokens: 64,
};

describe("LLM providers against the wire-level fakes", () => {
  it("round-trips a completion through the Anthropic SDK", async () => {
    const { manager: m } = manager();
    const result = await m.complete({ ...turn, model: "haiku" });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.completion).toMatchObject({
      text: "fake-anthropic(claude-haiku-5-5): what is 2+2?",
      model: "claude-haiku-5-5",
      provider: "anthropic",
    });
    expect(result.completion.inputTokens).toBeGreaterThan(0);
    expect(result.completion.outputTokens).toBeGreaterThan(0);
    const [request] = llm.anthropicFake.requests;
    expect(request?.body).toMatchObject({
      model: "claude-haiku-5-5",
      system: "You are terse.",
      max_tokens: 64,
      messages: turn.messages,
    });
  });

  it("round-trips a completion through the OpenAI SDK to the OpenAI-compatible provider", async () => {
    const { manager: m } = manager();
    const result = await m.complete({ ...turn, model: "mini" });
    expect(result.ok && result.completion).toMatchObject({
      text: "fake-openai(gpt-5.4-mini): what is 2+2?",
      model: "gpt-5.4-mini",
      provider: "openai-compatible",
    });
    const [request] = llm.openaiFake.requests;
    expect(request?.headers.authorization).toBe(`Bearer ${MM_KEY}`);
    expect(request?.body).toMatchObject({
      model: "gpt-5.4-mini",
      max_completion_tokens: 64,
      messages: [{ role: "system", content: "You are terse." }, ...turn.messages],
    });
  });

  it("retries a 529 overloaded once and answers; the SDK itself does not retry", async () => {
    llm.anthropicFake.failNext(529);
    const { manager: m, sleeps } = manager();
    const result = await m.complete(turn);
    expect(result.ok && result.completion.provider).toBe("anthropic");
    expect(llm.anthropicFake.requests).toHaveLength(2);
    expect(llm.openaiFake.requests).toHaveLength(0);
    expect(sleeps).toHaveLength(1);
    expect(result.attempts.map((a) => [a.status, a.ok])).toEqual([
      [529, false],
      [undefined, true],
    ]);
  });

  it("waits the retry-after the server sends on 429", async () => {
    llm.anthropicFake.failNext(429, { retryAfterSeconds: 2 });
    const { manager: m, sleeps } = manager();
    const result = await m.complete(turn);
    expect(result.ok).toBe(true);
    expect(sleeps).toEqual([2_000]);
    expect(result.attempts[0]).toMatchObject({ kind: "rate_limit", delayMs: 2_000 });
  });

  it("falls back to the OpenAI-compatible provider's default model on persistent 500s", async () => {
    llm.anthropicFake.failNext(500, { times: 10 });
    const { manager: m, sleeps } = manager();
    const result = await m.complete({ ...turn, model: "sonnet" });
    expect(llm.anthropicFake.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(result.ok && result.completion).toMatchObject({
      text: "fake-openai(gpt-5.4): what is 2+2?",
      model: "gpt-5.4",
      provider: "openai-compatible",
    });
    // The third consecutive failure opened Anthropic's breaker: the next turn skips it.
    const next = await m.complete(turn);
    expect(llm.anthropicFake.requests).toHaveLength(3);
    expect(next.ok && next.completion.provider).toBe("openai-compatible");
  });

  it("does not retry a wrong API key and falls back", async () => {
    const badKey = createAnthropicProvider({ apiKey: "wrong", baseURL: llm.anthropicFake.url });
    const { manager: m, sleeps } = manager({
      providers: { anthropic: badKey, "openai-compatible": llm.openAICompatible },
    });
    const result = await m.complete(turn);
    expect(llm.anthropicFake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(result.attempts[0]).toMatchObject({ kind: "auth", status: 401 });
    expect(result.ok && result.completion.provider).toBe("openai-compatible");
  });

  it("maps an unknown model to model_not_found without retrying", async () => {
    const { manager: m } = manager();
    const result = await m.complete({ ...turn, model: "gpt-9" });
    expect(llm.openaiFake.requests).toHaveLength(1);
    expect(result.attempts[0]).toMatchObject({ kind: "model_not_found", status: 404 });
    expect(result.ok && result.completion.model).toBe("claude-sonnet-5-5");
  });

  it("treats a dropped connection as a network error, retries, then falls back", async () => {
    llm.anthropicFake.setDown(true);
    const { manager: m } = manager();
    const result = await m.complete(turn);
    expect(result.attempts.slice(0, 3).map((a) => a.kind)).toEqual([
      "network",
      "network",
      "network",
    ]);
    expect(result.ok && result.completion.provider).toBe("openai-compatible");
  });

  it("rejects with an LlmError when called directly", async () => {
    llm.openaiFake.failNext(503);
    await expect(
      llm.openAICompatible.complete({
        model: "gpt-5.4",
        system: "",
        messages: [{ role: "user", content: "hi" }],
        maxTokens: 10,
        timeoutMs: 5_000,
      }),
    ).rejects.toSatisfy((e) => e instanceof LlmError && e.kind === "server" && e.status === 503);
  });
});

describe("DynamoBreakerStore on DynamoDB Local", () => {
  it("shares breaker state between managers (containers) through the table", async () => {
    const { aws, config } = await testAws(testConfig());
    const store = () =>
      new DynamoBreakerStore({
        client: aws.documents,
        tableName: config.memoryTableName,
        cacheMs: 0,
      });
    llm.anthropicFake.failNext(500, { times: 3 });
    const first = manager({ breakerStore: store() });
    await first.manager.complete(turn);
    expect(llm.anthropicFake.requests).toHaveLength(3);

    const second = manager({ breakerStore: store() });
    expect(await store().get("anthropic")).toMatchObject({ state: "open", consecutiveFailures: 3 });
    const result = await second.manager.complete(turn);
    expect(llm.anthropicFake.requests).toHaveLength(3);
    expect(result.ok && result.completion.provider).toBe("openai-compatible");
  });
});
