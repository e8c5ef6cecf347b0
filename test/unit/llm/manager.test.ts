import { describe, expect, it } from "vitest";
import type { ProviderCheck, ProviderHealthSource } from "../../../core/llm/breaker-policy";
import type { BreakerStore } from "../../../core/llm/breaker-store";
import type { ProviderId } from "../../../core/llm/types";
import { fakeProvider, setup, turn } from "../../support/llm-provider";

describe("provider manager: retries", () => {
  it("retries 500 and 529 with backoff and then answers", async () => {
    const anthropic = fakeProvider("anthropic", [500, 529]);
    const { manager, sleeps } = setup({ anthropic: anthropic.provider });
    const result = await manager.complete(turn);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.completion).toMatchObject({ provider: "anthropic", model: "claude-sonnet-5-5" });
    expect(anthropic.calls).toHaveLength(3);
    expect(sleeps).toEqual([50, 100]);
    expect(result.attempts).toEqual([
      expect.objectContaining({ provider: "anthropic", attempt: 1, kind: "server", status: 500 }),
      expect.objectContaining({ provider: "anthropic", attempt: 2, kind: "server", status: 529 }),
      expect.objectContaining({ provider: "anthropic", attempt: 3, ok: true }),
    ]);
    expect(result.attempts.map((a) => a.delayMs)).toEqual([50, 100, undefined]);
  });

  it("waits the server's retry-after on 429", async () => {
    const anthropic = fakeProvider("anthropic", [{ status: 429, retryAfterMs: 2_000 }]);
    const { manager, sleeps } = setup({ anthropic: anthropic.provider });
    const result = await manager.complete(turn);
    expect(result.ok).toBe(true);
    expect(sleeps).toEqual([2_000]);
  });

  it("caps a long retry-after at maxRetryAfterMs", async () => {
    const anthropic = fakeProvider("anthropic", [{ status: 429, retryAfterMs: 300_000 }]);
    const { manager, sleeps } = setup(
      { anthropic: anthropic.provider },
      { maxRetryAfterMs: 5_000 },
    );
    expect((await manager.complete(turn)).ok).toBe(true);
    expect(sleeps).toEqual([5_000]);
  });

  for (const status of [400, 401, 403, 404]) {
    it(`does not retry ${status} and falls back to the other provider`, async () => {
      const anthropic = fakeProvider("anthropic", [status]);
      const mm = fakeProvider("openai-compatible");
      const { manager, sleeps } = setup({
        anthropic: anthropic.provider,
        "openai-compatible": mm.provider,
      });
      const result = await manager.complete(turn);
      expect(anthropic.calls).toHaveLength(1);
      expect(sleeps).toEqual([]);
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.completion).toMatchObject({ provider: "openai-compatible", model: "gpt-5.4" });
      expect(result.attempts[0]).toMatchObject({ provider: "anthropic", status, ok: false });
    });
  }

  it("does not retry a permanent failure when there is nothing to fall back to", async () => {
    const anthropic = fakeProvider("anthropic", [401]);
    const { manager } = setup({ anthropic: anthropic.provider });
    const result = await manager.complete(turn);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ kind: "auth", status: 401, provider: "anthropic" });
    expect(anthropic.calls).toHaveLength(1);
  });
});

describe("provider manager: fallback", () => {
  it("falls back once to the other provider's default model after retries", async () => {
    const anthropic = fakeProvider("anthropic", [500, 500, 500, 500]);
    const mm = fakeProvider("openai-compatible");
    const { manager } = setup({ anthropic: anthropic.provider, "openai-compatible": mm.provider });
    const result = await manager.complete({ ...turn, model: "opus" });
    expect(anthropic.calls.map((c) => c.model)).toEqual(Array(3).fill("claude-opus-5-5"));
    expect(mm.calls.map((c) => c.model)).toEqual(["gpt-5.4"]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.completion.text).toBe("openai-compatible:gpt-5.4");
    expect(result.notes).toContain("falling back to openai-compatible gpt-5.4");
  });

  it("routes gpt models to the OpenAI-compatible provider and falls back to Claude", async () => {
    const anthropic = fakeProvider("anthropic");
    const mm = fakeProvider("openai-compatible", [503, 503, 503]);
    const { manager } = setup({ anthropic: anthropic.provider, "openai-compatible": mm.provider });
    const result = await manager.complete({ ...turn, model: "mini" });
    expect(mm.calls.map((c) => c.model)).toEqual(Array(3).fill("gpt-5.4-mini"));
    expect(result.ok && result.completion.model).toBe("claude-sonnet-5-5");
  });

  it("returns the last real error when both providers fail", async () => {
    const anthropic = fakeProvider("anthropic", [500, 500, 500]);
    const mm = fakeProvider("openai-compatible", [400]);
    const { manager } = setup({ anthropic: anthropic.provider, "openai-compatible": mm.provider });
    const result = await manager.complete(turn);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ provider: "openai-compatible", kind: "invalid_request" });
    expect(result.attempts).toHaveLength(4);
  });

  it("goes straight to the fallback when the primary is unconfigured", async () => {
    const mm = fakeProvider("openai-compatible");
    const { manager } = setup({ "openai-compatible": mm.provider });
    const result = await manager.complete({ ...turn, model: "sonnet" });
    expect(result.ok && result.completion.model).toBe("gpt-5.4");
    expect(result.notes).toContain("anthropic: not configured (ANTHROPIC_API_KEY is not set)");
    expect(result.attempts.map((a) => a.provider)).toEqual(["openai-compatible"]);
  });

  it("prefers the real call error over the skip of an unconfigured fallback", async () => {
    const anthropic = fakeProvider("anthropic", [404]);
    const { manager } = setup({ anthropic: anthropic.provider });
    const result = await manager.complete(turn);
    expect(!result.ok && result.error.kind).toBe("model_not_found");
  });

  it("reports unconfigured at once, naming the variables, when nothing is configured", async () => {
    const { manager, sleeps } = setup({});
    const result = await manager.complete(turn);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.kind).toBe("unconfigured");
    expect(result.error.retryable).toBe(false);
    expect(result.error.message).toContain("ANTHROPIC_API_KEY");
    expect(result.error.message).toContain("MODEL_MANAGER_BASE_URL");
    expect(result.attempts).toEqual([]);
    expect(sleeps).toEqual([]);
  });

  it("replaces an unroutable model name with the default and says why", async () => {
    const anthropic = fakeProvider("anthropic");
    const { manager } = setup({ anthropic: anthropic.provider });
    const result = await manager.complete({ ...turn, model: "llama3" });
    expect(anthropic.calls[0]?.model).toBe("claude-sonnet-5-5");
    expect(result.notes[0]).toMatch(/^model "llama3" is not .*; using claude-sonnet-5-5$/);
  });
});

describe("provider manager: circuit breaker", () => {
  it("opens after 3 failures; later turns skip to the fallback until the trial", async () => {
    const anthropic = fakeProvider("anthropic", [500, 500, 500]);
    const mm = fakeProvider("openai-compatible");
    const { manager, clock, store } = setup({
      anthropic: anthropic.provider,
      "openai-compatible": mm.provider,
    });
    await manager.complete(turn);
    expect(await store.get("anthropic")).toMatchObject({ state: "open", consecutiveFailures: 3 });

    const skipped = await manager.complete(turn);
    expect(anthropic.calls).toHaveLength(3);
    expect(skipped.ok && skipped.completion.provider).toBe("openai-compatible");
    expect(skipped.notes).toContain("anthropic: circuit breaker open; skipped");
    expect(skipped.attempts.map((a) => a.provider)).toEqual(["openai-compatible"]);

    clock.now += 60_000;
    const trial = await manager.complete(turn);
    expect(anthropic.calls).toHaveLength(4);
    expect(trial.ok && trial.completion.provider).toBe("anthropic");
    expect(await store.get("anthropic")).toEqual({ state: "closed", consecutiveFailures: 0 });
  });

  it("counts failures across turns and stops retrying once the breaker opens", async () => {
    const anthropic = fakeProvider("anthropic", [500, 400, 500, 500, 500]);
    const mm = fakeProvider("openai-compatible");
    const { manager, store } = setup(
      { anthropic: anthropic.provider, "openai-compatible": mm.provider },
      { maxAttempts: 5 },
    );
    await manager.complete(turn); // 500 then 400: the 400 proves the provider is up.
    expect(await store.get("anthropic")).toEqual({ state: "closed", consecutiveFailures: 0 });
    const result = await manager.complete(turn); // 500, 500, 500 → open; no 4th and 5th try.
    expect(anthropic.calls).toHaveLength(5);
    expect(result.notes).toContain("anthropic: circuit breaker opened; no further retries");
    expect(result.ok && result.completion.provider).toBe("openai-compatible");
  });

  it("a failed half-open trial is not retried and reopens the breaker", async () => {
    const anthropic = fakeProvider("anthropic", [500, 500, 500, 503, 503]);
    const mm = fakeProvider("openai-compatible");
    const { manager, clock, store } = setup({
      anthropic: anthropic.provider,
      "openai-compatible": mm.provider,
    });
    await manager.complete(turn);
    clock.now += 60_000;
    const result = await manager.complete(turn);
    expect(anthropic.calls).toHaveLength(4);
    expect(result.ok && result.completion.provider).toBe("openai-compatible");
    expect(await store.get("anthropic")).toMatchObject({ state: "open", openedAt: clock.now });
  });

  it("returns circuit_open when every configured provider is refused", async () => {
    const anthropic = fakeProvider("anthropic", [500, 500, 500]);
    const { manager } = setup({ anthropic: anthropic.provider });
    await manager.complete(turn);
    const result = await manager.complete(turn);
    expect(!result.ok && result.error.kind).toBe("circuit_open");
    expect(result.attempts).toEqual([]);
  });

  it("carries on with in-memory state when the breaker store fails", async () => {
    const failingStore: BreakerStore = {
      get: async () => {
        throw new Error("store down");
      },
      put: async () => {
        throw new Error("store down");
      },
    };
    const errors: string[] = [];
    const anthropic = fakeProvider("anthropic", [500, 500, 500]);
    const mm = fakeProvider("openai-compatible");
    const { manager } = setup(
      { anthropic: anthropic.provider, "openai-compatible": mm.provider },
      {
        breakerStore: failingStore,
        onStoreError: (info) => errors.push(`${info.operation}:${info.provider}`),
      },
    );
    const first = await manager.complete(turn);
    expect(first.ok).toBe(true);
    expect(errors).toContain("get:anthropic");
    expect(errors).toContain("put:anthropic");
    // The in-memory mirror still knows the breaker opened.
    const second = await manager.complete(turn);
    expect(anthropic.calls).toHaveLength(3);
    expect(second.ok && second.completion.provider).toBe("openai-compatible");
  });
});

/** A health source answering from a map, counting reads. */
function healthSource(checks: Partial<Record<ProviderId, ProviderCheck>>) {
  const reads: ProviderId[] = [];
  const source: ProviderHealthSource = {
    async lastCheck(provider) {
      reads.push(provider);
      return checks[provider];
    },
  };
  return { source, reads, checks };
}

describe("provider manager: scheduled health checks", () => {
  it("skips a provider whose breaker is open and whose last check failed, past the cool-down", async () => {
    const anthropic = fakeProvider("anthropic");
    const mm = fakeProvider("openai-compatible");
    const health = healthSource({});
    const { manager, clock, store } = setup(
      { anthropic: anthropic.provider, "openai-compatible": mm.provider },
      { healthSource: health.source },
    );
    await store.put("anthropic", { state: "open", consecutiveFailures: 1, openedAt: clock.now });
    health.checks.anthropic = { ok: false, checkedAt: clock.now };

    clock.now += 120_000;
    const result = await manager.complete(turn);
    expect(anthropic.calls).toHaveLength(0);
    expect(result.ok && result.completion.provider).toBe("openai-compatible");
    expect(result.notes).toContain(
      "anthropic: last health check failed and circuit breaker open; skipped",
    );
    expect(await store.get("anthropic")).toMatchObject({ state: "open" });
  });

  it("routes to the provider again once the check passes and closes the breaker", async () => {
    const anthropic = fakeProvider("anthropic");
    const mm = fakeProvider("openai-compatible");
    const health = healthSource({});
    const { manager, clock, store } = setup(
      { anthropic: anthropic.provider, "openai-compatible": mm.provider },
      { healthSource: health.source },
    );
    await store.put("anthropic", { state: "open", consecutiveFailures: 1, openedAt: clock.now });
    health.checks.anthropic = { ok: false, checkedAt: clock.now };
    expect((await manager.complete(turn)).attempts.map((a) => a.provider)).toEqual([
      "openai-compatible",
    ]);

    // What the health check does when the probe passes: record ok, close the breaker.
    health.checks.anthropic = { ok: true, checkedAt: clock.now + 1 };
    await store.put("anthropic", { state: "closed", consecutiveFailures: 0 });
    const result = await manager.complete(turn);
    expect(result.ok && result.completion.provider).toBe("anthropic");
  });

  it("grants the half-open trial when the failed check is stale", async () => {
    const anthropic = fakeProvider("anthropic");
    const mm = fakeProvider("openai-compatible");
    const health = healthSource({});
    const { manager, clock, store } = setup(
      { anthropic: anthropic.provider, "openai-compatible": mm.provider },
      { healthSource: health.source, healthStaleMs: 600_000 },
    );
    await store.put("anthropic", { state: "open", consecutiveFailures: 3, openedAt: clock.now });
    health.checks.anthropic = { ok: false, checkedAt: clock.now };
    clock.now += 600_000;
    const result = await manager.complete(turn);
    expect(result.ok && result.completion.provider).toBe("anthropic");
    expect(await store.get("anthropic")).toEqual({ state: "closed", consecutiveFailures: 0 });
  });

  it("does not read health while the breaker is closed, whatever the last check said", async () => {
    const anthropic = fakeProvider("anthropic");
    const health = healthSource({ anthropic: { ok: false, checkedAt: 1_700_000_000_000 } });
    const { manager } = setup({ anthropic: anthropic.provider }, { healthSource: health.source });
    const result = await manager.complete(turn);
    expect(result.ok && result.completion.provider).toBe("anthropic");
    expect(health.reads).toEqual([]);
  });

  it("falls back to the breaker alone when health cannot be read", async () => {
    const anthropic = fakeProvider("anthropic");
    const mm = fakeProvider("openai-compatible");
    const errors: string[] = [];
    const { manager, clock, store } = setup(
      { anthropic: anthropic.provider, "openai-compatible": mm.provider },
      {
        healthSource: {
          lastCheck: async () => {
            throw new Error("table down");
          },
        },
        onStoreError: (info) => errors.push(`${info.operation}:${info.provider}`),
      },
    );
    await store.put("anthropic", { state: "open", consecutiveFailures: 3, openedAt: clock.now });
    clock.now += 60_000;
    const result = await manager.complete(turn);
    expect(errors).toEqual(["health:anthropic"]);
    expect(result.ok && result.completion.provider).toBe("anthropic");
  });
});

describe("provider manager: defaults, logging, budget", () => {
  it("uses DEFAULT_MODEL for turns without a model and for fallbacks to its provider", async () => {
    const anthropic = fakeProvider("anthropic", [401]);
    const mm = fakeProvider("openai-compatible");
    const { manager } = setup(
      { anthropic: anthropic.provider, "openai-compatible": mm.provider },
      { defaultModel: "mini" },
    );
    expect(manager.defaultModel).toEqual({ model: "gpt-5.4-mini", provider: "openai-compatible" });
    await manager.complete(turn);
    expect(mm.calls[0]?.model).toBe("gpt-5.4-mini");
    const fellBack = await manager.complete({ ...turn, model: "haiku" });
    expect(anthropic.calls.at(-1)?.model).toBe("claude-haiku-5-5");
    expect(fellBack.ok && fellBack.completion.model).toBe("gpt-5.4-mini");
    // A fallback to the other provider still uses that provider's own default.
    mm.script.push(400);
    const toAnthropic = await manager.complete(turn);
    expect(toAnthropic.ok && toAnthropic.completion.model).toBe("claude-sonnet-5-5");
  });

  it("defaults to the OpenAI-compatible provider when Anthropic is unconfigured", () => {
    const mm = fakeProvider("openai-compatible");
    const { manager } = setup({ "openai-compatible": mm.provider });
    expect(manager.defaultModel).toEqual({ model: "gpt-5.4", provider: "openai-compatible" });
  });

  it("rejects an unroutable DEFAULT_MODEL at construction", () => {
    expect(() => setup({}, { defaultModel: "llama3" })).toThrow(/DEFAULT_MODEL "llama3"/);
  });

  it("reports unconfigured reasons in the notes and breaker state in the store", async () => {
    const anthropic = fakeProvider("anthropic", [500, 500, 500]);
    const { manager, store } = setup(
      { anthropic: anthropic.provider },
      { unconfiguredReasons: { "openai-compatible": "MODEL_MANAGER_BASE_URL is empty" } },
    );
    const first = await manager.complete(turn);
    expect(first.attempts.map((a) => a.model)).toEqual(Array(3).fill("claude-sonnet-5-5"));
    expect(first.notes).toEqual([
      "falling back to openai-compatible gpt-5.4",
      "openai-compatible: not configured (MODEL_MANAGER_BASE_URL is empty)",
    ]);
    expect(await store.get("anthropic")).toEqual(
      expect.objectContaining({ state: "open", consecutiveFailures: 3 }),
    );
    expect(await store.get("openai-compatible")).toEqual({
      state: "closed",
      consecutiveFailures: 0,
    });
    const second = await manager.complete(turn);
    expect(second.notes).toContain("anthropic: circuit breaker open; skipped");
  });

  it("reports every attempt to onAttempt and passes request fields through", async () => {
    const seen: unknown[] = [];
    const anthropic = fakeProvider("anthropic", [503]);
    const { manager } = setup(
      { anthropic: anthropic.provider },
      { onAttempt: (a) => seen.push(a), timeoutMs: 12_345 },
    );
    await manager.complete({ ...turn, maxTokens: 77 });
    expect(seen).toHaveLength(2);
    expect(anthropic.calls[0]).toEqual({
      model: "claude-sonnet-5-5",
      system: "be brief",
      messages: turn.messages,
      maxTokens: 77,
      timeoutMs: 12_345,
    });
  });

  it("does not wait a capped retry-after when the server's own wait is past the budget", async () => {
    // The 20 s cap fits a 45 s budget, but the server asked for 60 s: a retry after 20 s
    // would only be refused again, so the fallback gets the time.
    const anthropic = fakeProvider("anthropic", [{ status: 429, retryAfterMs: 60_000 }]);
    const mm = fakeProvider("openai-compatible");
    const { manager, sleeps } = setup(
      { anthropic: anthropic.provider, "openai-compatible": mm.provider },
      { budgetMs: 45_000, maxRetryAfterMs: 20_000 },
    );
    const result = await manager.complete(turn);
    expect(sleeps).toEqual([]);
    expect(anthropic.calls).toHaveLength(1);
    expect(result.ok && result.completion.provider).toBe("openai-compatible");
    expect(result.notes).toContain("anthropic: retry-after 60 s is past the budget; not retried");
  });

  it("skips retries that would overrun the budget", async () => {
    const anthropic = fakeProvider("anthropic", [{ status: 429, retryAfterMs: 10_000 }]);
    const mm = fakeProvider("openai-compatible");
    const { manager, sleeps } = setup(
      { anthropic: anthropic.provider, "openai-compatible": mm.provider },
      { budgetMs: 5_000 },
    );
    const result = await manager.complete(turn);
    expect(sleeps).toEqual([]);
    expect(anthropic.calls).toHaveLength(1);
    expect(mm.calls[0]?.timeoutMs).toBeLessThanOrEqual(5_000);
    expect(result.ok && result.completion.provider).toBe("openai-compatible");
  });
});
