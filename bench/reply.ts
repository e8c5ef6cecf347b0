/**
 * Reply benchmark (`npm run bench:reply`): how soon a person sees the answer, on the real local
 * stack (ingress, queue, worker, DynamoDB Local, fauxqs) with the test suite's wire-level Slack,
 * Discord and Anthropic fakes. The fake model streams 400 tokens at 50 tokens/s after a 300 ms
 * time to first token (8.3 s in all), as the issue that introduced streaming measured.
 *
 * For a Slack mention (answered in its thread: native streaming) and a Discord `/ask` (edits of
 * the deferred response), it prints the time from the POST to the first visible text and to the
 * finished message, and the platform API calls the answer cost. Side by side, in the same run,
 * "whole answer" is when a blocking reply could have shown anything at all: the model's end.
 * Goals: first visible text ≤ time to first token + 300 ms; ≤ 12 Slack calls per answer.
 * A benchmark, not a test: it exits 1 only when something is broken (no answer).
 *
 *   npm run bench:reply                 # 3 rounds per platform, ~1 min
 *   npm run bench:reply -- --rounds 5
 */
import { randomUUID } from "node:crypto";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { startFakeAnthropic } from "../test/fakes/anthropic";
import { type FakeDiscord, startFakeDiscord } from "../test/fakes/discord";
import { type FakeSlack, startFakeSlack } from "../test/fakes/slack";
import { askInteraction, discordTestKeys, postInteraction } from "../test/support/discord";
import { appMentionEnvelope, postSlackEvent, TEST_SIGNING_SECRET } from "../test/support/slack";
import { median, startBenchStack, until } from "./support";

const BOT = "UBENCHREPLY";
const APP = "1300000000000000013";
const CHANNEL = "1310000000000000013";
const TOKENS = 400;
const TOKENS_PER_SECOND = 50;
const FIRST_TOKEN_MS = 300;
const MODEL_MS = FIRST_TOKEN_MS + (TOKENS * 1000) / TOKENS_PER_SECOND;
const SLACK_WRITES = ["chat.startStream", "chat.appendStream", "chat.stopStream", "chat.update"];

const { values } = parseArgs({ options: { rounds: { type: "string", default: "3" } } });
const rounds = Number(values.rounds);

/** One answer, ms from the POST. */
interface Sample {
  firstTextMs: number;
  finishedMs: number;
  calls: number;
}

async function slackRound(url: string, slack: FakeSlack, round: number): Promise<Sample> {
  const ts = `${Math.floor(Date.now() / 1000)}.${String(round).padStart(6, "0")}`;
  const envelope = appMentionEnvelope({
    eventId: `Ev-bench-reply-${randomUUID()}`,
    text: `tell me a long story, round ${round}`,
    botUserId: BOT,
    channel: "C0BENCHREPLY",
    ts,
  });
  const posted = Date.now();
  const status = await postSlackEvent(url, envelope);
  if (status !== 200) throw new Error(`mention not acked: ${status}`);
  const filter = { channel: "C0BENCHREPLY", threadTs: ts };
  const finished = await until(() => slack.finishedAt(filter), 60_000, "the Slack answer");
  const firstText = slack.firstTextAt(filter) ?? Number.NaN;
  const calls = slack
    .callsTo(SLACK_WRITES.concat("chat.postMessage"))
    .filter(
      (c) =>
        c.args.channel === "C0BENCHREPLY" &&
        (c.args.thread_ts === ts || isIn(slack, c.args.ts, ts)),
    );
  return { firstTextMs: firstText - posted, finishedMs: finished - posted, calls: calls.length };
}

/** Whether message `messageTs` is a reply in thread `threadTs`. */
function isIn(slack: FakeSlack, messageTs: unknown, threadTs: string): boolean {
  return (
    typeof messageTs === "string" && slack.message("C0BENCHREPLY", messageTs)?.threadTs === threadTs
  );
}

async function discordRound(
  url: string,
  discord: FakeDiscord,
  keys: ReturnType<typeof discordTestKeys>,
  round: number,
): Promise<Sample> {
  const token = `bench-reply-${round}-${randomUUID()}`;
  const payload = askInteraction(`tell me a long story, round ${round}`, {
    applicationId: APP,
    channelId: CHANNEL,
    token,
  });
  const posted = Date.now();
  const res = await postInteraction(url, keys, payload);
  if (res.status !== 200) throw new Error(`interaction not answered: ${res.status}`);
  // Done when the last message ends with the footer (an italic line) after the last word.
  const done = await until(
    () => {
      const messages = discord.messages(token);
      const text = messages.map((m) => m.content).join("\n\n");
      if (!text.includes(`word${TOKENS}`) || !text.endsWith("_")) return undefined;
      return Math.max(...messages.flatMap((m) => m.revisions.map((r) => r.at)));
    },
    60_000,
    "the Discord answer",
  );
  const revisions = discord.messages(token).flatMap((m) => m.revisions);
  const firstText = Math.min(...revisions.filter((r) => r.content.trim()).map((r) => r.at));
  return { firstTextMs: firstText - posted, finishedMs: done - posted, calls: revisions.length };
}

function summary(name: string, samples: Sample[]): void {
  const first = median(samples.map((s) => s.firstTextMs));
  const finished = median(samples.map((s) => s.finishedMs));
  const calls = median(samples.map((s) => s.calls));
  console.log(
    `${name.padEnd(8)} first text ${first.toFixed(0).padStart(5)} ms ` +
      `(TTFT + ${(first - FIRST_TOKEN_MS).toFixed(0)} ms; ${(first / MODEL_MS).toFixed(3)}× of the ` +
      `whole answer's ${MODEL_MS} ms) · finished ${finished.toFixed(0)} ms ` +
      `(${(finished / MODEL_MS).toFixed(3)}×) · ${calls} API calls per answer`,
  );
}

async function main(): Promise<void> {
  console.log(
    `reply latency: fake model streams ${TOKENS} tokens at ${TOKENS_PER_SECOND}/s after ` +
      `${FIRST_TOKEN_MS} ms (whole answer ${MODEL_MS} ms); ${rounds} rounds per platform ` +
      `(${cpus().length} CPUs, Node ${process.version})`,
  );
  const story = Array.from({ length: TOKENS }, (_, i) => `word${i + 1}`).join(" ");
  const anthropic = await startFakeAnthropic({
    apiKey: "sk-ant-bench",
    reply: async () => story,
    stream: { firstTokenMs: FIRST_TOKEN_MS, tokensPerSecond: TOKENS_PER_SECOND },
  });
  const slack = await startFakeSlack({ token: "xoxb-bench", botUserId: BOT });
  const discord = await startFakeDiscord({ applicationId: APP, channelId: CHANNEL });
  const keys = discordTestKeys();
  const { stack, stop } = await startBenchStack("bench-reply", {
    ANTHROPIC_API_KEY: "sk-ant-bench",
    ANTHROPIC_BASE_URL: anthropic.url,
    SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
    SLACK_BOT_TOKEN: "xoxb-bench",
    SLACK_BOT_USER_ID: BOT,
    SLACK_API_URL: slack.url,
    DISCORD_PUBLIC_KEY: keys.publicKeyHex,
    DISCORD_APPLICATION_ID: APP,
    DISCORD_API_URL: discord.url,
  });
  try {
    const slackSamples: Sample[] = [];
    const discordSamples: Sample[] = [];
    for (let round = 1; round <= rounds; round++) {
      slackSamples.push(await slackRound(stack.url, slack, round));
      discordSamples.push(await discordRound(stack.url, discord, keys, round));
    }
    summary("Slack", slackSamples);
    summary("Discord", discordSamples);
    const slackCalls = Math.max(...slackSamples.map((s) => s.calls));
    const slackFirst = Math.max(...slackSamples.map((s) => s.firstTextMs));
    console.log(
      `goals: first text ≤ TTFT + 300 ms: ${slackFirst <= FIRST_TOKEN_MS + 300 ? "met" : "missed"} ` +
        `(worst Slack ${slackFirst.toFixed(0)} ms); ≤ 12 Slack calls: ` +
        `${slackCalls <= 12 ? "met" : "missed"} (worst ${slackCalls})`,
    );
  } finally {
    await stop();
    await Promise.all([anthropic.close(), slack.close(), discord.close()]);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
