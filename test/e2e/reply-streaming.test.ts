import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CUT_OFF_NOTE } from "../../core/chat/reply-text";
import { DEFAULT_ANTHROPIC_MODEL, DEFAULT_OPENAI_COMPATIBLE_MODEL } from "../../core/llm/models";
import { DISCORD_MAX_MESSAGE_CHARS } from "../../core/platforms/discord/limits";
import { THINKING_PLACEHOLDER } from "../../core/platforms/slack/live-reply";
import { type LocalStack, startLocalStack } from "../../local/stack";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { type FakeDiscord, startFakeDiscord } from "../fakes/discord";
import { type FakeOpenAI, startFakeOpenAI } from "../fakes/openai";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import { testAws, testConfig } from "../support/aws";
import {
  askInteraction,
  type DiscordTestKeys,
  discordTestKeys,
  postInteraction,
} from "../support/discord";
import {
  answers,
  appMentionEnvelope,
  channelMessageEnvelope,
  signedHeaders,
  TEST_SIGNING_SECRET,
} from "../support/slack";
import { waitFor } from "../support/wait";

/**
 * Replies people watch arrive (docs/architecture.md, "Live replies"), end to end on the local
 * stack: signed Slack events and Discord interactions in, the streaming Anthropic and OpenAI
 * fakes answering, the Slack and Discord fakes showing what a person would see. The model
 * footer is on here (`REPLY_MODEL_FOOTER` defaults to true).
 */

const BOT = "UBOTSTREAM";
const APP = "1400000000000000014";
const DISCORD_CHANNEL = "1410000000000000014";
let anthropic: FakeAnthropic;
let openai: FakeOpenAI;
let slack: FakeSlack;
let discord: FakeDiscord;
let stack: LocalStack;
const keys: DiscordTestKeys = discordTestKeys();

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: "sk-ant-stream" });
  openai = await startFakeOpenAI({ models: [DEFAULT_OPENAI_COMPATIBLE_MODEL] });
  slack = await startFakeSlack({ token: "xoxb-stream", botUserId: BOT });
  discord = await startFakeDiscord({ applicationId: APP, channelId: DISCORD_CHANNEL });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-stream",
      ANTHROPIC_BASE_URL: anthropic.url,
      MODEL_MANAGER_BASE_URL: openai.url,
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_BOT_TOKEN: "xoxb-stream",
      SLACK_BOT_USER_ID: BOT,
      SLACK_API_URL: slack.url,
      DISCORD_PUBLIC_KEY: keys.publicKeyHex,
      DISCORD_APPLICATION_ID: APP,
      DISCORD_API_URL: discord.url,
      REPLY_MODEL_FOOTER: "true",
      PORT: "0",
    }),
    { queue: `e2e-stream-${Date.now()}` },
  );
  stack = await startLocalStack(setup.config);
});

afterAll(async () => {
  await stack?.stop();
  await Promise.all([anthropic?.close(), openai?.close(), slack?.close(), discord?.close()]);
});

beforeEach(() => {
  anthropic.reset();
  openai.reset();
  slack.reset();
  discord.reset();
});

let events = 0;
async function slackEvent(envelope: Record<string, unknown>): Promise<void> {
  const body = JSON.stringify(envelope);
  const res = await fetch(`${stack.url}/slack/events`, {
    method: "POST",
    body,
    headers: signedHeaders(body),
  });
  expect(res.status).toBe(200);
}

/** A mention in `channel`, answered in its own thread; resolves with the mention's `ts`. */
async function mention(text: string, channel = "C0STREAM", user = "U0ALICE"): Promise<string> {
  events++;
  const envelope = appMentionEnvelope({
    eventId: `Ev-stream-${events}`,
    text,
    botUserId: BOT,
    channel,
    user,
  });
  await slackEvent(envelope);
  return (envelope.event as { ts: string }).ts;
}

/**
 * The finished answer in `threadTs`, once it ends with its footer or cut-off note (both italic
 * lines): an edited reply shows the words before it is done.
 */
async function answerIn(threadTs: string, channel = "C0STREAM") {
  return waitFor(
    () =>
      answers(slack).find(
        (a) => a.channel === channel && a.thread_ts === threadTs && a.text.endsWith("_"),
      ),
    30_000,
  );
}

const words = (n: number, prefix = "w") => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe("streamed replies on the local stack", () => {
  it("streams a Slack answer as start → appends → stop, Markdown intact, with the model footer", async () => {
    const markdown = `# Plan\n\n**Bold** and \`code\`:\n\n- ${words(60).join(" ")}`;
    anthropic.setReply(async () => markdown);
    anthropic.setStream({ firstTokenMs: 100, tokensPerSecond: 40 });
    const ts = await mention("make a plan");
    const answer = await answerIn(ts);

    expect(answer.text).toBe(`${markdown}\n\n_${DEFAULT_ANTHROPIC_MODEL}_`);
    const [message, ...others] = slack.messages({ channel: "C0STREAM", threadTs: ts });
    expect(others).toEqual([]);
    expect(message?.markdown).toBe(true);
    const methods = message?.events.map((e) => e.method) ?? [];
    expect(methods[0]).toBe("chat.startStream");
    expect(methods.filter((m) => m === "chat.appendStream").length).toBeGreaterThanOrEqual(1);
    expect(methods.at(-1)).toBe("chat.stopStream");
    // The first words were visible long before the whole answer was.
    const first = message?.events[0]?.at ?? 0;
    const last = message?.events.at(-1)?.at ?? 0;
    expect(last - first).toBeGreaterThan(1000);
    expect(message?.events[0]?.text.length).toBeLessThan(markdown.length / 2);
  });

  it("where Slack refuses streaming, edits one placeholder with chat.update", async () => {
    slack.setStreaming("not_allowed");
    anthropic.setReply(async () => words(30).join(" "));
    anthropic.setStream({ firstTokenMs: 100, tokensPerSecond: 30 });
    const ts = await mention("no streaming here", "C0NOSTREAM");
    const answer = await answerIn(ts, "C0NOSTREAM");

    expect(answer.text).toBe(`${words(30).join(" ")}\n\n_${DEFAULT_ANTHROPIC_MODEL}_`);
    const messages = slack.messages({ channel: "C0NOSTREAM", threadTs: ts });
    expect(messages).toHaveLength(1);
    const events = messages[0]?.events ?? [];
    expect(events[0]).toMatchObject({ method: "chat.postMessage", text: THINKING_PLACEHOLDER });
    expect(events.slice(1).every((e) => e.method === "chat.update")).toBe(true);
    expect(events.length).toBeGreaterThanOrEqual(2);
  });

  it("ends a Slack answer whose stream fails mid-way with the note, in the one message", async () => {
    anthropic.setReply(async () => words(40).join(" "));
    anthropic.setStream({ firstTokenMs: 50, tokensPerSecond: 50, failAfterTokens: 10 });
    const ts = await mention("this will break", "C0CUT");
    const answer = await answerIn(ts, "C0CUT");

    expect(answer.text).toBe(`${words(10).join(" ")}\n\n${CUT_OFF_NOTE}`);
    expect(slack.messages({ channel: "C0CUT" })).toHaveLength(1);
    // No second provider was asked once words were shown.
    expect(openai.requests).toHaveLength(0);
  });

  it("answers a follow-up in the thread without a mention, and not a top-level message", async () => {
    const channel = "C0FOLLOW";
    const root = await mention("start a thread", channel, "U0FOLLOW");
    await answerIn(root, channel);

    events++;
    await slackEvent(
      channelMessageEnvelope({
        eventId: `Ev-stream-${events}`,
        text: "and one more thing",
        channel,
        threadTs: root,
        user: "U0FOLLOW",
      }),
    );
    events++;
    await slackEvent(
      channelMessageEnvelope({
        eventId: `Ev-stream-${events}`,
        text: "just chatting with the channel",
        channel,
        user: "U0FOLLOW",
      }),
    );
    await waitFor(
      () => (answers(slack).filter((a) => a.channel === channel).length >= 2 ? true : undefined),
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const inChannel = answers(slack).filter((a) => a.channel === channel);
    expect(inChannel).toHaveLength(2);
    expect(inChannel.every((a) => a.thread_ts === root)).toBe(true);
    expect(inChannel[1]?.text).toContain("and one more thing");
    const asked = anthropic.requests.map((r) => JSON.stringify(r.body));
    expect(asked.some((b) => b.includes("just chatting with the channel"))).toBe(false);
  });

  it("shows a Discord /ask as progressive edits of @original, then follow-ups past 2000 characters", async () => {
    const paragraphs = Array.from({ length: 5 }, (_, p) => words(250, `p${p}w`).join(" "));
    const long = paragraphs.join("\n\n");
    anthropic.setReply(async () => long);
    anthropic.setStream({ firstTokenMs: 100, tokensPerSecond: 300 });
    const payload = askInteraction("write a lot", {
      applicationId: APP,
      channelId: DISCORD_CHANNEL,
    });
    expect((await postInteraction(stack.url, keys, payload)).status).toBe(200);
    const token = String(payload.token);
    const footer = `_${DEFAULT_ANTHROPIC_MODEL}_`;
    const messages = await waitFor(() => {
      const all = discord.messages(token);
      return all.at(-1)?.content.endsWith(footer) ? all : undefined;
    }, 30_000);

    expect(long.length).toBeGreaterThan(2 * DISCORD_MAX_MESSAGE_CHARS);
    expect(messages.length).toBeGreaterThanOrEqual(3);
    expect(messages[0]?.kind).toBe("original");
    expect(messages.slice(1).every((m) => m.kind === "followUp")).toBe(true);
    expect(messages.every((m) => m.content.length <= DISCORD_MAX_MESSAGE_CHARS)).toBe(true);
    expect(messages.map((m) => m.content).join("\n\n")).toBe(`${long}\n\n${footer}`);
    // @original grew in several edits while the answer streamed.
    const revisions = messages[0]?.revisions ?? [];
    expect(revisions.length).toBeGreaterThanOrEqual(2);
    expect(revisions[0]?.content.length).toBeLessThan(DISCORD_MAX_MESSAGE_CHARS);
    expect(discord.requests.filter((r) => r.status === 429)).toEqual([]);
  });
  // Last: it opens Anthropic's circuit breaker for the rest of the file.
  it("falls back to the other provider before the first word, and says so in the footer", async () => {
    anthropic.failNext(500, { times: 10 });
    openai.setStream({ firstTokenMs: 50, tokensPerSecond: 100 });
    const ts = await mention("who answers?", "C0FALLBACK", "U0FALLBACK");
    const answer = await answerIn(ts, "C0FALLBACK");

    expect(answer.text).toBe(
      `fake-openai(${DEFAULT_OPENAI_COMPATIBLE_MODEL}): who answers?\n\n` +
        `_${DEFAULT_OPENAI_COMPATIBLE_MODEL} · fell back from ${DEFAULT_ANTHROPIC_MODEL}_`,
    );
    expect(slack.messages({ channel: "C0FALLBACK" })).toHaveLength(1);
  });
});
