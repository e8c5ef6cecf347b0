import { describe, expect, it } from "vitest";
import { planRoute } from "../../../core/llm/routing";
import type { CompleteInput, ToolCall, ToolSpec } from "../../../core/llm/types";
import { fakeProvider, setup, turn } from "../../support/llm-provider";

const SHARE: ToolSpec = {
  name: "file_share",
  description: "Share a file as a download link",
  inputSchema: { type: "object", properties: { path: { type: "string" } } },
};
const CALL: ToolCall = { id: "toolu_1", name: "file_share", input: { path: "/srv/a" } };
const withTools: CompleteInput = { ...turn, tools: [SHARE] };

describe("provider manager: tools", () => {
  for (const mode of ["complete", "stream"] as const) {
    it(`${mode}: passes tools and toolChoice to the provider's request`, async () => {
      const anthropic = fakeProvider("anthropic");
      const { manager } = setup({ anthropic: anthropic.provider });
      const input = { ...withTools, toolChoice: "none" as const };
      await (mode === "complete" ? manager.complete(input) : manager.stream(input, () => {}));
      expect(anthropic.calls[0]).toMatchObject({ tools: [SHARE], toolChoice: "none" });
    });

    it(`${mode}: a round with tool calls and no text is a success`, async () => {
      const anthropic = fakeProvider("anthropic", [{ toolCalls: [CALL] }]);
      const { manager } = setup({ anthropic: anthropic.provider });
      const deltas: string[] = [];
      const result =
        mode === "complete"
          ? await manager.complete(withTools)
          : await manager.stream(withTools, (d) => deltas.push(d));
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.completion).toMatchObject({ text: "", toolCalls: [CALL] });
      expect(deltas).toEqual([]);
      expect(result.attempts).toEqual([expect.objectContaining({ ok: true, attempt: 1 })]);
    });
  }

  it("sends no tools field when the turn has none", async () => {
    const anthropic = fakeProvider("anthropic");
    const { manager } = setup({ anthropic: anthropic.provider });
    await manager.complete({ ...turn, tools: [] });
    expect(anthropic.calls[0]).not.toHaveProperty("tools");
    expect(anthropic.calls[0]).not.toHaveProperty("toolChoice");
  });

  it("falls back before the first token to a tool-call round of the other provider", async () => {
    const anthropic = fakeProvider("anthropic", [500, 500, 500]);
    const mm = fakeProvider("openai-compatible", [{ toolCalls: [CALL] }]);
    const { manager } = setup({ anthropic: anthropic.provider, "openai-compatible": mm.provider });
    const result = await manager.stream(withTools, () => {});
    expect(result.ok && result.completion).toMatchObject({
      provider: "openai-compatible",
      toolCalls: [CALL],
    });
    expect(mm.calls[0]).toMatchObject({ tools: [SHARE] });
  });
});

describe("provider manager: fallback false", () => {
  for (const mode of ["complete", "stream"] as const) {
    it(`${mode}: retries the named model, then fails without trying the other provider`, async () => {
      const anthropic = fakeProvider("anthropic", [500, 529, 500]);
      const mm = fakeProvider("openai-compatible");
      const { manager, sleeps } = setup({
        anthropic: anthropic.provider,
        "openai-compatible": mm.provider,
      });
      const input = { ...withTools, model: "haiku", fallback: false };
      const result =
        mode === "complete" ? await manager.complete(input) : await manager.stream(input, () => {});
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error).toMatchObject({ kind: "server", provider: "anthropic", status: 500 });
      expect(anthropic.calls.map((c) => c.model)).toEqual(Array(3).fill("claude-haiku-5-5"));
      expect(sleeps).toEqual([50, 100]);
      expect(mm.calls).toEqual([]);
      expect(result.notes.some((n) => n.includes("falling back"))).toBe(false);
    });
  }

  it("answers from the named model when a retry succeeds", async () => {
    const mm = fakeProvider("openai-compatible", [503]);
    const anthropic = fakeProvider("anthropic");
    const { manager } = setup({ anthropic: anthropic.provider, "openai-compatible": mm.provider });
    const result = await manager.stream({ ...turn, model: "gpt-5.4", fallback: false }, () => {});
    expect(result.ok && result.completion.provider).toBe("openai-compatible");
    expect(result.ok && result.fellBackFrom).toBeUndefined();
    expect(anthropic.calls).toEqual([]);
  });

  it("fails with circuit_open when the named provider's breaker is open", async () => {
    const anthropic = fakeProvider("anthropic", [500, 500, 500]);
    const mm = fakeProvider("openai-compatible");
    const { manager } = setup(
      { anthropic: anthropic.provider, "openai-compatible": mm.provider },
      { breakerPolicy: { failureThreshold: 3 } },
    );
    await manager.complete({ ...turn, fallback: false });
    const result = await manager.complete({ ...turn, fallback: false });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ kind: "circuit_open", provider: "anthropic" });
    expect(anthropic.calls).toHaveLength(3);
    expect(mm.calls).toEqual([]);
  });

  it("fails with unconfigured when the named model's provider is not configured", async () => {
    const mm = fakeProvider("openai-compatible");
    const { manager } = setup({ "openai-compatible": mm.provider });
    const result = await manager.complete({ ...turn, model: "sonnet", fallback: false });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ kind: "unconfigured", provider: "anthropic" });
    expect(mm.calls).toEqual([]);
  });

  it("plans the primary alone", () => {
    const primary = { provider: "anthropic" as const, model: "claude-haiku-5-5" };
    const fallbacks = { anthropic: "claude-sonnet-5-5", "openai-compatible": "gpt-5.4" };
    expect(planRoute("haiku", primary, fallbacks, false).steps).toEqual([primary]);
    expect(planRoute("haiku", primary, fallbacks).steps).toEqual([
      primary,
      { provider: "openai-compatible", model: "gpt-5.4" },
    ]);
  });
});
