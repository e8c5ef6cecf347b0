import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ReplyTarget } from "../../core/chat/job";
import { memoryTable } from "../../core/compose/aws";
import { STREAMING } from "../../core/constants/timings";
import { ReplyLedgerStore } from "../../core/memory/reply-ledger";
import { DISCORD_MAX_MESSAGE_CHARS } from "../../core/platforms/discord/limits";
import { DiscordInteractionReplier, TOO_LATE_NOTE } from "../../core/platforms/discord/replier";
import { type FakeDiscord, startFakeDiscord } from "../fakes/discord";
import { testAws, testConfig } from "../support/aws";

/**
 * Discord's live reply against the wire-level Discord fake (which enforces 5 edits per 5 s per
 * message and the 15-minute token), with the reply ledger on DynamoDB Local.
 */

const APP = "1100000000000000001";
const BOT_TOKEN = "bot-token-live";
let fake: FakeDiscord;
let ledger: ReplyLedgerStore;
const warnings: string[] = [];

beforeAll(async () => {
  fake = await startFakeDiscord({ applicationId: APP, botToken: BOT_TOKEN });
  const { aws, config } = await testAws(testConfig());
  ledger = new ReplyLedgerStore(memoryTable(config, aws));
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  warnings.length = 0;
});

function replier(withBot = false): DiscordInteractionReplier {
  return new DiscordInteractionReplier(
    { apiUrl: fake.url },
    {
      ledger,
      warn: (message) => warnings.push(message),
      ...(withBot ? { bot: { apiUrl: fake.url, authorization: `Bot ${BOT_TOKEN}` } } : {}),
    },
  );
}

let count = 0;
function interaction(sentAt = Date.now()) {
  count++;
  const token = `tok-live-${Date.now()}-${count}`;
  const target: ReplyTarget = {
    platform: "discord",
    via: "direct",
    address: { applicationId: APP, interactionToken: token, channelId: "1200000000000000001" },
  };
  return { token, target, job: { jobId: `discord-interaction:${token}`, sentAt } };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("DiscordInteractionReplier live replies", () => {
  it("edits @original progressively, at most once a second, ending on the whole answer", async () => {
    const { token, target, job } = interaction();
    const reply = await replier().open(target, job);
    for (let i = 0; i < 60; i++) {
      reply.append(`word${i} `);
      await sleep(50);
    }
    const final = Array.from({ length: 60 }, (_, i) => `word${i}`).join(" ");
    await reply.finish(final);

    const [original, ...others] = fake.messages(token);
    expect(others).toEqual([]);
    expect(original?.content).toBe(final);
    const revisions = original?.revisions ?? [];
    expect(revisions.length).toBeGreaterThanOrEqual(3);
    // Each revision shows more of the answer than the one before.
    for (let i = 1; i < revisions.length; i++) {
      expect(revisions[i]?.content.length).toBeGreaterThan(revisions[i - 1]?.content.length ?? 0);
    }
    for (let i = 1; i < revisions.length - 1; i++) {
      expect((revisions[i]?.at ?? 0) - (revisions[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(
        // Calls start an interval apart; a request's travel time (the first one opens a
        // connection) may shorten the gap between arrivals.
        STREAMING.editIntervalMs - 150,
      );
    }
    expect(fake.requests.filter((r) => r.status === 429)).toEqual([]);
  });

  it("continues past 2000 characters in follow-ups, recorded in the ledger", async () => {
    const { token, target, job } = interaction();
    const reply = await replier().open(target, job);
    const paragraph = `${"x".repeat(900)}\n\n`;
    for (let i = 0; i < 5; i++) {
      reply.append(paragraph);
      await sleep(300);
    }
    const final = paragraph.repeat(5).trim();
    await reply.finish(final);

    const messages = fake.messages(token);
    expect(messages.length).toBeGreaterThanOrEqual(3);
    expect(messages.every((m) => m.content.length <= DISCORD_MAX_MESSAGE_CHARS)).toBe(true);
    expect(messages.map((m) => m.content).join("\n\n")).toBe(final);
    expect(messages[0]?.kind).toBe("original");
    expect(messages.slice(1).every((m) => m.kind === "followUp")).toBe(true);
    const recorded = await ledger.read(job.jobId);
    expect(recorded[0]).toBe("@original");
    expect(recorded.slice(1)).toEqual(messages.slice(1).map((m) => m.id));
  });

  it("a redelivered job edits its follow-ups instead of posting them again", async () => {
    const { token, target, job } = interaction();
    const long = `${"a".repeat(1500)}\n\n${"b".repeat(1500)}`;
    await (await replier().open(target, job)).finish(long);
    const firstRun = fake.messages(token).map((m) => m.id);
    expect(firstRun).toHaveLength(2);

    await (await replier().open(target, job)).finish(`${"c".repeat(1500)}\n\n${"d".repeat(1500)}`);
    const messages = fake.messages(token);
    expect(messages.map((m) => m.id)).toEqual(firstRun);
    expect(messages[1]?.content).toBe("d".repeat(1500));
    expect(fake.followUps(token)).toHaveLength(1);
  });

  it("a job that starts after the token's window says so in the channel with a bot token", async () => {
    const { token, target, job } = interaction(Date.now() - STREAMING.discordTokenMs + 30_000);
    const reply = await replier(true).open(target, job);
    expect(reply.state).toBe("expired");
    expect(fake.channelMessages("1200000000000000001").map((m) => m.content)).toEqual([
      TOO_LATE_NOTE,
    ]);
    expect(fake.messages(token)).toEqual([]);
  });

  it("without a bot token a late job is only logged", async () => {
    const { target, job } = interaction(Date.now() - STREAMING.discordTokenMs - 1000);
    const reply = await replier(false).open(target, job);
    expect(reply.state).toBe("expired");
    expect(fake.channelMessages()).toEqual([]);
    expect(warnings.some((w) => w.includes("expired"))).toBe(true);
  });
});
