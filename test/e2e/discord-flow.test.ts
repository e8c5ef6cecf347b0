import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAwsClients } from "../../core/compose/aws";
import { DEFAULT_ANTHROPIC_MODEL, MODEL_ALIASES } from "../../core/llm/models";
import { ConversationStore } from "../../core/memory/conversations";
import { DISCORD_MAX_MESSAGE_CHARS } from "../../core/platforms/discord/limits";
import { LOCAL_CREDENTIALS } from "../../local/services";
import { type LocalStack, startLocalStack } from "../../local/stack";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { type FakeDiscord, startFakeDiscord } from "../fakes/discord";
import { testAws, testConfig } from "../support/aws";
import {
  askInteraction,
  commandInteraction,
  type DiscordTestKeys,
  discordTestKeys,
  postInteraction,
} from "../support/discord";
import { waitFor } from "../support/wait";

const APP = "1500000000000000005";
const CHANNEL = "1510000000000000005";
let anthropic: FakeAnthropic;
let discord: FakeDiscord;
let stack: LocalStack;
const keys: DiscordTestKeys = discordTestKeys();

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: "sk-ant-discord-e2e" });
  discord = await startFakeDiscord({ applicationId: APP, channelId: CHANNEL });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-discord-e2e",
      ANTHROPIC_BASE_URL: anthropic.url,
      DISCORD_PUBLIC_KEY: keys.publicKeyHex,
      DISCORD_APPLICATION_ID: APP,
      DISCORD_API_URL: discord.url,
      PORT: "0",
    }),
    { queue: `e2e-discord-${Date.now()}` },
  );
  stack = await startLocalStack(setup.config);
});

afterAll(async () => {
  await stack?.stop();
  await Promise.all([anthropic?.close(), discord?.close()]);
});

beforeEach(() => {
  anthropic.reset();
  discord.reset();
});

/** Posts a signed interaction to the running stack, as Discord would. */
function interact(payload: Record<string, unknown>) {
  return postInteraction(stack.url, keys, payload);
}

/**
 * Waits until `token`'s messages stop changing for 1.5 s (the answer streams into @original in
 * several edits), then returns what they show: @original's final text and the follow-ups'.
 */
async function settledMessages(token: string) {
  const lastWrite = () =>
    Math.max(0, ...discord.messages(token).flatMap((m) => m.revisions.map((r) => r.at)));
  await waitFor(() => (lastWrite() > 0 && Date.now() - lastWrite() > 1_500 ? true : undefined));
  const [original, ...followUps] = discord.messages(token);
  return {
    original: original?.content,
    revisions: original?.revisions.length ?? 0,
    followUps: followUps.map((m) => m.content),
  };
}

function conversation(userId: string) {
  const aws = createAwsClients(stack.config, LOCAL_CREDENTIALS);
  return new ConversationStore({
    client: aws.documents,
    tableName: stack.config.memoryTableName,
  }).recent({
    platform: "discord",
    channelId: CHANNEL,
    userId,
  });
}

describe("Discord /ask → deferred response → model → edit of @original (local stack)", () => {
  it("reports Discord as configured on /health", async () => {
    const res = await fetch(`${stack.url}/health`);
    expect(await res.json()).toMatchObject({ platforms: { discord: { configured: true } } });
  });

  it("answers type 5 within the request, then edits @original until it shows the answer", async () => {
    const userId = "1520000000000000001";
    const res = await interact(
      askInteraction("what is the capital of France?", {
        token: "tok-e2e-1",
        channelId: CHANNEL,
        userId,
        applicationId: APP,
      }),
    );
    expect(res).toEqual({ status: 200, json: { type: 5 } });

    const { original, revisions, followUps } = await settledMessages("tok-e2e-1");
    expect(revisions).toBeGreaterThanOrEqual(1);
    expect(followUps).toEqual([]);
    const answer = `fake-anthropic(${DEFAULT_ANTHROPIC_MODEL}): what is the capital of France?`;
    expect(original).toBe(answer);
    expect(anthropic.requests).toHaveLength(1);
    expect((await conversation(userId)).map((m) => [m.role, m.content])).toEqual([
      ["user", "what is the capital of France?"],
      ["assistant", answer],
    ]);
  });

  it("uses the model option for that question and stores the prompt without it", async () => {
    const userId = "1520000000000000002";
    await interact(
      askInteraction("and in one word?", {
        token: "tok-e2e-model",
        model: "haiku",
        channelId: CHANNEL,
        userId,
        applicationId: APP,
      }),
    );
    const { original, followUps } = await settledMessages("tok-e2e-model");
    expect([original, ...followUps]).toEqual([
      `fake-anthropic(${MODEL_ALIASES.haiku}): and in one word?`,
    ]);
    expect((await conversation(userId))[0]?.content).toBe("and in one word?");
  });

  it("splits a long answer into an edit and follow-ups of at most 2000 characters", async () => {
    const answer = Array.from(
      { length: 6 },
      (_, i) => `Section ${i}. ${"The answer goes on and on. ".repeat(40).trim()}`,
    ).join("\n\n");
    expect(answer.length).toBeGreaterThan(2 * DISCORD_MAX_MESSAGE_CHARS);
    anthropic.setReply(() => answer);

    await interact(
      askInteraction("tell me everything", {
        token: "tok-e2e-long",
        channelId: CHANNEL,
        userId: "1520000000000000003",
        applicationId: APP,
      }),
    );
    const { original, followUps } = await settledMessages("tok-e2e-long");
    expect(followUps.length).toBeGreaterThanOrEqual(2);
    const parts = [original ?? "", ...followUps];
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(DISCORD_MAX_MESSAGE_CHARS);
    expect(parts.join("\n\n")).toBe(answer);
  });

  it("answers later questions with the model set by /model, and /forget clears the history", async () => {
    const userId = "1520000000000000004";
    const context = { channelId: CHANNEL, userId, applicationId: APP };
    const set = await interact(commandInteraction("model", { name: "opus" }, context));
    expect(set.json).toMatchObject({ type: 4, data: { flags: 64 } });

    await interact(askInteraction("remember: my cat is Tom", { ...context, token: "tok-pref" }));
    const { original } = await settledMessages("tok-pref");
    expect(original).toBe(`fake-anthropic(${MODEL_ALIASES.opus}): remember: my cat is Tom`);
    expect(await conversation(userId)).toHaveLength(2);

    const forgot = await interact(commandInteraction("forget", {}, context));
    expect(forgot.json).toMatchObject({
      type: 4,
      data: { content: expect.stringContaining("2 messages"), flags: 64 },
    });
    expect(await conversation(userId)).toEqual([]);

    await interact(askInteraction("what is my cat called?", { ...context, token: "tok-after" }));
    await settledMessages("tok-after");
    const last = anthropic.requests.at(-1)?.body as { messages: unknown[] };
    expect(last.messages).toHaveLength(1);
    expect(JSON.stringify(last.messages)).not.toContain("Tom");
  });
});
