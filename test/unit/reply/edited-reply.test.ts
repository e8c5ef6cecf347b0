import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { openEditedReply } from "../../../core/reply/edited-reply";

/** An editor that keeps each message's text and every call, with the fake clock's time. */
function recordingEditor() {
  const messages = new Map<string, string>();
  const calls: { op: "create" | "edit"; id: string; text: string; at: number }[] = [];
  let next = 1;
  return {
    messages,
    calls,
    editor: {
      async create(text: string) {
        const id = `m${next++}`;
        messages.set(id, text);
        calls.push({ op: "create" as const, id, text, at: Date.now() });
        return id;
      },
      async edit(id: string, text: string) {
        if (!messages.has(id)) throw new Error(`no message ${id}`);
        messages.set(id, text);
        calls.push({ op: "edit" as const, id, text, at: Date.now() });
      },
    },
  };
}

describe("openEditedReply", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("posts the placeholder at once, records it, then edits it at most once per interval", async () => {
    const { editor, calls, messages } = recordingEditor();
    const recorded: string[][] = [];
    const reply = await openEditedReply({
      editor,
      maxChars: 2000,
      intervalMs: 1000,
      placeholder: "_Thinking…_",
      record: async (ids) => {
        recorded.push(ids);
      },
    });
    expect(calls).toEqual([{ op: "create", id: "m1", text: "_Thinking…_", at: 0 }]);
    expect(recorded).toEqual([["m1"]]);
    for (let i = 0; i < 40; i++) {
      reply.append(`word${i} `);
      await vi.advanceTimersByTimeAsync(100);
    }
    const { messageId } = await reply.finish("the **whole** answer");
    expect(messageId).toBe("m1");
    expect(messages.get("m1")).toBe("the **whole** answer");
    const edits = calls.filter((c) => c.op === "edit");
    expect(edits.length).toBeGreaterThanOrEqual(3);
    // Paced edits are at least an interval apart; only the final one may follow sooner.
    for (let i = 1; i < edits.length - 1; i++) {
      expect((edits[i]?.at ?? 0) - (edits[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    }
  });

  it("continues in further messages past maxChars and records each before it grows", async () => {
    const { editor, messages, calls } = recordingEditor();
    const recorded: string[][] = [];
    const reply = await openEditedReply({
      editor,
      maxChars: 50,
      intervalMs: 1000,
      existing: ["@original"],
      record: async (ids) => {
        recorded.push(ids);
      },
    });
    messages.set("@original", "thinking…");
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`);
    for (const word of words) {
      reply.append(`${word} `);
      await vi.advanceTimersByTimeAsync(200);
    }
    const final = words.join(" ");
    await reply.finish(final);
    const ids = recorded.at(-1) ?? [];
    const shown = ["@original", ...ids.slice(1)].map((id) => messages.get(id));
    expect(shown.join(" ")).toBe(final);
    expect(shown.every((t) => (t ?? "").length <= 50)).toBe(true);
    expect(recorded.at(-1)?.[0]).toBe("@original");
    // Every created message was recorded right after it was created.
    for (const call of calls.filter((c) => c.op === "create")) {
      expect(recorded.some((ids) => ids.includes(call.id))).toBe(true);
    }
  });

  it("finishes an earlier run's messages by editing them, posting nothing new", async () => {
    const { editor, messages, calls } = recordingEditor();
    messages.set("a", "half an ans");
    messages.set("b", "stale");
    const reply = await openEditedReply({
      editor,
      maxChars: 100,
      intervalMs: 1000,
      existing: ["a"],
      placeholder: "never posted",
      record: async () => undefined,
    });
    const { messageId } = await reply.finish("the full answer");
    expect(messageId).toBe("a");
    expect(calls.map((c) => c.op)).toEqual(["edit"]);
    expect(messages.get("a")).toBe("the full answer");
  });

  it("carries on when the ledger cannot be written, and says so", async () => {
    const { editor, messages } = recordingEditor();
    const errors: unknown[] = [];
    const reply = await openEditedReply({
      editor,
      maxChars: 100,
      intervalMs: 1000,
      placeholder: "…",
      record: async () => {
        throw new Error("table down");
      },
      onRecordError: (error) => errors.push(error),
    });
    await reply.finish("answer");
    expect(messages.get("m1")).toBe("answer");
    expect(errors).toHaveLength(1);
  });

  it("retries a failed paced edit with the whole text at finish", async () => {
    const { editor, messages } = recordingEditor();
    let failures = 1;
    const flaky = {
      create: editor.create,
      async edit(id: string, text: string) {
        if (failures-- > 0) throw new Error("429");
        await editor.edit(id, text);
      },
    };
    const reply = await openEditedReply({
      editor: flaky,
      maxChars: 100,
      intervalMs: 1000,
      placeholder: "…",
      record: async () => undefined,
    });
    reply.append("partial");
    await vi.advanceTimersByTimeAsync(10);
    await reply.finish("partial and the rest");
    expect(messages.get("m1")).toBe("partial and the rest");
  });

  it("shows tool steps as italic lines above the text, replaced in place, and keeps them", async () => {
    const { editor, messages } = recordingEditor();
    const reply = await openEditedReply({
      editor,
      maxChars: 2000,
      intervalMs: 1000,
      placeholder: "_Thinking…_",
      record: async () => {},
    });
    reply.append("Making a link.");
    reply.progress?.({ id: "c1", label: "file link", state: "running" });
    await vi.advanceTimersByTimeAsync(1000);
    expect(messages.get("m1")).toBe("_Running file link…_\n\nMaking a link.");
    reply.progress?.({ id: "c1", label: "file link", state: "done", durationMs: 1234 });
    reply.progress?.({ id: "c2", label: "cloud upload", state: "failed", detail: "timeout" });
    await reply.finish("Making a link.\n\nDone.");
    expect(messages.get("m1")).toBe(
      "_Running file link… done (1.2 s)_\n_Running cloud upload… failed: timeout_\n\n" +
        "Making a link.\n\nDone.",
    );
  });
});
