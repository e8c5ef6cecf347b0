import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsClients } from "../../core/compose/aws";
import { ChatOutbox } from "../../local/outbox";
import { ensureQueueWithDlq, LOCAL_CREDENTIALS } from "../../local/services";
import { type LocalStack, startLocalStack } from "../../local/stack";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { lastUserText } from "../fakes/http-fake";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import { testAws, testConfig } from "../support/aws";
import { answers, appMentionEnvelope, postSlackEvent, TEST_SIGNING_SECRET } from "../support/slack";
import { waitFor } from "../support/wait";

/**
 * The local stack's chat poller with `LOCAL_CHAT_CONCURRENCY` > 1, on DynamoDB Local and fauxqs
 * with the real pollers: different conversations are answered at the same time, while the
 * messages of one conversation are answered one after another, in the order they came.
 */

const BOT = "UBOTCONC";
/** How long the fake model takes to answer, ms. */
const MODEL_MS = 3_000;
let anthropic: FakeAnthropic;
let slack: FakeSlack;
let stack: LocalStack;
/** When the model started and finished answering each question (epoch ms). */
const calls = new Map<string, { start: number; end: number }>();

beforeAll(async () => {
  anthropic = await startFakeAnthropic({
    apiKey: "sk-ant-conc",
    reply: async ({ body }) => {
      const question = lastUserText(body.messages);
      const start = Date.now();
      await new Promise((r) => setTimeout(r, MODEL_MS));
      calls.set(question, { start, end: Date.now() });
      return `answer to: ${question}`;
    },
  });
  slack = await startFakeSlack({ token: "xoxb-conc", botUserId: BOT });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-conc",
      ANTHROPIC_BASE_URL: anthropic.url,
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_BOT_TOKEN: "xoxb-conc",
      SLACK_BOT_USER_ID: BOT,
      SLACK_API_URL: slack.url,
      LOCAL_CHAT_CONCURRENCY: "4",
      PORT: "0",
    }),
  );
  const { queueUrl } = await ensureQueueWithDlq(setup.aws.sqs, `e2e-conc-${randomUUID()}`);
  stack = await startLocalStack({ ...setup.config, chatQueueUrl: queueUrl });
});

afterAll(async () => {
  await stack?.stop();
  await Promise.all([anthropic?.close(), slack?.close()]);
});

describe("local chat concurrency", () => {
  it("answers different conversations at once and one conversation's messages in order", async () => {
    const base = Math.floor(Date.now() / 1000);
    const sent = [
      { user: "U0ALICE", text: "alice 1" },
      { user: "U0ALICE", text: "alice 2" },
      { user: "U0BOB", text: "bob 1" },
      { user: "U0ALICE", text: "alice 3" },
      { user: "U0CAROL", text: "carol 1" },
    ];
    for (const [i, m] of sent.entries()) {
      const envelope = appMentionEnvelope({
        eventId: `Ev-conc-${randomUUID()}`,
        text: m.text,
        botUserId: BOT,
        user: m.user,
        channel: "C0CONC",
        ts: `${base}.${String(i + 1).padStart(6, "0")}`,
      });
      expect(await postSlackEvent(stack.url, envelope)).toBe(200);
    }
    await waitFor(() => (answers(slack).length >= sent.length ? true : undefined), 30_000);

    const call = (text: string) => {
      const c = calls.get(text);
      if (!c) throw new Error(`the model was never asked ${text}`);
      return c;
    };
    // One conversation: each answer is done before the next question reaches the model.
    expect(call("alice 2").start).toBeGreaterThanOrEqual(call("alice 1").end);
    expect(call("alice 3").start).toBeGreaterThanOrEqual(call("alice 2").end);
    const aliceReplies = answers(slack)
      .map((p) => String(p.text))
      .filter((t) => t.startsWith("answer to: alice"));
    expect(aliceReplies).toEqual([
      "answer to: alice 1",
      "answer to: alice 2",
      "answer to: alice 3",
    ]);
    // Other conversations: answered while alice's first question was.
    expect(call("bob 1").start).toBeLessThan(call("alice 1").end);
    expect(call("carol 1").start).toBeLessThan(call("alice 1").end);
    expect(answers(slack)).toHaveLength(sent.length);

    // Every answered job has left the outbox, so a restart would re-enqueue none of them.
    const aws = createAwsClients(stack.config, LOCAL_CREDENTIALS);
    const outbox = new ChatOutbox({
      client: aws.documents,
      tableName: stack.config.memoryTableName,
    });
    await waitFor(async () => ((await outbox.list()).length === 0 ? true : undefined));
  }, 60_000);
});
