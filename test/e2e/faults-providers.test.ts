/**
 * Faults of the services a turn calls, survived on the local stack (issue 13, item 5; figures
 * in docs/reliability/faults.md): a storm of 429 answers with `retry-after` from the model
 * provider, and bursts of 503 from ArcadeDB during recall. One stack serves every scenario;
 * between scenarios a health check (whose probes pass) closes the breakers the previous one
 * opened, as the scheduled check does.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { FAILURE_REPLY } from "../../core/chat/turn";
import { DEFAULT_ANTHROPIC_MODEL, DEFAULT_OPENAI_COMPATIBLE_MODEL } from "../../core/llm/models";
import { DEFAULT_RETRY_POLICY } from "../../core/llm/retry-policy";
import { ArcadeDbLongTermIndex, SEARCH_SQL } from "../../core/memory/long-term/arcadedb";
import { summaryId } from "../../core/memory/long-term/summaries";
import type { ConversationRef } from "../../core/memory/table/keys";
import { type LocalStack, startLocalStack } from "../../local/stack";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { type FakeArcadeDb, startFakeArcadeDb } from "../fakes/arcadedb";
import { type FakeOpenAI, startFakeOpenAI } from "../fakes/openai";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import { testAws, testConfig } from "../support/aws";
import { answers, appMentionEnvelope, signedHeaders, TEST_SIGNING_SECRET } from "../support/slack";
import { waitFor } from "../support/wait";

const BOT = "UBOTSTORM";
let anthropic: FakeAnthropic;
let openai: FakeOpenAI;
let slack: FakeSlack;
let arcadedb: FakeArcadeDb;
let stack: LocalStack;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: "sk-ant-storm" });
  openai = await startFakeOpenAI({ models: [DEFAULT_OPENAI_COMPATIBLE_MODEL] });
  slack = await startFakeSlack({ token: "xoxb-storm", botUserId: BOT });
  arcadedb = await startFakeArcadeDb();
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-storm",
      ANTHROPIC_BASE_URL: anthropic.url,
      MODEL_MANAGER_BASE_URL: openai.url,
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_BOT_TOKEN: "xoxb-storm",
      SLACK_BOT_USER_ID: BOT,
      SLACK_API_URL: slack.url,
      ARCADEDB_URL: arcadedb.databaseUrl,
      ARCADEDB_USERNAME: arcadedb.username,
      ARCADEDB_PASSWORD: arcadedb.password,
      PORT: "0",
    }),
    { queue: `faults-storm-${Date.now()}` },
  );
  stack = await startLocalStack(setup.config);
});

afterAll(async () => {
  await stack?.stop();
  await Promise.all([anthropic?.close(), openai?.close(), slack?.close(), arcadedb?.close()]);
});

beforeEach(async () => {
  // Closes any breaker the previous scenario opened (the probes pass), then starts clean.
  await stack.runHealthCheckNow();
  anthropic.reset();
  openai.reset();
  slack.reset();
});

let events = 0;

/** Mentions the bot as `user`; resolves with the posted reply's text and the ms it took. */
async function turn(user: string, text: string): Promise<{ reply: string; ms: number }> {
  const started = Date.now();
  const envelope = appMentionEnvelope({
    eventId: `Ev-storm-${++events}`,
    text,
    user,
    botUserId: BOT,
  });
  const ts = (envelope.event as { ts: string }).ts;
  const body = JSON.stringify(envelope);
  const res = await fetch(`${stack.url}/slack/events`, {
    method: "POST",
    body,
    headers: signedHeaders(body),
  });
  expect(res.status).toBe(200);
  const reply = await waitFor(
    () => answers(slack).find((post) => post.thread_ts === ts)?.text as string | undefined,
    15_000,
  );
  return { reply, ms: Date.now() - started };
}

const claude = (text: string) => `fake-anthropic(${DEFAULT_ANTHROPIC_MODEL}): ${text}`;
const gpt = (text: string) => `fake-openai(${DEFAULT_OPENAI_COMPATIBLE_MODEL}): ${text}`;

describe("a storm of 429 with retry-after from the model provider", () => {
  it("answers after the server's wait when the storm passes within the retries", async () => {
    anthropic.failNext(429, { times: 2, retryAfterSeconds: 1 });
    const { reply, ms } = await turn("U0STORM1", "are you there?");
    expect(reply).toBe(claude("are you there?"));
    expect(anthropic.requests).toHaveLength(3);
    expect(openai.requests).toHaveLength(0);
    // Two waits of the server's 1 s, not the 0–0.5 s and 0–1 s of our own backoff.
    expect(ms).toBeGreaterThanOrEqual(2_000);
    console.info(`faults: 2 × 429 retry-after 1 s → answered by Claude after ${ms} ms, 3 calls`);
  });

  it("makes at most the retry budget of calls, then falls back", async () => {
    anthropic.failNext(429, { times: 100, retryAfterSeconds: 1 });
    const { reply, ms } = await turn("U0STORM2", "still raining?");
    expect(reply).toBe(gpt("still raining?"));
    expect(anthropic.requests).toHaveLength(DEFAULT_RETRY_POLICY.maxAttempts);
    expect(openai.requests).toHaveLength(1);
    console.info(
      `faults: endless 429 retry-after 1 s → ${anthropic.requests.length} Claude calls, fallback answered after ${ms} ms`,
    );
  });

  it("falls back at once when retry-after is past the turn's budget", async () => {
    anthropic.failNext(429, { times: 100, retryAfterSeconds: 60 });
    const { reply, ms } = await turn("U0STORM3", "what about now?");
    expect(reply).toBe(gpt("what about now?"));
    expect(anthropic.requests).toHaveLength(1);
    console.info(`faults: 429 retry-after 60 s → fallback answered after ${ms} ms, 1 Claude call`);
  });

  it("apologises at once when every provider asks for a wait past the budget", async () => {
    anthropic.failNext(429, { times: 100, retryAfterSeconds: 60 });
    openai.failNext(429, { times: 100, retryAfterSeconds: 60 });
    const { reply, ms } = await turn("U0STORM4", "anyone?");
    expect(reply).toBe(FAILURE_REPLY);
    expect(anthropic.requests).toHaveLength(1);
    expect(openai.requests).toHaveLength(1);
    console.info(`faults: both providers 429 retry-after 60 s → apology after ${ms} ms`);
  });
});

describe("ArcadeDB answering 503 in bursts during recall", () => {
  const conversation: ConversationRef = {
    platform: "slack",
    channelId: "C0CHAN",
    userId: "U0RECALL",
  };
  const remembered = "The user's cat is called Miso and hates the vacuum cleaner.";

  beforeAll(async () => {
    const index = new ArcadeDbLongTermIndex({
      url: arcadedb.databaseUrl,
      username: arcadedb.username,
      password: arcadedb.password,
    });
    await index.upsert({
      id: summaryId(conversation, "000000000012"),
      ...conversation,
      text: remembered,
      fromMessageId: "000000000001",
      toMessageId: "000000000012",
      messageCount: 12,
      createdAt: Date.now(),
    });
    // A first turn makes the stack's index set its schema up, so injected failures hit searches.
    await turn("U0WARMUP", "hello");
  });

  /** Search commands ArcadeDB received so far. */
  const searches = () => arcadedb.commands.filter((c) => c.command === SEARCH_SQL).length;
  const systemPrompt = () => String(anthropic.requests.at(-1)?.body.system ?? "");

  it("rides out a short burst with the client's retries and recalls", async () => {
    const before = searches();
    arcadedb.failNext({ status: 503, times: 2 });
    const { reply } = await turn("U0RECALL", "what is my cat called?");
    expect(reply).toBe(claude("what is my cat called?"));
    expect(searches() - before).toBe(3);
    expect(systemPrompt()).toContain(remembered);
  });

  it("skips recall (logged) and answers when the burst outlasts the retries", async () => {
    const warn = vi.spyOn(Logger.prototype, "warn");
    try {
      const before = searches();
      arcadedb.failNext({ status: 503, times: 50 });
      const { reply, ms } = await turn("U0RECALL", "and what does my cat hate?");
      expect(reply).toBe(claude("and what does my cat hate?"));
      expect(systemPrompt()).not.toContain(remembered);
      expect(warn).toHaveBeenCalledWith(
        "long-term search failed; answering without recall",
        expect.objectContaining({ backend: "arcadedb" }),
      );
      console.info(
        `faults: ArcadeDB 503 burst → ${searches() - before} search calls, recall skipped, answered after ${ms} ms`,
      );
    } finally {
      warn.mockRestore();
    }
  });
});
