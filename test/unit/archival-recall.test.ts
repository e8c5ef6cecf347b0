import { describe, expect, it } from "vitest";
import {
  buildSystemPrompt,
  RECALL_HEADING,
  RUNNING_SUMMARY_HEADING,
  SYSTEM_PROMPT,
} from "../../core/chat/prompt";
import { createLogger } from "../../core/logger";
import type { LongTermIndex, SummaryHit, SummaryRecord } from "../../core/memory/long-term/types";
import { createRecall, MIN_TRUNCATED_CHARS, selectRecall } from "../../core/memory/recall";

function record(id: string, text: string): SummaryRecord {
  return {
    id,
    platform: "slack",
    userId: "U1",
    channelId: "C1",
    text,
    fromMessageId: id,
    toMessageId: id,
    messageCount: 2,
    createdAt: Date.UTC(2026, 0, 9),
  };
}
const hit = (id: string, text: string, score = 1): SummaryHit => ({
  summary: record(id, text),
  score,
});

describe("selectRecall", () => {
  it("keeps the best hits up to the summary count", () => {
    const hits = [hit("a", "one"), hit("b", "two"), hit("c", "three")];
    expect(selectRecall(hits, { maxSummaries: 2, maxChars: 1_000 }).map((s) => s.id)).toEqual([
      "a",
      "b",
    ]);
  });

  it("stops at the character budget, cutting the last summary at a word when enough fits", () => {
    const long = "word ".repeat(100).trim();
    const picked = selectRecall([hit("a", "x".repeat(50)), hit("b", long), hit("c", "short")], {
      maxSummaries: 5,
      maxChars: 50 + MIN_TRUNCATED_CHARS + 10,
    });
    expect(picked.map((s) => s.id)).toEqual(["a", "b"]);
    const total = picked.reduce((n, s) => n + s.text.length, 0);
    expect(total).toBeLessThanOrEqual(50 + MIN_TRUNCATED_CHARS + 10);
    expect(picked[1]?.text.endsWith("word…")).toBe(true);
  });

  it("drops a summary that would be cut too short, and takes nothing after it", () => {
    const picked = selectRecall([hit("a", "x".repeat(90)), hit("b", "y".repeat(200))], {
      maxSummaries: 5,
      maxChars: 100,
    });
    expect(picked.map((s) => s.id)).toEqual(["a"]);
  });
});

describe("createRecall", () => {
  const logger = createLogger("recall-test", "SILENT");
  const index = (search: LongTermIndex["search"]): LongTermIndex => ({
    backend: "embedded",
    ensureReady: async () => {},
    upsert: async () => {},
    remove: async () => {},
    search,
  });
  const ref = { platform: "slack" as const, channelId: "C1", userId: "U1" };
  const budget = { maxSummaries: 3, maxChars: 2_000 };

  it("scopes the search to the conversation's user with the budget as limit", async () => {
    const queries: unknown[] = [];
    const recall = createRecall({
      index: index(async (q) => {
        queries.push(q);
        return [hit("a", "alpha")];
      }),
      budget,
      logger,
    });
    expect((await recall(ref, "alpha?")).map((s) => s.id)).toEqual(["a"]);
    expect(queries).toEqual([{ platform: "slack", userId: "U1", text: "alpha?", limit: 3 }]);
  });

  it("answers [] when the search fails or is slower than the timeout", async () => {
    const failing = createRecall({
      index: index(async () => {
        throw new Error("ArcadeDB down");
      }),
      budget,
      logger,
    });
    expect(await failing(ref, "anything")).toEqual([]);
    const hanging = createRecall({
      index: index(() => new Promise(() => {})),
      budget,
      logger,
      timeoutMs: 20,
    });
    expect(await hanging(ref, "anything")).toEqual([]);
  });

  it("does not search for an empty message", async () => {
    let searched = false;
    const recall = createRecall({
      index: index(async () => {
        searched = true;
        return [];
      }),
      budget,
      logger,
    });
    expect(await recall(ref, "   ")).toEqual([]);
    expect(searched).toBe(false);
  });
});

describe("buildSystemPrompt", () => {
  it("is the plain system prompt without a running summary or recall", () => {
    expect(buildSystemPrompt({ recalled: [] })).toBe(SYSTEM_PROMPT);
    expect(buildSystemPrompt({ runningSummary: "  ", recalled: [] })).toBe(SYSTEM_PROMPT);
  });

  it("adds a labelled background section with dated summaries", () => {
    const prompt = buildSystemPrompt({
      recalled: [record("a", "Bob prefers tea."), record("b", "Ship v2.")],
    });
    expect(prompt.startsWith(SYSTEM_PROMPT)).toBe(true);
    expect(prompt).toContain(`## ${RECALL_HEADING}`);
    expect(prompt).toContain("- (2026-01-09) Bob prefers tea.\n- (2026-01-09) Ship v2.");
    expect(prompt).not.toContain(RUNNING_SUMMARY_HEADING);
  });

  it("carries the running summary as this conversation's earlier part, before the background", () => {
    const prompt = buildSystemPrompt({
      runningSummary: "We chose Lisbon for the offsite.",
      recalled: [record("a", "Bob prefers tea.")],
    });
    const running = prompt.indexOf(`## ${RUNNING_SUMMARY_HEADING}`);
    const background = prompt.indexOf(`## ${RECALL_HEADING}`);
    expect(running).toBeGreaterThan(SYSTEM_PROMPT.length - 1);
    expect(background).toBeGreaterThan(running);
    expect(prompt.slice(running, background)).toContain("We chose Lisbon for the offsite.");
    expect(prompt.slice(background)).not.toContain("Lisbon");
  });
});
