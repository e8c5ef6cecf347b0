import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lastUserText } from "../fakes/http-fake";
import {
  type LocalProcess,
  type LocalProcessFakes,
  startLocalProcess,
  startLocalProcessFakes,
} from "../support/local-process";
import { answers, appMentionEnvelope, signedHeaders } from "../support/slack";
import { waitFor } from "../support/wait";

/**
 * `npm start` killed with SIGKILL while the model is answering, then started again on the same
 * `DATA_DIR`: every mention it acked is answered exactly once (docs/reliability/local.md). The
 * jobs killed mid-stream had already opened their Slack stream and shown the first words; their
 * redelivery finishes that same message instead of posting another (docs/architecture.md,
 * "Live replies"). The stack runs as a child process with its own DynamoDB Local (on disk) and
 * SQS emulator (in memory, so the kill empties the queue), against the wire-level Slack and
 * Anthropic fakes.
 */

const BOT = "UBOTDURABLE";
/** Jobs running at once in the killed process: 3 are killed mid-answer, 3 never start. */
const CONCURRENCY = 3;
const MENTIONS = 6;

let fakes: LocalProcessFakes;
let stack: LocalProcess | undefined;

beforeAll(async () => {
  fakes = await startLocalProcessFakes("durable", BOT);
});

afterAll(async () => {
  await stack?.stop();
  await fakes?.close();
});

function start(): Promise<LocalProcess> {
  return startLocalProcess(
    fakes.env({ LOCAL_CHAT_CONCURRENCY: String(CONCURRENCY), REPLY_MODEL_FOOTER: "false" }),
    { cwd: fakes.dir },
  );
}

async function post(url: string, envelope: Record<string, unknown>, retryNum?: number) {
  const body = JSON.stringify(envelope);
  const res = await fetch(`${url}/slack/events`, {
    method: "POST",
    body,
    headers: signedHeaders(body, retryNum ? { retryNum } : {}),
  });
  return res.status;
}

describe("local stack durability", () => {
  it("answers every acked mention exactly once, in one message, after a SIGKILL mid-stream and a restart", async () => {
    // First process: each answer streams its first words, then the model goes silent.
    fakes.anthropic.setReply(async () => "too late: the process that asked is gone");
    fakes.anthropic.setStream({ firstTokenMs: 50, tokensPerSecond: 20, stallAfterTokens: 3 });
    stack = await start();

    const base = Math.floor(Date.now() / 1000);
    const mentions = Array.from({ length: MENTIONS }, (_, i) => {
      const text = `durable question ${i + 1}`;
      const ts = `${base}.${String(i + 1).padStart(6, "0")}`;
      const envelope = appMentionEnvelope({
        eventId: `Ev-durable-${randomUUID()}`,
        text,
        botUserId: BOT,
        // Two conversations with several messages each, and some alone.
        user: `U0DURABLE${i % 4}`,
        channel: "C0DURABLE",
        ts,
      });
      return { text, ts, envelope };
    });
    for (const m of mentions) expect(await post(stack.url, m.envelope)).toBe(200);

    // Killed mid-stream: CONCURRENCY streams show their first words (the rest are queued).
    const streaming = () => fakes.slack.messages().filter((m) => m.streaming && m.text);
    await waitFor(() => (streaming().length >= CONCURRENCY ? true : undefined), 30_000);
    // The model is silent now; the kill lands mid-answer, after each stream's ts was recorded.
    // (A kill between Slack's chat.startStream answer and that one DynamoDB put would post a
    // second message: the window docs/architecture.md, "Live replies", names.)
    await new Promise((r) => setTimeout(r, 500));
    expect(answers(fakes.slack)).toHaveLength(0);
    await stack.kill();
    const killedMidStream = streaming().map((m) => m.threadTs);
    expect(killedMidStream).toHaveLength(CONCURRENCY);

    // Second process on the same DATA_DIR; the model now answers in 200 ms.
    fakes.anthropic.setStream({ firstTokenMs: 200, tokensPerSecond: 100 });
    fakes.anthropic.setReply(async ({ body }) => `answer to: ${lastUserText(body.messages)}`);
    stack = await start();
    // The jobs killed mid-answer left in-progress reply records; they wait those out.
    expect(stack.output()).toContain('"replyState":"in_progress"');
    // Slack retries each of them (it saw no reply); every retry is acked, none answered twice.
    for (const m of mentions) expect(await post(stack.url, m.envelope, 1)).toBe(200);

    const repliesTo = (ts: string) => answers(fakes.slack).filter((p) => p.thread_ts === ts);
    // In-progress replies wait out their record's expiry (the chat worker's 90 s timeout).
    await waitFor(
      () => (mentions.every((m) => repliesTo(m.ts).length > 0) ? true : undefined),
      150_000,
    ).catch((error: unknown) => {
      throw new Error(`not every mention was answered:\n${stack?.output()}`, { cause: error });
    });
    // Time for a second answer to any of them to show up, if one were coming.
    await new Promise((r) => setTimeout(r, 3_000));
    for (const m of mentions) {
      const replies = repliesTo(m.ts);
      expect(replies, m.text).toHaveLength(1);
      expect(String(replies[0]?.text)).toBe(`answer to: ${m.text}`);
    }
    // One message per mention in all: the streams the kill left open were finished, not
    // joined by a second message.
    const messages = fakes.slack.messages();
    expect(
      messages,
      JSON.stringify(messages.map((m) => [m.threadTs, m.streaming, m.events.map((e) => e.method)])),
    ).toHaveLength(MENTIONS);
    for (const threadTs of killedMidStream) {
      const [message] = fakes.slack.messages({ channel: "C0DURABLE", threadTs: threadTs ?? "" });
      expect(message?.events.map((e) => e.method)).toContain("chat.stopStream");
      expect(message?.events.at(-1)?.method).toBe("chat.update");
    }
  }, 300_000);
});
