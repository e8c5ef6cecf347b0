import { describe, expect, it, vi } from "vitest";
import type { ChatJob } from "../../core/chat/job";
import type { AnswerAndPost, ReplyRecord } from "../../core/chat/turn";
import { rememberUnrecordedReplies } from "../../core/chat/unrecorded-replies";
import { createLogger } from "../../core/logger";
import type { ConversationHead } from "../../core/memory/conversation-items";

const job = (jobId: string) => ({ jobId }) as ChatJob;
const head = Promise.resolve({} as ConversationHead);
const reply: ReplyRecord = {
  outcome: "answered",
  text: "hi",
  messageId: "1.000100",
  postedAt: 1,
};

/** A `once` whose record store fails the first `failures` saves after the work ran. */
function flakyOnce(failures: { before: number; after: number }) {
  return (fn: AnswerAndPost): AnswerAndPost =>
    async (j, h) => {
      if (failures.before-- > 0) throw new Error("store down before the work");
      const result = await fn(j, h);
      if (failures.after-- > 0) throw new Error("store down after the work");
      return result;
    };
}

describe("rememberUnrecordedReplies", () => {
  it("does not post again when the reply was posted but its record failed", async () => {
    const post = vi.fn(async () => reply);
    const record = vi.fn(async () => undefined);
    const once = rememberUnrecordedReplies(flakyOnce({ before: 0, after: 1 }), {
      record,
      logger: createLogger("test", "SILENT"),
    });
    const answer = once(post);
    await expect(answer(job("j1"), head)).rejects.toThrow("store down after the work");
    expect(await answer(job("j1"), head)).toEqual(reply);
    expect(post).toHaveBeenCalledTimes(1);
    expect(record).toHaveBeenCalledWith(job("j1"), reply);
  });

  it("keeps the reply while the record still cannot be written", async () => {
    const post = vi.fn(async () => reply);
    const record = vi
      .fn<(j: ChatJob, r: ReplyRecord) => Promise<void>>()
      .mockRejectedValueOnce(new Error("still down"))
      .mockResolvedValue(undefined);
    const answer = rememberUnrecordedReplies(flakyOnce({ before: 0, after: 1 }), {
      record,
      logger: createLogger("test", "SILENT"),
    })(post);
    await expect(answer(job("j2"), head)).rejects.toThrow();
    await expect(answer(job("j2"), head)).rejects.toThrow("still down");
    expect(await answer(job("j2"), head)).toEqual(reply);
    expect(post).toHaveBeenCalledTimes(1);
  });

  it("remembers nothing when the failure came before the post", async () => {
    const post = vi.fn(async () => reply);
    const record = vi.fn(async () => undefined);
    const answer = rememberUnrecordedReplies(flakyOnce({ before: 1, after: 0 }), {
      record,
      logger: createLogger("test", "SILENT"),
    })(post);
    await expect(answer(job("j3"), head)).rejects.toThrow("store down before the work");
    expect(await answer(job("j3"), head)).toEqual(reply);
    expect(post).toHaveBeenCalledTimes(1);
    expect(record).not.toHaveBeenCalled();
  });

  it("forgets the oldest reply past maxEntries", async () => {
    const post = vi.fn(async () => reply);
    const answer = rememberUnrecordedReplies(flakyOnce({ before: 0, after: 2 }), {
      record: async () => undefined,
      logger: createLogger("test", "SILENT"),
      maxEntries: 1,
    })(post);
    await expect(answer(job("old"), head)).rejects.toThrow();
    await expect(answer(job("new"), head)).rejects.toThrow();
    await answer(job("old"), head);
    expect(post).toHaveBeenCalledTimes(3);
  });
});
