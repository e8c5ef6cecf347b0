import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECALL_HEADING, RUNNING_SUMMARY_HEADING } from "../../core/chat/prompt";
import { type AwsClients, createAwsClients } from "../../core/compose/aws";
import { ConversationStore } from "../../core/memory/conversations";
import { SummaryStore } from "../../core/memory/long-term/summaries";
import type { ConversationRef } from "../../core/memory/table/keys";
import { LOCAL_CREDENTIALS } from "../../local/services";
import { type LocalStack, startLocalStack } from "../../local/stack";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { type RecordedRequest, textOf } from "../fakes/http-fake";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import { isSummaryRequest, summariserReply, testArchiveQueue } from "../support/archive";
import { testAws, testConfig } from "../support/aws";
import { appMentionEnvelope, postSlackEvent, TEST_SIGNING_SECRET } from "../support/slack";
import { waitFor } from "../support/wait";

const BOT = "UBOTMEM";
const USER = "U0MEMORY";
const conversation: ConversationRef = { platform: "slack", channelId: "C0MEM", userId: USER };
let anthropic: FakeAnthropic;
let slack: FakeSlack;
let stack: LocalStack;
let aws: AwsClients;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: "sk-ant-memory", reply: summariserReply });
  slack = await startFakeSlack({ token: "xoxb-memory", botUserId: BOT });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-memory",
      ANTHROPIC_BASE_URL: anthropic.url,
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_BOT_TOKEN: "xoxb-memory",
      SLACK_BOT_USER_ID: BOT,
      SLACK_API_URL: slack.url,
      PORT: "0",
    }),
    { queue: `e2e-memory-chat-${Date.now()}` },
  );
  // Its own archive queue, so no other stack in this run polls it.
  const { queueUrl } = await testArchiveQueue(setup.aws, { visibilityTimeoutSeconds: 30 });
  stack = await startLocalStack({ ...setup.config, archiveQueueUrl: queueUrl });
  aws = createAwsClients(stack.config, LOCAL_CREDENTIALS);
});

afterAll(async () => {
  await stack?.stop();
  await Promise.all([anthropic?.close(), slack?.close()]);
});

let mentions = 0;
/** Sends one signed mention and waits until both of its turns are stored. */
async function mention(text: string): Promise<void> {
  const conversations = new ConversationStore({
    client: aws.documents,
    tableName: stack.config.memoryTableName,
  });
  mentions++;
  // Millisecond-precision `ts`, later than everything stored: message ids sort in chat order.
  const envelope = appMentionEnvelope({
    eventId: `Ev-mem-${mentions}`,
    text,
    botUserId: BOT,
    user: USER,
    channel: conversation.channelId,
    ts: (Date.now() / 1000).toFixed(6),
  });
  expect(await postSlackEvent(stack.url, envelope)).toBe(200);
  // The newest two messages are never archived: wait for this mention's answer among them.
  await waitFor(async () => {
    const newest = await conversations.recent(conversation, 2);
    const answered = newest.some((m) => m.role === "assistant" && m.content.endsWith(text));
    return answered ? true : undefined;
  });
  await new Promise((r) => setTimeout(r, 5));
}

function chatRequests(): RecordedRequest[] {
  return anthropic.requests.filter((r) => !isSummaryRequest(r));
}

describe("long conversation → archive → recall (local stack)", () => {
  it("brings an archived fact back to the model as background for a later question", async () => {
    await mention("please remember that my locker code is 4711-zebra");
    for (let i = 1; i <= 15; i++) await mention(`tell me something about topic number ${i}`);

    // 16 mentions = 32 messages, past the high-water mark of 30: the stack's archiver folds the
    // oldest 12 into one summary (and into the running summary), down to 20.
    const conversations = new ConversationStore({
      client: aws.documents,
      tableName: stack.config.memoryTableName,
    });
    const summaries = new SummaryStore({
      client: aws.documents,
      tableName: stack.config.memoryTableName,
    });
    const [summary] = await waitFor(async () => {
      const stored = await summaries.listForUser("slack", USER);
      return stored.length > 0 && (await conversations.messageCount(conversation)) === 20
        ? stored
        : undefined;
    });
    expect(summary?.text).toContain("4711-zebra");
    expect(summary?.messageCount).toBe(12);
    const live = await conversations.recent(conversation, 100);
    expect(live).toHaveLength(20);
    expect(JSON.stringify(live)).not.toContain("4711-zebra");

    await mention("what is my locker code?");
    const last = chatRequests().at(-1)?.body as {
      system: unknown;
      messages: { content: unknown }[];
    };
    const system = JSON.stringify(last.system);
    expect(system).toContain(RECALL_HEADING);
    expect(system).toContain("4711-zebra");
    // The fact is only in the recalled background, not in the recent messages sent.
    expect(JSON.stringify(last.messages)).not.toContain("4711-zebra");
    expect(JSON.stringify(last.messages.at(-1))).toContain("what is my locker code?");
  }, 90_000);

  it("carries the archived part in every turn through the running summary, whatever the words", async () => {
    // Shares no word with the archived turn, so search recall finds nothing for it.
    await mention("What did we decide earlier?");
    const last = chatRequests().at(-1)?.body as { system: unknown; messages: unknown[] };
    const system = textOf(last.system);
    const running = system.indexOf(`## ${RUNNING_SUMMARY_HEADING}`);
    expect(running).toBeGreaterThan(0);
    expect(system.slice(running)).toContain("4711-zebra");
    expect(system).not.toContain(RECALL_HEADING);
    expect(JSON.stringify(last.messages)).not.toContain("4711-zebra");
  }, 30_000);
});
