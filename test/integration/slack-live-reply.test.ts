import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ReplyTarget } from "../../core/chat/job";
import { memoryTable } from "../../core/compose/aws";
import { STREAMING } from "../../core/constants/timings";
import { ReplyLedgerStore } from "../../core/memory/reply-ledger";
import { THINKING_PLACEHOLDER } from "../../core/platforms/slack/live-reply";
import { SlackReplier } from "../../core/platforms/slack/replier";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import { testAws, testConfig } from "../support/aws";

/**
 * Slack's live reply against the wire-level Slack fake, with the reply ledger on DynamoDB
 * Local: native streaming in threads, the `chat.update` fallback, assistant-thread status, the
 * "Thinking…" task, and a redelivered job finishing its own message.
 */

const TOKEN = "xoxb-live";
let slack: FakeSlack;
let ledger: ReplyLedgerStore;
const warnings: { message: string; fields: Record<string, unknown> }[] = [];

beforeAll(async () => {
  slack = await startFakeSlack({ token: TOKEN });
  const { aws, config } = await testAws(testConfig());
  ledger = new ReplyLedgerStore(memoryTable(config, aws));
});
afterAll(() => slack.close());
beforeEach(() => {
  slack.reset();
  warnings.length = 0;
});

function replier(): SlackReplier {
  return new SlackReplier({
    botToken: TOKEN,
    apiUrl: slack.url,
    ledger,
    warn: (message, fields) => warnings.push({ message, fields }),
  });
}

let jobs = 0;
function job() {
  jobs++;
  return { jobId: `slack:C0LIVE:${Date.now()}.${jobs}`, sentAt: Date.now() };
}

function threadTarget(channel = "C0LIVE", threadTs = "1700000000.000100"): ReplyTarget {
  return {
    platform: "slack",
    via: "direct",
    address: { channel, threadTs, teamId: "T0LIVE", userId: "U0ALICE" },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Feeds `words` at `perSecond`, like a model stream. */
async function feed(reply: { append(delta: string): void }, words: string[], perSecond: number) {
  for (const word of words) {
    reply.append(word);
    await sleep(1000 / perSecond);
  }
}

describe("SlackReplier live replies", () => {
  it("streams into a thread: start with the first words, paced appends, stop with the rest", async () => {
    const thisJob = job();
    const reply = await replier().open(threadTarget(), thisJob);
    const words = Array.from({ length: 60 }, (_, i) => (i === 0 ? "**Bold** start" : ` w${i}`));
    const opened = Date.now();
    await feed(reply, words, 30);
    const final = `${words.join("")}\n\n_claude-test_`;
    const { messageId } = await reply.finish(final);

    const [message, ...others] = slack.messages({ channel: "C0LIVE" });
    expect(others).toEqual([]);
    expect(message?.ts).toBe(messageId);
    expect(message?.threadTs).toBe("1700000000.000100");
    expect(message?.streaming).toBe(false);
    expect(message?.markdown).toBe(true);
    expect(message?.text).toBe(final);
    const methods = message?.events.map((e) => e.method) ?? [];
    expect(methods[0]).toBe("chat.startStream");
    expect(methods.at(-1)).toBe("chat.stopStream");
    expect(methods.slice(1, -1).every((m) => m === "chat.appendStream")).toBe(true);
    // The stream opened with the first words, not after a buffer filled.
    expect(message?.events[0]?.text.startsWith("**Bold** start")).toBe(true);
    expect((message?.events[0]?.at ?? 0) - opened).toBeLessThan(500);
    // 2 s of words: at most one append per STREAMING.appendIntervalMs, plus start and stop.
    const seconds = (message?.events.at(-1)?.at ?? 0) - (message?.events[0]?.at ?? 0);
    expect(methods.length).toBeLessThanOrEqual(Math.ceil(seconds / STREAMING.appendIntervalMs) + 3);
    const start = slack.callsTo("chat.startStream")[0];
    expect(start?.args.recipient_team_id).toBe("T0LIVE");
    expect(start?.args.recipient_user_id).toBe("U0ALICE");
    expect(await ledger.read(thisJob.jobId)).toEqual([messageId]);
  });

  it("falls back to one placeholder edited with chat.update where streaming is refused", async () => {
    slack.setStreaming("not_allowed");
    const target = threadTarget("C0REFUSE");
    const first = await replier().open(target, job());
    await feed(first, ["Hello", " there", " friend"], 20);
    await first.finish("Hello there friend, **done**");

    const [message, ...others] = slack.messages({ channel: "C0REFUSE" });
    expect(others).toEqual([]);
    expect(message?.text).toBe("Hello there friend, **done**");
    expect(message?.events[0]).toMatchObject({
      method: "chat.postMessage",
      text: THINKING_PLACEHOLDER,
    });
    expect(message?.events.slice(1).every((e) => e.method === "chat.update")).toBe(true);
    expect(warnings.map((w) => w.fields.code)).toContain("not_allowed");
  });

  it("remembers a refusing channel: the next reply posts its placeholder at once", async () => {
    slack.setStreaming("channel_type_not_supported");
    const shared = replier();
    const first = await shared.open(threadTarget("C0GRID"), job());
    first.append("o");
    await first.finish("one");
    const before = slack.callsTo("chat.startStream").length;
    const second = await shared.open(threadTarget("C0GRID", "1700000000.000200"), job());
    expect(slack.messages({ threadTs: "1700000000.000200" })[0]?.text).toBe(THINKING_PLACEHOLDER);
    await second.finish("two");
    expect(slack.callsTo("chat.startStream").length).toBe(before);
  });

  it("in a top-level DM posts the placeholder at once and edits it at most once a second", async () => {
    const target: ReplyTarget = { platform: "slack", via: "direct", address: { channel: "D0DM" } };
    const reply = await replier().open(target, job());
    expect(slack.messages({ channel: "D0DM" })[0]?.text).toBe(THINKING_PLACEHOLDER);
    await feed(
      reply,
      Array.from({ length: 40 }, (_, i) => `w${i} `),
      20,
    );
    await reply.finish("the answer");
    const [message] = slack.messages({ channel: "D0DM" });
    expect(message?.text).toBe("the answer");
    const updates = (message?.events ?? []).filter((e) => e.method === "chat.update");
    for (let i = 1; i < updates.length - 1; i++) {
      expect((updates[i]?.at ?? 0) - (updates[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(
        // Calls start an interval apart; a request's travel time (the first one opens a
        // connection) may shorten the gap between arrivals.
        STREAMING.editIntervalMs - 150,
      );
    }
  });

  it("in an assistant thread sets the loading status at once, and streams", async () => {
    const target = threadTarget("D0ASSIST", "1700000000.000300");
    const reply = await replier().open(target, job());
    expect(slack.assistantThread("D0ASSIST", "1700000000.000300")?.status).toBeTruthy();
    expect(slack.assistantThread("D0ASSIST", "1700000000.000300")?.loadingMessages?.length).toBe(3);
    reply.append("hi");
    await reply.finish("hi there");
    expect(slack.messages({ channel: "D0ASSIST" })[0]?.events[0]?.method).toBe("chat.startStream");
  });

  it("opens the stream with a Thinking… task when no words come, and completes it at the end", async () => {
    const reply = await replier().open(threadTarget("C0SLOW"), job());
    await sleep(STREAMING.thinkingAfterMs + 300);
    const [opening] = slack.callsTo("chat.startStream");
    expect(JSON.stringify(opening?.args.chunks)).toContain("task_update");
    expect(slack.messages({ channel: "C0SLOW" })[0]?.streaming).toBe(true);
    reply.append("late words");
    await reply.finish("late words, finally");
    const stop = slack.callsTo("chat.stopStream")[0];
    expect(JSON.stringify(stop?.args.chunks)).toContain('"complete"');
    expect(slack.messages({ channel: "C0SLOW" })[0]?.text).toBe("late words, finally");
  });

  it("a redelivered job stops the stream its killed run left open and finishes that message", async () => {
    const thisJob = job();
    const killed = await replier().open(threadTarget("C0CRASH"), thisJob);
    killed.append("half an ans");
    await sleep(200);
    // The first run dies here: its stream stays open, its ts is in the ledger.
    expect(slack.messages({ channel: "C0CRASH" })[0]?.streaming).toBe(true);

    const rerun = await replier().open(threadTarget("C0CRASH"), thisJob);
    rerun.append("A whole new");
    await rerun.finish("A whole new answer");
    const messages = slack.messages({ channel: "C0CRASH" });
    expect(messages).toHaveLength(1);
    expect(messages[0]?.streaming).toBe(false);
    expect(messages[0]?.text).toBe("A whole new answer");
    expect(slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("an answer that arrives before any word is posted as an ordinary message", async () => {
    const reply = await replier().open(threadTarget("C0APOLOGY"), job());
    await reply.finish("Sorry, I couldn't reach a language model just now.");
    const [message] = slack.messages({ channel: "C0APOLOGY" });
    expect(message?.events.map((e) => e.method)).toEqual(["chat.postMessage"]);
    expect(message?.markdown).toBe(true);
  });

  it("shows each tool call as a task_update chunk that moves from in_progress to complete", async () => {
    const reply = await replier().open(threadTarget("C0TOOLS"), job());
    reply.append("Making a link.");
    reply.progress?.({ id: "toolu_1", label: "file link", state: "running" });
    await sleep(STREAMING.appendIntervalMs + 200);
    reply.progress?.({ id: "toolu_1", label: "file link", state: "done", durationMs: 1200 });
    reply.append(" Here it is.");
    await reply.finish("Making a link. Here it is.");
    const chunks = slack
      .callsTo(["chat.startStream", "chat.appendStream", "chat.stopStream"])
      .flatMap(
        (call) => (call.args.chunks as { type: string; id?: string; status?: string }[]) ?? [],
      )
      .filter((chunk) => chunk.type === "task_update" && chunk.id === "toolu_1");
    expect(chunks.map((c) => c.status)).toEqual(["in_progress", "complete"]);
    expect(JSON.stringify(chunks.at(-1))).toContain("done (1.2 s)");
    expect(slack.messages({ channel: "C0TOOLS" })[0]?.text).toBe("Making a link. Here it is.");
  });
});
