import { describe, expect, it } from "vitest";
import {
  ARCHIVE_CHUNK_MAX_MESSAGES,
  ARCHIVE_KEEP_MESSAGES,
  ARCHIVE_LEASE_MS,
  ARCHIVE_MAX_RECEIVE_COUNT,
  ARCHIVE_REQUEST_STALE_MS,
  ARCHIVE_VISIBILITY_TIMEOUT_MS,
  ARCHIVER_TIMEOUT_MS,
  archiveJobSchema,
  canStartChunk,
  needsArchival,
  nextChunk,
  resolveCommitConflict,
  staleRequestCutoff,
} from "../../core/memory/archival";
import { buildSummaryRequest, SUMMARY_SYSTEM_PROMPT } from "../../core/memory/archiver";
import {
  ARCHIVE_VISIBILITY_SECONDS,
  ARCHIVER_TIMEOUT_SECONDS,
  MAX_RECEIVE_COUNT,
} from "../../infra/timings";

describe("archival policy", () => {
  it("archives only past 20 live messages", () => {
    expect(ARCHIVE_KEEP_MESSAGES).toBe(20);
    expect(needsArchival(20)).toBe(false);
    expect(needsArchival(21)).toBe(true);
    expect(needsArchival(0)).toBe(false);
  });

  it("takes the oldest messages first, at most one chunk", () => {
    const older = Array.from({ length: 120 }, (_, i) => i);
    expect(nextChunk(older)).toEqual(older.slice(0, ARCHIVE_CHUNK_MAX_MESSAGES));
    expect(nextChunk([7, 8, 9], 2)).toEqual([7, 8]);
    expect(nextChunk([], 5)).toEqual([]);
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

  it("matches what infra/ deploys, so the lease outlives every invocation", () => {
    // A deployed timeout above the lease would let two archivers work one conversation at once.
    expect(ARCHIVER_TIMEOUT_MS).toBe(ARCHIVER_TIMEOUT_SECONDS * 1000);
    expect(ARCHIVE_LEASE_MS).toBeGreaterThanOrEqual(ARCHIVER_TIMEOUT_SECONDS * 1000);
    expect(ARCHIVE_VISIBILITY_TIMEOUT_MS).toBe(ARCHIVE_VISIBILITY_SECONDS * 1000);
    expect(ARCHIVE_MAX_RECEIVE_COUNT).toBe(MAX_RECEIVE_COUNT);
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
        createdAt: Date.UTC(2026, 0, 2, 8, 30),
      },
      {
        messageId: "b",
        role: "assistant",
        content: "No, Monday.",
        createdAt: Date.UTC(2026, 0, 2, 8, 31),
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
  });
});
