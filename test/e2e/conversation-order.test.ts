import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsClients, createAwsClients } from "../../core/compose/aws";
import { ConversationStore } from "../../core/memory/conversations";
import type { ConversationRef } from "../../core/memory/table/keys";
import { ensureQueueWithDlq, LOCAL_CREDENTIALS } from "../../local/services";
import { type LocalStack, startLocalStack } from "../../local/stack";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { lastUserText } from "../fakes/http-fake";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import { testAws, testConfig } from "../support/aws";
import { appMentionEnvelope, postSlackEvent, TEST_SIGNING_SECRET } from "../support/slack";
import { waitFor } from "../support/wait";

/**
 * Conversation order under real timing, on the local stack (DynamoDB Local, fauxqs, the real
 * pollers): jobs that run late (old `ts`, a redelivery after the visibility timeout) still
 * reach the model as alternating question/answer pairs.
 */

const BOT = "UBOTORDER";
/** Visibility timeout of this file's chat queue, s: a failed job comes back this soon. */
const VISIBILITY_SECONDS = 2;
let anthropic: FakeAnthropic;
let slack: FakeSlack;
let stack: LocalStack;
let aws: AwsClients;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: "sk-ant-order" });
  slack = await startFakeSlack({ token: "xoxb-order", botUserId: BOT });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-order",
      ANTHROPIC_BASE_URL: anthropic.url,
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_BOT_TOKEN: "xoxb-order",
      SLACK_BOT_USER_ID: BOT,
      SLACK_API_URL: slack.url,
      PORT: "0",
    }),
  );
  const { queueUrl } = await ensureQueueWithDlq(setup.aws.sqs, `e2e-order-${randomUUID()}`, {
    visibilityTimeoutSeconds: VISIBILITY_SECONDS,
    maxReceiveCount: 3,
  });
  stack = await startLocalStack({ ...setup.config, chatQueueUrl: queueUrl });
  aws = createAwsClients(stack.config, LOCAL_CREDENTIALS);
});

afterAll(async () => {
  await stack?.stop();
  await Promise.all([anthropic?.close(), slack?.close()]);
});

/** Posts one signed mention with message time `ts` (epoch seconds); expects 200. */
async function mention(user: string, text: string, tsSeconds: number): Promise<void> {
  const envelope = appMentionEnvelope({
    eventId: `Ev-order-${randomUUID()}`,
    text,
    botUserId: BOT,
    user,
    channel: "C0ORDER",
    ts: tsSeconds.toFixed(6),
  });
  expect(await postSlackEvent(stack.url, envelope)).toBe(200);
}

/** Waits until the model has been asked `text` and the answer to it is stored. */
async function answered(conversation: ConversationRef, text: string): Promise<void> {
  const conversations = new ConversationStore({
    client: aws.documents,
    tableName: stack.config.memoryTableName,
  });
  await waitFor(async () => {
    const stored = await conversations.recent(conversation);
    return stored.some((m) => m.role === "assistant" && m.content.endsWith(text))
      ? true
      : undefined;
  });
}

/** The messages of the newest model request whose last user text is `text`. */
function requestFor(text: string): { role: string; content: string }[] {
  const request = anthropic.requests.findLast((r) => lastUserText(r.body.messages) === text);
  if (!request) throw new Error(`no model request for ${text}`);
  return (request.body.messages as { role: string; content: unknown }[]).map((m) => ({
    role: m.role,
    content: typeof m.content === "string" ? m.content : JSON.stringify(m.content),
  }));
}

/** Asserts `messages` alternate user/assistant, each answer echoing the question before it. */
function expectPairs(messages: { role: string; content: string }[], questions: string[]): void {
  expect(messages.map((m) => m.role)).toEqual([
    ...questions.flatMap(() => ["user", "assistant"]),
    "user",
  ]);
  questions.forEach((question, i) => {
    expect(messages[2 * i]?.content).toBe(question);
    // The fake model's answer ends with the question it answered.
    expect(messages[2 * i + 1]?.content.endsWith(question)).toBe(true);
  });
}

describe("conversation order (local stack)", () => {
  it("sends the model q1, a1, …, q6, a6, q7 when every mention's ts is 10 minutes old", async () => {
    const user = "U0BACKLOG";
    const conversation: ConversationRef = { platform: "slack", channelId: "C0ORDER", userId: user };
    const old = Date.now() / 1000 - 600;
    const questions = Array.from({ length: 6 }, (_, i) => `backlog question ${i + 1}`);
    for (const [i, question] of questions.entries()) {
      await mention(user, question, old + i);
      await answered(conversation, question);
    }
    await mention(user, "backlog question 7", old + 6);
    await answered(conversation, "backlog question 7");

    expectPairs(requestFor("backlog question 7"), questions);
  });

  it("keeps a redelivered job's question next to its answer when a newer job finished first", async () => {
    const user = "U0REDELIVER";
    const conversation: ConversationRef = { platform: "slack", channelId: "C0ORDER", userId: user };
    const now = Date.now() / 1000;
    // The first job's reply fails once (ending its stream): the job returns to the queue and
    // comes back only after the visibility timeout, by which time the second job has been
    // answered and stored.
    slack.failNext("chat.stopStream", { error: "fatal_error" });
    await mention(user, "first, delivered twice", now);
    await new Promise((r) => setTimeout(r, 300));
    await mention(user, "second, answered first", now + 1);
    await answered(conversation, "second, answered first");
    await answered(conversation, "first, delivered twice");

    const conversations = new ConversationStore({
      client: aws.documents,
      tableName: stack.config.memoryTableName,
    });
    expect((await conversations.recent(conversation)).map((m) => m.content)).toEqual([
      "second, answered first",
      expect.stringMatching(/second, answered first$/),
      "first, delivered twice",
      expect.stringMatching(/first, delivered twice$/),
    ]);

    await mention(user, "third", now + 2);
    await answered(conversation, "third");
    expectPairs(requestFor("third"), ["second, answered first", "first, delivered twice"]);
  }, 60_000);
});
