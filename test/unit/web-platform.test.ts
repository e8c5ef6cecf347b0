import { describe, expect, it } from "vitest";
import { chatJobSchema } from "../../core/chat/job";
import { modelFooter, withLastParagraph } from "../../core/chat/reply-text";
import { parseSummaryId, summaryId } from "../../core/memory/long-term/summaries";
import { webChatJob, webMessageSchema } from "../../core/platforms/web/job";
import { fellBackFromFooter } from "../../core/platforms/web/replier";

describe("web platform", () => {
  it("builds a valid chat job for a console message, defaulting who and where", () => {
    const message = webMessageSchema.parse({ text: "  hi  " });
    expect(message).toEqual({ text: "hi", user: "me", channel: "console" });
    const job = webChatJob(message, 1_700_000_000_000);
    expect(chatJobSchema.parse(job)).toEqual(job);
    expect(job.conversation).toEqual({ platform: "web", channelId: "console", userId: "me" });
    expect(job.reply).toEqual({
      platform: "web",
      via: "direct",
      address: { user: "me", channel: "console" },
    });
    expect(job.source).toEqual({ kind: "web-console" });
  });

  it("refuses names that would break a key", () => {
    expect(webMessageSchema.safeParse({ text: "x", user: "a#b" }).success).toBe(false);
    expect(webMessageSchema.safeParse({ text: "x", channel: "a".repeat(65) }).success).toBe(false);
  });

  it("reads the fallback from the footer the turn wrote, and nothing else", () => {
    const shown = (footer: string) => withLastParagraph("the answer\n\nmore", footer);
    expect(fellBackFromFooter(shown(modelFooter("gpt-5.4", "claude-x")), "gpt-5.4")).toBe(
      "claude-x",
    );
    expect(fellBackFromFooter(shown(modelFooter("gpt-5.4")), "gpt-5.4")).toBeUndefined();
    expect(fellBackFromFooter(shown(modelFooter("gpt-5.4", "claude-x")), "gpt-4")).toBeUndefined();
    expect(fellBackFromFooter("no footer at all", "gpt-5.4")).toBeUndefined();
  });

  it("round-trips a web conversation's summary id", () => {
    const ref = { platform: "web" as const, channelId: "general", userId: "alice" };
    expect(parseSummaryId(summaryId(ref, "000000000012"))).toEqual({
      ...ref,
      toMessageId: "000000000012",
    });
  });
});
