import { describe, expect, it } from "vitest";
import {
  DEFAULT_ANTHROPIC_MODEL,
  DEFAULT_OPENAI_COMPATIBLE_MODEL,
  DEFAULT_SUMMARY_MODEL,
  MODEL_ALIASES,
  parseModelDirective,
  resolveModel,
  routeModel,
} from "../../../core/llm/models";

describe("model table", () => {
  it("maps aliases to current ids of the right family", () => {
    expect(resolveModel("sonnet")).toEqual({ model: "claude-sonnet-5-5", provider: "anthropic" });
    expect(resolveModel("haiku")).toEqual({ model: "claude-haiku-5-5", provider: "anthropic" });
    expect(resolveModel("opus")).toEqual({ model: "claude-opus-5-5", provider: "anthropic" });
    expect(resolveModel("mini")).toEqual({ model: "gpt-5.4-mini", provider: "openai-compatible" });
    expect(DEFAULT_ANTHROPIC_MODEL).toMatch(/^claude-sonnet-/);
    expect(DEFAULT_OPENAI_COMPATIBLE_MODEL).toMatch(/^gpt-/);
    expect(DEFAULT_SUMMARY_MODEL).toBe(MODEL_ALIASES.haiku);
  });

  it("never uses a model the Anthropic SDK warns is deprecated", () => {
    const deprecated = ["claude-sonnet-4-5", "claude-sonnet-4-5-20250929"];
    const used = [...Object.values(MODEL_ALIASES), DEFAULT_ANTHROPIC_MODEL, DEFAULT_SUMMARY_MODEL];
    for (const id of used) expect(deprecated).not.toContain(id);
  });

  it("is case-insensitive and trims", () => {
    expect(resolveModel("  Sonnet ")).toEqual(resolveModel("sonnet"));
    expect(resolveModel("GPT-5.4")).toEqual({ model: "gpt-5.4", provider: "openai-compatible" });
  });

  it("routes by family prefix and passes unknown ids of a known family through", () => {
    expect(routeModel("claude-opus-4-8")).toBe("anthropic");
    expect(routeModel("gpt-4.1-mini")).toBe("openai-compatible");
    expect(routeModel("o1")).toBe("openai-compatible");
    expect(routeModel("o3-mini")).toBe("openai-compatible");
    expect(routeModel("o4-mini")).toBe("openai-compatible");
    expect(resolveModel("claude-future-9")).toEqual({
      model: "claude-future-9",
      provider: "anthropic",
    });
  });

  it("refuses unroutable names", () => {
    for (const name of ["", "  ", "llama3", "todo", "1", "link", "ok", "mistral-large"]) {
      expect(resolveModel(name)).toBeUndefined();
    }
  });
});

describe("parseModelDirective", () => {
  it("strips a prefix directive and resolves the alias", () => {
    expect(parseModelDirective("[haiku] what is 2+2?")).toEqual({
      model: "claude-haiku-5-5",
      text: "what is 2+2?",
    });
  });

  it("finds a directive in the middle of the text and collapses the gap", () => {
    expect(parseModelDirective("please answer  [gpt-5.4]  in French")).toEqual({
      model: "gpt-5.4",
      text: "please answer in French",
    });
    expect(parseModelDirective("summarise this [opus]")).toEqual({
      model: "claude-opus-5-5",
      text: "summarise this",
    });
    expect(parseModelDirective("hi [mini], thanks")).toEqual({
      model: "gpt-5.4-mini",
      text: "hi, thanks",
    });
  });

  it("leaves non-model brackets alone", () => {
    for (const text of ["see [1] and [link]", "[TODO] fix this", "arr[mini] is code", "[x]"]) {
      expect(parseModelDirective(text)).toEqual({ text });
    }
  });

  it("skips non-model brackets before a real directive", () => {
    expect(parseModelDirective("[TODO] [sonnet] plan the week")).toEqual({
      model: "claude-sonnet-5-5",
      text: "[TODO] plan the week",
    });
  });

  it("does not treat a Markdown masked link as a directive", () => {
    const text = "read [gpt-5](https://example.com/gpt-5) please";
    expect(parseModelDirective(text)).toEqual({ text });
  });

  it("copes with a leading Slack mention", () => {
    expect(parseModelDirective("<@U123> [haiku] hi")).toEqual({
      model: "claude-haiku-5-5",
      text: "<@U123> hi",
    });
    expect(parseModelDirective("<@U123>[haiku] hi")).toEqual({
      model: "claude-haiku-5-5",
      text: "<@U123> hi",
    });
  });

  it("keeps newlines elsewhere in the message", () => {
    expect(parseModelDirective("[sonnet]\nline one\n\nline two")).toEqual({
      model: "claude-sonnet-5-5",
      text: "line one\n\nline two",
    });
  });

  it("returns the text unchanged when there is no directive", () => {
    expect(parseModelDirective("  plain text  ")).toEqual({ text: "  plain text  " });
  });
});
