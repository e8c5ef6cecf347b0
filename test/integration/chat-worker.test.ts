import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatJob } from "../../core/chat/job";
import { UNCONFIGURED_REPLY } from "../../core/chat/turn";
import { createAwsClients } from "../../core/compose/aws";
import { buildWorkerDeps } from "../../core/compose/worker";
import type { Config } from "../../core/config";
import { DEFAULT_ANTHROPIC_MODEL } from "../../core/llm/models";
import { ConversationStore } from "../../core/memory/conversations";
import { PreferenceStore } from "../../core/memory/preferences";
import { SLACK_MAX_MESSAGE_CHARS } from "../../core/platforms/slack/limits";
import { createChatWorkerHandler } from "../../functions/chat-worker";
import { localLambdaContext } from "../../local/poller";
import { LOCAL_CREDENTIALS } from "../../local/services";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import { testAws, testConfig } from "../support/aws";
import { answers } from "../support/slack";
import { sqsEvent } from "../support/sqs";

let anthropic: FakeAnthropic;
let slack: FakeSlack;
let config: Config;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: "sk-ant-worker" });
  slack = await startFakeSlack({ token: "xoxb-worker" });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-worker",
      ANTHROPIC_BASE_URL: anthropic.url,
      SLACK_BOT_TOKEN: "xoxb-worker",
      SLACK_API_URL: slack.url,
    }),
  );
  config = setup.config;
});

afterAll(async () => {
  await Promise.all([anthropic?.close(), slack?.close()]);
});

let counter = 0;
function job(text: string, userId = "U1"): ChatJob {
  counter++;
  return {
    v: 2,
    jobId: `slack:T1:C1:1700000000.${String(counter).padStart(6, "0")}`,
    source: { kind: "slack-events", eventId: `Ev${counter}` },
    conversation: { platform: "slack", channelId: "C1", userId },
    text,
    sentAt: 1_700_000_000_000 + counter,
    reply: {
      platform: "slack",
      via: "direct",
      address: { channel: "C1", threadTs: `1700000000.${String(counter).padStart(6, "0")}` },
    },
  };
}

describe("chat worker handler", () => {
  it("posts once for a redelivered job and stores each turn once", async () => {
    const handler = createChatWorkerHandler(
      buildWorkerDeps(config, createAwsClients(config, LOCAL_CREDENTIALS)),
    );
    const theJob = job("hello worker", "U-redeliver");
    slack.reset();
    anthropic.reset();
    for (let delivery = 0; delivery < 3; delivery++) {
      const result = await handler(sqsEvent([theJob]), localLambdaContext("chat-worker", 30_000));
      expect(result.batchItemFailures).toEqual([]);
    }
    expect(answers(slack)).toHaveLength(1);
    expect(anthropic.requests).toHaveLength(1);
    const aws = createAwsClients(config, LOCAL_CREDENTIALS);
    const conversations = new ConversationStore({
      client: aws.documents,
      tableName: config.memoryTableName,
    });
    expect(await conversations.messageCount(theJob.conversation)).toBe(2);
  });

  it("does not post again from a second container (shared idempotency record)", async () => {
    const theJob = job("two containers", "U-containers");
    slack.reset();
    for (let container = 0; container < 2; container++) {
      const handler = createChatWorkerHandler(
        buildWorkerDeps(config, createAwsClients(config, LOCAL_CREDENTIALS)),
      );
      await handler(sqsEvent([theJob]), localLambdaContext("chat-worker", 30_000));
    }
    expect(answers(slack)).toHaveLength(1);
  });

  it("uses the user's preferred model and lets a [model] directive override it", async () => {
    const aws = createAwsClients(config, LOCAL_CREDENTIALS);
    await new PreferenceStore({ client: aws.documents, tableName: config.memoryTableName }).put(
      "slack",
      "U-pref",
      "model",
      "haiku",
    );
    const handler = createChatWorkerHandler(buildWorkerDeps(config, aws));
    anthropic.reset();
    await handler(
      sqsEvent([job("pref please", "U-pref"), job("[opus] directive please", "U-pref")]),
      localLambdaContext("chat-worker", 30_000),
    );
    // Records of one batch run concurrently: match requests by their text, not their order.
    const modelFor = (text: string) =>
      anthropic.requests
        .map((r) => r.body as { model: string; messages: { content: unknown }[] })
        .find((b) => JSON.stringify(b.messages.at(-1)).includes(text));
    expect(modelFor("pref please")?.model).toMatch(/haiku/);
    const directed = modelFor("directive please");
    expect(directed?.model).toMatch(/opus/);
    expect(JSON.stringify(directed?.messages.at(-1))).not.toContain("[opus]");
  });

  it("reports only the invalid record as a batch item failure", async () => {
    const handler = createChatWorkerHandler(
      buildWorkerDeps(config, createAwsClients(config, LOCAL_CREDENTIALS)),
    );
    const event = sqsEvent([job("fine"), "{not json", { v: 2, jobId: "x" }]);
    const result = await handler(event, localLambdaContext("chat-worker", 30_000));
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([
      event.Records[1]?.messageId,
      event.Records[2]?.messageId,
    ]);
  });

  it("fails the record (for redelivery) when Slack rejects the post, then succeeds once", async () => {
    const handler = createChatWorkerHandler(
      buildWorkerDeps(config, createAwsClients(config, LOCAL_CREDENTIALS)),
    );
    const theJob = job("slack hiccup", "U-hiccup");
    slack.reset();
    slack.failNext("chat.postMessage", { status: 500, times: 3 });
    const first = await handler(sqsEvent([theJob]), localLambdaContext("chat-worker", 30_000));
    expect(first.batchItemFailures).toHaveLength(1);
    expect(answers(slack)).toHaveLength(0);
    const second = await handler(sqsEvent([theJob]), localLambdaContext("chat-worker", 30_000));
    expect(second.batchItemFailures).toHaveLength(0);
    expect(answers(slack)).toHaveLength(1);
  });

  it("explains that no provider is configured instead of failing", async () => {
    const bare: Config = { ...config, anthropic: {}, modelManager: {} };
    const handler = createChatWorkerHandler(
      buildWorkerDeps(bare, createAwsClients(bare, LOCAL_CREDENTIALS)),
    );
    slack.reset();
    const result = await handler(
      sqsEvent([job("anyone home?", "U-bare")]),
      localLambdaContext("chat-worker", 30_000),
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(answers(slack)[0]?.text).toBe(UNCONFIGURED_REPLY);
  });

  it("splits a long answer into several messages in the same thread", async () => {
    const handler = createChatWorkerHandler(
      buildWorkerDeps(config, createAwsClients(config, LOCAL_CREDENTIALS)),
    );
    const long = Array.from({ length: 900 }, (_, i) => `word${i}`).join(" ");
    anthropic.setReply(() => long);
    slack.reset();
    const theJob = job("tell me everything", "U-long");
    try {
      await handler(sqsEvent([theJob]), localLambdaContext("chat-worker", 30_000));
    } finally {
      anthropic.setReply();
    }
    const posts = answers(slack);
    expect(long.length).toBeGreaterThan(SLACK_MAX_MESSAGE_CHARS);
    expect(posts.length).toBe(Math.ceil(long.length / SLACK_MAX_MESSAGE_CHARS));
    for (const post of posts) {
      expect(String(post.text).length).toBeLessThanOrEqual(SLACK_MAX_MESSAGE_CHARS);
      expect(post.thread_ts).toBe(theJob.reply.address.threadTs);
    }
    expect(posts.map((p) => p.text).join(" ")).toBe(long);
  });

  it("answers with the default Anthropic model when nothing is chosen", async () => {
    const handler = createChatWorkerHandler(
      buildWorkerDeps(config, createAwsClients(config, LOCAL_CREDENTIALS)),
    );
    slack.reset();
    await handler(
      sqsEvent([job("default model?", "U-default")]),
      localLambdaContext("chat-worker", 30_000),
    );
    expect(answers(slack)[0]?.text).toBe(
      `fake-anthropic(${DEFAULT_ANTHROPIC_MODEL}): default model?`,
    );
  });
});
