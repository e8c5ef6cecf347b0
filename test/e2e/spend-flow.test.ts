import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DailyProviderTokens } from "../../core/memory/token-usage";
import { type LocalStack, startLocalStack } from "../../local/stack";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { countTokens, type RecordedRequest, textOf } from "../fakes/http-fake";
import { type FakeOpenAI, startFakeOpenAI } from "../fakes/openai";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import { testAws, testConfig } from "../support/aws";
import { answers, appMentionEnvelope, postSlackEvent, TEST_SIGNING_SECRET } from "../support/slack";
import { waitFor } from "../support/wait";

const BOT = "UBOTSPEND";
const ANTHROPIC_KEY = "sk-ant-spend-e2e";
let anthropic: FakeAnthropic;
let openai: FakeOpenAI;
let slack: FakeSlack;
let stack: LocalStack;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: ANTHROPIC_KEY });
  openai = await startFakeOpenAI({ models: ["gpt-5.4", "gpt-5.4-mini"] });
  slack = await startFakeSlack({ token: "xoxb-spend-e2e", botUserId: BOT });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: anthropic.url,
      MODEL_MANAGER_BASE_URL: openai.url,
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_BOT_TOKEN: "xoxb-spend-e2e",
      SLACK_BOT_USER_ID: BOT,
      SLACK_API_URL: slack.url,
      // Every first turn of the day crosses it and finishes; the next one is refused.
      USER_DAILY_TOKEN_BUDGET: "1",
      PORT: "0",
    }),
    { queue: `e2e-spend-${Date.now()}` },
  );
  stack = await startLocalStack(setup.config);
});

afterAll(async () => {
  await stack?.stop();
  await Promise.all([anthropic?.close(), openai?.close(), slack?.close()]);
});

/** Sends a signed mention from `user` and resolves with the reply Slack receives for it. */
async function mention(eventId: string, user: string, text: string): Promise<string> {
  const before = answers(slack).length;
  const envelope = appMentionEnvelope({ eventId, text, botUserId: BOT, user });
  expect(await postSlackEvent(stack.url, envelope)).toBe(200);
  return waitFor(() => {
    const posted = answers(slack);
    return posted.length > before ? String(posted[before]?.text) : undefined;
  });
}

/** Words of every message's text (and `system`), as the fakes count usage. */
function promptWords(request: RecordedRequest | undefined): number {
  const body = (request?.body ?? {}) as { system?: unknown; messages?: { content: unknown }[] };
  const texts = [textOf(body.system), ...(body.messages ?? []).map((m) => textOf(m.content))];
  return countTokens(texts.join(" "));
}

describe("daily token budget and token totals (local stack)", () => {
  it("answers and counts each provider, shows today's tokens on /health?deep=1, and refuses past the budget", async () => {
    const claude = await mention("Ev-spend-1", "U0ALICE", "hello there");
    expect(claude).toContain("fake-anthropic(");
    const gpt = await mention("Ev-spend-2", "U0BOB", "[mini] and hello from me");
    expect(gpt).toContain("fake-openai(gpt-5.4-mini)");

    const refusal = await mention("Ev-spend-3", "U0ALICE", "one more please");
    const midnight = new Date(Math.ceil((Date.now() + 1) / 86_400_000) * 86_400_000);
    const reset = midnight.toISOString().slice(0, 16).replace("T", " ");
    expect(refusal).toContain("today's limit of 1 token,");
    expect(refusal).toContain(`resets at ${reset} UTC`);
    expect(anthropic.requests).toHaveLength(1);
    expect(openai.requests).toHaveLength(1);

    const anthropicTokens = promptWords(anthropic.requests[0]) + countTokens(claude);
    const openaiTokens = promptWords(openai.requests[0]) + countTokens(gpt);
    const deep = await fetch(`${stack.url}/health?deep=1`);
    expect(deep.status).toBe(200);
    const { tokens } = (await deep.json()) as { tokens: DailyProviderTokens };
    expect(tokens.day).toBe(new Date().toISOString().slice(0, 10));
    expect(tokens.resetsAt).toBe(midnight.toISOString());
    expect(tokens.providers.anthropic.tokens).toBe(anthropicTokens);
    expect(tokens.providers.anthropic.outputTokens).toBe(countTokens(claude));
    expect(tokens.providers["openai-compatible"].tokens).toBe(openaiTokens);

    // Plain /health stays cheap: no table read, no token figures.
    const plain = (await (await fetch(`${stack.url}/health`)).json()) as Record<string, unknown>;
    expect(plain).not.toHaveProperty("tokens");
  });
});
