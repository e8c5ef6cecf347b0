import { describe, expect, it } from "vitest";
import { LlmError } from "../../../core/llm/errors";
import type { CompleteInput, StreamRequest } from "../../../core/llm/types";
import { fakeProvider, setup, turn } from "../../support/llm-provider";

/** Runs `manager.stream` and collects the deltas `onText` saw. */
async function streamed(manager: ReturnType<typeof setup>["manager"], input: CompleteInput = turn) {
  const deltas: string[] = [];
  const result = await manager.stream(input, (delta) => deltas.push(delta));
  return { result, deltas };
}

const timeout = (provider: "anthropic" | "openai-compatible") =>
  new LlmError({ kind: "timeout", provider, message: `${provider}: no stream event for 20 ms` });

describe("provider manager: stream", () => {
  it("streams the answer's deltas and resolves with the completion", async () => {
    const anthropic = fakeProvider("anthropic");
    const { manager } = setup({ anthropic: anthropic.provider }, { streamIdleTimeoutMs: 1_234 });
    const { result, deltas } = await streamed(manager);
    expect(deltas).toEqual(["anthropic:", "claude-sonnet-5-5"]);
    expect(result.ok && result.completion.text).toBe("anthropic:claude-sonnet-5-5");
    expect(result.ok && result.fellBackFrom).toBeUndefined();
    expect((anthropic.calls[0] as StreamRequest).idleTimeoutMs).toBe(1_234);
  });

  it("retries before the first token, with backoff, on the same provider", async () => {
    const anthropic = fakeProvider("anthropic", [529, timeout("anthropic")]);
    const { manager, sleeps } = setup({ anthropic: anthropic.provider });
    const { result, deltas } = await streamed(manager);
    expect(anthropic.calls).toHaveLength(3);
    expect(sleeps).toEqual([50, 100]);
    expect(deltas).toEqual(["anthropic:", "claude-sonnet-5-5"]);
    expect(result.attempts.map((a) => a.kind)).toEqual(["server", "timeout", undefined]);
    expect(result.ok).toBe(true);
  });

  it("falls back before the first token and names the model it fell back from", async () => {
    const anthropic = fakeProvider("anthropic", [500, 500, 500]);
    const mm = fakeProvider("openai-compatible");
    const { manager } = setup({ anthropic: anthropic.provider, "openai-compatible": mm.provider });
    const { result, deltas } = await streamed(manager, { ...turn, model: "opus" });
    expect(deltas).toEqual(["openai-compatible:", "gpt-5.4"]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.completion.provider).toBe("openai-compatible");
    expect(result.fellBackFrom).toBe("claude-opus-5-5");
    expect(result.notes).toContain("falling back to openai-compatible gpt-5.4");
  });

  it("names the first model when its breaker refused it, not when it is unconfigured", async () => {
    const anthropic = fakeProvider("anthropic", [500, 500, 500]);
    const mm = fakeProvider("openai-compatible");
    const { manager } = setup({ anthropic: anthropic.provider, "openai-compatible": mm.provider });
    await streamed(manager); // opens Anthropic's breaker
    const skipped = await streamed(manager);
    expect(anthropic.calls).toHaveLength(3);
    expect(skipped.result.ok && skipped.result.fellBackFrom).toBe("claude-sonnet-5-5");

    const alone = setup({ "openai-compatible": fakeProvider("openai-compatible").provider });
    const unconfigured = await streamed(alone.manager, { ...turn, model: "sonnet" });
    expect(unconfigured.result.ok).toBe(true);
    expect(unconfigured.result.ok && unconfigured.result.fellBackFrom).toBeUndefined();
  });

  it("a failure after the first token is cut off: no retry, no fallback, breaker counts it", async () => {
    const anthropic = fakeProvider("anthropic", [{ deltas: ["Hello", " wor"], thenFail: 529 }]);
    const mm = fakeProvider("openai-compatible");
    const { manager, sleeps, store } = setup({
      anthropic: anthropic.provider,
      "openai-compatible": mm.provider,
    });
    const { result, deltas } = await streamed(manager);
    expect(deltas).toEqual(["Hello", " wor"]);
    expect(anthropic.calls).toHaveLength(1);
    expect(mm.calls).toHaveLength(0);
    expect(sleeps).toEqual([]);
    expect(result).toMatchObject({ ok: false, cutOff: true, partialText: "Hello wor" });
    expect(!result.ok && result.error).toMatchObject({ kind: "server", status: 529 });
    expect(result.attempts).toEqual([
      expect.objectContaining({ provider: "anthropic", ok: false, kind: "server" }),
    ]);
    expect(result.notes).not.toContain("falling back to openai-compatible gpt-5.4");
    expect(await store.get("anthropic")).toMatchObject({ consecutiveFailures: 1 });
  });

  it("an idle timeout after the first token is a cut-off timeout", async () => {
    const anthropic = fakeProvider("anthropic", [
      { deltas: ["partial"], thenFail: timeout("anthropic") },
    ]);
    const mm = fakeProvider("openai-compatible");
    const { manager } = setup({ anthropic: anthropic.provider, "openai-compatible": mm.provider });
    const { result } = await streamed(manager);
    expect(result).toMatchObject({ ok: false, cutOff: true, partialText: "partial" });
    expect(!result.ok && result.error.kind).toBe("timeout");
    expect(mm.calls).toHaveLength(0);
  });

  it("a cut-off answer from the fallback is not handed back or retried either", async () => {
    const anthropic = fakeProvider("anthropic", [401]);
    const mm = fakeProvider("openai-compatible", [{ deltas: ["a"], thenFail: 503 }]);
    const { manager } = setup({ anthropic: anthropic.provider, "openai-compatible": mm.provider });
    const { result } = await streamed(manager);
    expect(mm.calls).toHaveLength(1);
    expect(result).toMatchObject({ ok: false, cutOff: true, partialText: "a" });
    expect(!result.ok && result.error).toMatchObject({
      provider: "openai-compatible",
      status: 503,
    });
  });

  it("fails without a cut-off when every attempt failed before the first token", async () => {
    const anthropic = fakeProvider("anthropic", [500, 500, 500]);
    const { manager } = setup({ anthropic: anthropic.provider });
    const { result, deltas } = await streamed(manager);
    expect(deltas).toEqual([]);
    expect(result).toMatchObject({ ok: false, cutOff: false, partialText: "" });
    expect(!result.ok && result.error.kind).toBe("server");
  });

  it("reports unconfigured at once when nothing is configured", async () => {
    const { manager } = setup({});
    const { result } = await streamed(manager);
    expect(result).toMatchObject({ ok: false, cutOff: false, partialText: "", attempts: [] });
    expect(!result.ok && result.error.kind).toBe("unconfigured");
  });

  it("passes onAttempt records as complete does", async () => {
    const seen: unknown[] = [];
    const anthropic = fakeProvider("anthropic", [503]);
    const { manager } = setup(
      { anthropic: anthropic.provider },
      { onAttempt: (a) => seen.push(a) },
    );
    await streamed(manager);
    expect(seen).toEqual([
      expect.objectContaining({ provider: "anthropic", attempt: 1, ok: false, status: 503 }),
      expect.objectContaining({ provider: "anthropic", attempt: 2, ok: true }),
    ]);
  });
});
