import { describe, expect, it } from "vitest";
import { buildMessages } from "../../core/chat/prompt";
import { splitMessage } from "../../core/reply/split";

describe("splitMessage", () => {
  it("leaves short text alone", () => {
    expect(splitMessage("hello", 4000)).toEqual(["hello"]);
  });

  it("splits at paragraph boundaries under the limit and loses no words", () => {
    const paragraphs = Array.from({ length: 30 }, (_, i) => `Paragraph ${i} `.repeat(20).trim());
    const text = paragraphs.join("\n\n");
    const chunks = splitMessage(text, 4000);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(4000);
    expect(chunks.join("\n\n")).toBe(text);
  });

  it("hard-splits a long word and never cuts a surrogate pair", () => {
    const text = "😀".repeat(3000);
    const chunks = splitMessage(text, 2000);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(2000);
      expect(chunk).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
    }
    expect(chunks.join("")).toBe(text);
  });
});

describe("buildMessages", () => {
  const at = (role: "user" | "assistant", content: string) => ({
    messageId: content,
    role,
    content,
    sentAt: 0,
  });

  it("appends the new text after the history, oldest first", () => {
    expect(buildMessages([at("user", "a"), at("assistant", "b")], "c")).toEqual([
      { role: "user", content: "a" },
      { role: "assistant", content: "b" },
      { role: "user", content: "c" },
    ]);
  });

  it("drops a leading assistant turn and merges same-role neighbours", () => {
    expect(buildMessages([at("assistant", "x"), at("user", "a"), at("user", "b")], "c")).toEqual([
      { role: "user", content: "a\n\nb\n\nc" },
    ]);
  });
});
