import { describe, expect, it } from "vitest";
import { buildMessages } from "../../core/chat/prompt";
import { buildSummaryRequest } from "../../core/memory/summary-prompt";
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

describe("tool calls stored with an answer", () => {
  const answer = {
    messageId: "00000000000000000002",
    role: "assistant" as const,
    content: "Uploaded it.",
    sentAt: 1_700_000_000_000,
    actions: [
      {
        tool: "cloud_upload_file",
        input: '{"serviceName":"dropbox","remotePath":"/reports/q3.pdf"}',
        outcome: "ok" as const,
        result: '{"success":true,"result":{"remotePath":"/reports/q3.pdf"}}',
        durationMs: 1200,
      },
      {
        tool: "cloud_list_files",
        input: "{}",
        outcome: "timeout" as const,
        result: '{"error":"timeout","message":"no answer"}',
        durationMs: 8000,
      },
    ],
  };
  const question = {
    messageId: "00000000000000000001",
    role: "user" as const,
    content: "upload it",
    sentAt: 1,
  };

  it("are listed after the answer the model reads back, with their results or failures", () => {
    const [, assistant] = buildMessages([question, answer], "where did you put it?");
    expect(assistant?.content).toBe(
      "Uploaded it.\n\n[Tools used for this answer:\n" +
        '- cloud_upload_file {"serviceName":"dropbox","remotePath":"/reports/q3.pdf"} → ' +
        '{"success":true,"result":{"remotePath":"/reports/q3.pdf"}}\n' +
        '- cloud_list_files {} → timeout: {"error":"timeout","message":"no answer"}]',
    );
  });

  it("reach the archiver's excerpt, so summaries say what was done", () => {
    const request = buildSummaryRequest([question, answer]);
    expect(request.messages[0]?.content).toContain("cloud_upload_file");
    expect(request.messages[0]?.content).toContain("/reports/q3.pdf");
  });
});
