import { describe, expect, it } from "vitest";
import {
  ARCHIVE_VISIBILITY_TIMEOUT_MS,
  ARCHIVER_TIMEOUT_MS,
  VISIBILITY_TIMEOUT_FACTOR,
} from "../../core/constants/timings";
import {
  ARCHIVE_CHUNK_MAX_MESSAGES,
  ARCHIVE_CHUNK_MIN_REMAINING_MS,
  ARCHIVE_KEEP_MESSAGES,
  ARCHIVE_LEASE_MS,
  ARCHIVE_REQUEST_STALE_MS,
  archiveJobSchema,
  CONTEXT_LAG_MESSAGES,
  canStartChunk,
  contextLimit,
  DEFAULT_ARCHIVE_HIGH_WATER,
  needsArchival,
  nextChunk,
  resolveCommitConflict,
  staleRequestCutoff,
} from "../../core/memory/archival";
import {
  buildSummaryRequest,
  parseSummaryAnswer,
  RUNNING_SUMMARY_MAX_TOKENS,
  SUMMARY_SYSTEM_PROMPT,
} from "../../core/memory/summary-prompt";

describe("archival policy", () => {
  it("archives only past the high-water mark, down to 20 live messages", () => {
    expect(ARCHIVE_KEEP_MESSAGES).toBe(20);
    expect(DEFAULT_ARCHIVE_HIGH_WATER).toBe(30);
    expect(needsArchival(30, DEFAULT_ARCHIVE_HIGH_WATER)).toBe(false);
    expect(needsArchival(31, DEFAULT_ARCHIVE_HIGH_WATER)).toBe(true);
    expect(needsArchival(0, DEFAULT_ARCHIVE_HIGH_WATER)).toBe(false);
  });

  it("reads every live message up to the high-water mark plus the archive's lag", () => {
    expect(contextLimit(30)).toBe(30 + CONTEXT_LAG_MESSAGES);
    expect(contextLimit(30)).toBeGreaterThan(32);
  });

  it("takes the oldest messages first, at most one chunk", () => {
    const older = Array.from({ length: 120 }, (_, i) => i);
    expect(nextChunk(older.slice(0, 50), 100)).toEqual(older.slice(0, 50));
    expect(nextChunk([7, 8, 9], 3, 2)).toEqual([7, 8]);
    expect(nextChunk([], 0, 5)).toEqual([]);
    expect(nextChunk(older.slice(0, 12), 12)).toEqual(older.slice(0, 12));
  });

  it("splits a backlog into balanced chunks, never leaving a tiny last one", () => {
    const older = Array.from({ length: 51 }, (_, i) => i);
    expect(nextChunk(older.slice(0, 50), 51)).toHaveLength(26);
    expect(nextChunk(older.slice(0, 25), 25)).toHaveLength(25);
    for (let total = 1; total <= 300; total++) {
      let left = total;
      const sizes: number[] = [];
      while (left > 0) {
        const size = nextChunk(
          Array.from({ length: Math.min(left, ARCHIVE_CHUNK_MAX_MESSAGES) }, (_, i) => i),
          left,
        ).length;
        sizes.push(size);
        left -= size;
      }
      expect(Math.max(...sizes)).toBeLessThanOrEqual(ARCHIVE_CHUNK_MAX_MESSAGES);
      // Chunks of one backlog differ by at most one message.
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it("keeps a chunk plus the META update inside one 100-action transaction", () => {
    expect(ARCHIVE_CHUNK_MAX_MESSAGES + 1).toBeLessThanOrEqual(100);
  });

  it("derives lease, visibility timeout and staleness from the archiver timeout", () => {
    expect(ARCHIVE_LEASE_MS).toBe(ARCHIVER_TIMEOUT_MS);
    expect(ARCHIVE_VISIBILITY_TIMEOUT_MS).toBe(6 * ARCHIVER_TIMEOUT_MS);
    expect(ARCHIVE_REQUEST_STALE_MS).toBe(ARCHIVE_VISIBILITY_TIMEOUT_MS);
    expect(staleRequestCutoff(1_000_000, 1_000)).toBe(999_000);
  });

  it("fits what infra/ deploys, so the lease outlives every invocation", () => {
    // infra/ deploys the archiver and its queue from core/constants/timings.ts.
    // A deployed timeout above the lease would let two archivers work one conversation at once.
    expect(ARCHIVE_LEASE_MS).toBeGreaterThanOrEqual(ARCHIVER_TIMEOUT_MS);
    expect(ARCHIVE_VISIBILITY_TIMEOUT_MS).toBe(VISIBILITY_TIMEOUT_FACTOR * ARCHIVER_TIMEOUT_MS);
    // An invocation must be able to start at least one chunk.
    expect(ARCHIVER_TIMEOUT_MS).toBeGreaterThan(ARCHIVE_CHUNK_MIN_REMAINING_MS);
  });

  it("starts another chunk only with time for a summary call and the writes", () => {
    expect(canStartChunk(60_000, 60_000)).toBe(true);
    expect(canStartChunk(59_999, 60_000)).toBe(false);
  });

  it("validates archive jobs at the queue boundary", () => {
    const job = {
      v: 1,
      conversation: { platform: "discord", channelId: "1", userId: "2" },
      requestedAt: 1_700_000_000_000,
    };
    expect(archiveJobSchema.parse(job)).toEqual(job);
    expect(archiveJobSchema.safeParse({ ...job, v: 2 }).success).toBe(false);
    expect(
      archiveJobSchema.safeParse({ ...job, conversation: { platform: "irc", channelId: "1" } })
        .success,
    ).toBe(false);
  });
});

describe("resolveCommitConflict", () => {
  const base = {
    metaExists: true,
    leaseStillOurs: false,
    stillStored: 0,
    toMessageId: "01J00000000000000000000005",
  };

  it("stops without undoing anything when another archiver committed the same chunk", () => {
    expect(resolveCommitConflict({ ...base, archivedThrough: "01J00000000000000000000005" })).toBe(
      "superseded",
    );
    expect(resolveCommitConflict({ ...base, archivedThrough: "01J00000000000000000000009" })).toBe(
      "superseded",
    );
  });

  it("stops when another archiver holds the lease and the messages are still there", () => {
    expect(resolveCommitConflict({ ...base, stillStored: 5 })).toBe("superseded");
  });

  it("removes the summary when its messages were forgotten", () => {
    expect(resolveCommitConflict({ ...base, metaExists: false })).toBe("compensate");
    expect(resolveCommitConflict({ ...base, archivedThrough: "01J00000000000000000000001" })).toBe(
      "compensate",
    );
  });

  it("retries when part of the chunk vanished under a lease still held", () => {
    expect(resolveCommitConflict({ ...base, leaseStillOurs: true, stillStored: 2 })).toBe("retry");
    expect(resolveCommitConflict({ ...base, metaExists: false, stillStored: 2 })).toBe("retry");
  });
});

describe("buildSummaryRequest", () => {
  it("asks for facts, decisions, names and open questions over a timestamped excerpt", () => {
    const request = buildSummaryRequest([
      {
        messageId: "a",
        role: "user",
        content: "deploy on friday?",
        sentAt: Date.UTC(2026, 0, 2, 8, 30),
      },
      {
        messageId: "b",
        role: "assistant",
        content: "No, Monday.",
        sentAt: Date.UTC(2026, 0, 2, 8, 31),
      },
    ]);
    expect(request.system).toBe(SUMMARY_SYSTEM_PROMPT);
    for (const word of ["facts", "decisions", "names", "open", "questions", "few"]) {
      expect(request.system).toContain(word);
    }
    expect(request.messages).toHaveLength(1);
    expect(request.messages[0]?.role).toBe("user");
    expect(request.messages[0]?.content).toContain(
      "[2026-01-02 08:30] User: deploy on friday?\n[2026-01-02 08:31] Assistant: No, Monday.",
    );
    expect(request.messages[0]?.content).toContain("Running summary so far:\n(none yet)");
  });

  it("folds the running summary so far into the request, bounded by the prompt", () => {
    const request = buildSummaryRequest(
      [{ messageId: "000000000021", role: "user", content: "and the venue?", sentAt: 0 }],
      { text: "The team picked Lisbon for the offsite.", throughMessageId: "20", updatedAt: 0 },
    );
    expect(request.messages[0]?.content).toContain(
      "Running summary so far:\nThe team picked Lisbon for the offsite.",
    );
    // The bound is asked for in words (about 0.6 per token), never enforced by slicing.
    expect(request.system).toContain(`${Math.round(RUNNING_SUMMARY_MAX_TOKENS * 0.6)} words`);
    expect(request.system).toContain(`${RUNNING_SUMMARY_MAX_TOKENS} tokens`);
  });
});

describe("parseSummaryAnswer", () => {
  it("takes both tagged parts, ignoring what stands outside them", () => {
    expect(
      parseSummaryAnswer(
        "Here you go:\n<chunk_summary> Picked Lisbon. </chunk_summary>\n" +
          "<RUNNING_SUMMARY>Offsite: Lisbon, May.\nBudget open.</RUNNING_SUMMARY>",
      ),
    ).toEqual({
      chunkSummary: "Picked Lisbon.",
      runningSummary: "Offsite: Lisbon, May.\nBudget open.",
    });
  });

  it("refuses an answer missing or emptying either part", () => {
    expect(parseSummaryAnswer("Picked Lisbon.")).toBeUndefined();
    expect(parseSummaryAnswer("<chunk_summary>x</chunk_summary>")).toBeUndefined();
    expect(
      parseSummaryAnswer("<chunk_summary> </chunk_summary><running_summary>y</running_summary>"),
    ).toBeUndefined();
    expect(
      parseSummaryAnswer("<chunk_summary>x</chunk_summary><running_summary>y"),
    ).toBeUndefined();
  });
});
