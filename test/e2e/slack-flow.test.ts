import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FAILURE_REPLY } from "../../core/chat/turn";
import { createAwsClients } from "../../core/compose/aws";
import { DEFAULT_ANTHROPIC_MODEL, DEFAULT_OPENAI_COMPATIBLE_MODEL } from "../../core/llm/models";
import { ConversationStore } from "../../core/memory/conversations";
import { LOCAL_CREDENTIALS } from "../../local/services";
import { type LocalStack, startLocalStack } from "../../local/stack";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { type FakeOpenAI, startFakeOpenAI } from "../fakes/openai";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import { testAws, testConfig } from "../support/aws";
import { answers, appMentionEnvelope, signedHeaders, TEST_SIGNING_SECRET } from "../support/slack";
import { waitFor } from "../support/wait";

const BOT = "UBOTE2E";
let anthropic: FakeAnthropic;
let openai: FakeOpenAI;
let slack: FakeSlack;
let stack: LocalStack;
let dlqUrl: string | undefined;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: "sk-ant-e2e" });
  openai = await startFakeOpenAI({ models: [DEFAULT_OPENAI_COMPATIBLE_MODEL, "gpt-4o-mini"] });
  slack = await startFakeSlack({ token: "xoxb-e2e", botUserId: BOT });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-e2e",
      ANTHROPIC_BASE_URL: anthropic.url,
      MODEL_MANAGER_BASE_URL: openai.url,
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_BOT_TOKEN: "xoxb-e2e",
      SLACK_BOT_USER_ID: BOT,
      SLACK_API_URL: slack.url,
      PORT: "0",
    }),
    { queue: `e2e-chat-${Date.now()}` },
  );
  dlqUrl = setup.dlqUrl;
  stack = await startLocalStack(setup.config);
});

afterAll(async () => {
  await stack?.stop();
  await Promise.all([anthropic?.close(), openai?.close(), slack?.close()]);
});

beforeEach(() => {
  anthropic.reset();
  openai.reset();
  slack.reset();
});

async function mention(
  eventId: string,
  text: string,
  options: { user?: string; retries?: number } = {},
) {
  const envelope = appMentionEnvelope({
    eventId,
    text,
    botUserId: BOT,
    user: options.user ?? "U0ALICE",
  });
  const body = JSON.stringify(envelope);
  const statuses: number[] = [];
  for (let retryNum = 0; retryNum <= (options.retries ?? 0); retryNum++) {
    const res = await fetch(`${stack.url}/slack/events`, {
      method: "POST",
      body,
      headers: signedHeaders(body, { retryNum }),
    });
    statuses.push(res.status);
  }
  return { statuses, ts: (envelope.event as { ts: string }).ts };
}

/** Waits for `count` posts, then a little longer to catch any extra post. */
async function postsAfterSettling(count: number) {
  await waitFor(() => (answers(slack).length >= count ? true : undefined));
  await new Promise((r) => setTimeout(r, 1_500));
  return answers(slack);
}

describe("Slack mention → model → threaded reply (local stack)", () => {
  it("serves /health", async () => {
    const res = await fetch(`${stack.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok" });
  });

  it("answers an event delivered four times with exactly one threaded reply and stores both turns", async () => {
    const { statuses, ts } = await mention("Ev-e2e-1", "what is the capital of France?", {
      retries: 3,
    });
    expect(statuses).toEqual([200, 200, 200, 200]);

    const posts = await postsAfterSettling(1);
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({
      channel: "C0CHAN",
      thread_ts: ts,
      text: `fake-anthropic(${DEFAULT_ANTHROPIC_MODEL}): what is the capital of France?`,
    });
    expect(anthropic.requests).toHaveLength(1);

    const aws = createAwsClients(stack.config, LOCAL_CREDENTIALS);
    const stored = await new ConversationStore({
      client: aws.documents,
      tableName: stack.config.memoryTableName,
    }).recent({
      platform: "slack",
      channelId: "C0CHAN",
      userId: "U0ALICE",
    });
    expect(stored.map((m) => [m.role, m.content])).toEqual([
      ["user", "what is the capital of France?"],
      ["assistant", posts[0]?.text],
    ]);
  });

  it("sends the first turn back to the model as context on the second mention", async () => {
    await mention("Ev-ctx-1", "my name is Bob", { user: "U0BOB" });
    await postsAfterSettling(1);
    await mention("Ev-ctx-2", "what is my name?", { user: "U0BOB" });
    await postsAfterSettling(2);
    const secondCall = anthropic.requests.at(-1)?.body as {
      messages: { role: string; content: unknown }[];
    };
    expect(secondCall.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(JSON.stringify(secondCall.messages[0])).toContain("my name is Bob");
    expect(JSON.stringify(secondCall.messages[2])).toContain("what is my name?");
  });

  it("answers and stores a mention with characters outside the BMP intact (😀, 𝔼)", async () => {
    const text = "ship it 😀 when 𝔼[X] > 3 🎉";
    const { statuses, ts } = await mention("Ev-astral", text, { user: "U0ASTRAL" });
    expect(statuses).toEqual([200]);
    const posts = await postsAfterSettling(1);
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({ thread_ts: ts, text: expect.stringContaining(text) });
    const aws = createAwsClients(stack.config, LOCAL_CREDENTIALS);
    const stored = await new ConversationStore({
      client: aws.documents,
      tableName: stack.config.memoryTableName,
    }).recent({
      platform: "slack",
      channelId: "C0CHAN",
      userId: "U0ASTRAL",
    });
    expect(stored.map((m) => m.content)).toEqual([text, posts[0]?.text]);
  });

  it("falls back to the OpenAI-compatible provider's default model when Anthropic answers 529 and 500", async () => {
    anthropic.failNext(529, { times: 1 });
    anthropic.failNext(500, { times: 100 });
    await mention("Ev-fallback", "still there?", { user: "U0FALLBACK" });
    const posts = await postsAfterSettling(1);
    expect(posts).toHaveLength(1);
    expect(posts[0]?.text).toBe(`fake-openai(${DEFAULT_OPENAI_COMPATIBLE_MODEL}): still there?`);
    // Three attempts with backoff before giving up on the primary: 529, 500, 500.
    expect(anthropic.requests).toHaveLength(3);
  });

  it("skips Anthropic while its circuit breaker is open (three consecutive failures)", async () => {
    await mention("Ev-breaker", "and now?", { user: "U0BREAKER" });
    const posts = await postsAfterSettling(1);
    expect(posts[0]?.text).toBe(`fake-openai(${DEFAULT_OPENAI_COMPATIBLE_MODEL}): and now?`);
    expect(anthropic.requests).toHaveLength(0);
  });

  it("apologises once when every provider fails, and does not retry the job", async () => {
    openai.failNext(500, { times: 100 });
    await mention("Ev-all-down", "anyone?", { user: "U0DOWN" });
    const posts = await postsAfterSettling(1);
    expect(posts).toHaveLength(1);
    expect(posts[0]?.text).toBe(FAILURE_REPLY);
    const aws = createAwsClients(stack.config, LOCAL_CREDENTIALS);
    const dlq = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 0 }),
    );
    expect(dlq.Messages ?? []).toHaveLength(0);
  });
});
