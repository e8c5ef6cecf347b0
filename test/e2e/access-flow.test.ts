import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAwsClients } from "../../core/compose/aws";
import { ConversationStore } from "../../core/memory/conversations";
import { PreferenceStore } from "../../core/memory/preferences";
import type { ConversationRef } from "../../core/memory/table/keys";
import { LOCAL_CREDENTIALS } from "../../local/services";
import { type LocalStack, startLocalStack } from "../../local/stack";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { type FakeDiscord, startFakeDiscord } from "../fakes/discord";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import { testAws, testConfig } from "../support/aws";
import {
  askInteraction,
  commandInteraction,
  type DiscordTestKeys,
  discordTestKeys,
  postInteraction,
} from "../support/discord";
import { answers, appMentionEnvelope, postSlackEvent, TEST_SIGNING_SECRET } from "../support/slack";
import { waitFor } from "../support/wait";

/**
 * The allowlists on the local stack: one stack with all three lists set; for each list, a
 * message it leaves out is refused politely (Slack: once per user and channel per hour,
 * Discord: at once, only the user sees it), with no model call and nothing stored.
 */

const BOT = "UBOTACCESS";
const TEAM = "T0TEST";
const OPEN_CHANNEL = "C0OPEN";
const ALICE = "U0ALICE";
const APP = "1500000000000000077";
const DISCORD_CHANNEL = "1510000000000000077";
const DISCORD_ALICE = "1520000000000000077";
let anthropic: FakeAnthropic;
let slack: FakeSlack;
let discord: FakeDiscord;
let stack: LocalStack;
const keys: DiscordTestKeys = discordTestKeys();

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: "sk-ant-access" });
  slack = await startFakeSlack({ token: "xoxb-access", botUserId: BOT });
  discord = await startFakeDiscord({ applicationId: APP, channelId: DISCORD_CHANNEL });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-access",
      ANTHROPIC_BASE_URL: anthropic.url,
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_BOT_TOKEN: "xoxb-access",
      SLACK_BOT_USER_ID: BOT,
      SLACK_API_URL: slack.url,
      DISCORD_PUBLIC_KEY: keys.publicKeyHex,
      DISCORD_APPLICATION_ID: APP,
      DISCORD_API_URL: discord.url,
      ALLOWED_SLACK_TEAMS: TEAM,
      ALLOWED_CHANNELS: `${OPEN_CHANNEL}, ${DISCORD_CHANNEL}`,
      ALLOWED_USERS: `${ALICE},${DISCORD_ALICE}`,
      PORT: "0",
    }),
    { queue: `e2e-access-${Date.now()}` },
  );
  stack = await startLocalStack(setup.config);
});

afterAll(async () => {
  await stack?.stop();
  await Promise.all([anthropic?.close(), slack?.close(), discord?.close()]);
});

beforeEach(() => {
  anthropic.reset();
  slack.reset();
  discord.reset();
});

let events = 0;

/** A signed `app_mention` from `user` in `channel` of workspace `team`; resolves with the ack. */
function mention(text: string, where: { team?: string; channel?: string; user?: string } = {}) {
  const envelope = appMentionEnvelope({
    eventId: `Ev-access-${Date.now()}-${events++}`,
    text,
    botUserId: BOT,
    user: where.user ?? ALICE,
    channel: where.channel ?? OPEN_CHANNEL,
  });
  envelope.team_id = where.team ?? TEAM;
  return postSlackEvent(stack.url, envelope);
}

/** Waits for `count` Slack posts, then long enough for the worker to post anything more. */
async function slackPostsAfterSettling(count: number) {
  await waitFor(() => (answers(slack).length >= count ? true : undefined));
  await new Promise((r) => setTimeout(r, 2_000));
  return answers(slack);
}

function stored(ref: ConversationRef) {
  const aws = createAwsClients(stack.config, LOCAL_CREDENTIALS);
  return new ConversationStore({
    client: aws.documents,
    tableName: stack.config.memoryTableName,
  }).recent(ref);
}

/** Posts a signed interaction to the running stack, as Discord would. */
function interact(payload: Record<string, unknown>) {
  return postInteraction(stack.url, keys, payload);
}

describe("Slack: ALLOWED_SLACK_TEAMS, ALLOWED_CHANNELS, ALLOWED_USERS (local stack)", () => {
  it("answers someone every list names", async () => {
    expect(await mention("hello")).toBe(200);
    const posts = await slackPostsAfterSettling(1);
    expect(posts).toHaveLength(1);
    expect(posts[0]?.text).toContain("fake-anthropic");
    expect(anthropic.requests).toHaveLength(1);
  });

  it.each([
    {
      list: "ALLOWED_SLACK_TEAMS",
      where: { team: "T0OTHER", channel: "C0TEAMTEST" },
      text: "Sorry, I'm not enabled in this workspace. Ask the person who runs me to add it (T0OTHER) to ALLOWED_SLACK_TEAMS.",
    },
    {
      list: "ALLOWED_CHANNELS",
      where: { channel: "C0CLOSED" },
      text: "Sorry, I'm not enabled in this channel. Ask the person who runs me to add it (C0CLOSED) to ALLOWED_CHANNELS.",
    },
    {
      list: "ALLOWED_USERS",
      where: { user: "U0MALLORY" },
      text: "Sorry, I'm not enabled for you. Ask the person who runs me to add you (U0MALLORY) to ALLOWED_USERS.",
    },
  ])(
    "someone $list leaves out gets one polite refusal, no model call, nothing stored",
    async ({ where, text }) => {
      expect(await mention("what did we decide?", where)).toBe(200);
      const posts = await slackPostsAfterSettling(1);
      expect(posts).toHaveLength(1);
      expect(posts[0]).toMatchObject({ channel: where.channel ?? OPEN_CHANNEL, text });
      expect(anthropic.requests).toHaveLength(0);
      expect(
        await stored({
          platform: "slack",
          channelId: where.channel ?? OPEN_CHANNEL,
          userId: where.user ?? ALICE,
        }),
      ).toEqual([]);
    },
  );

  it("refuses once per hour per user and channel, not once per message", async () => {
    const where = { user: "U0EVE", channel: "C0HOURLY" };
    expect(await mention("one", where)).toBe(200);
    await slackPostsAfterSettling(1);
    expect(await mention("two", where)).toBe(200);
    expect(await mention("three", where)).toBe(200);
    // Another channel is another conversation: told there too.
    expect(await mention("four", { ...where, channel: "C0HOURLY2" })).toBe(200);
    const posts = await slackPostsAfterSettling(2);
    expect(posts.map((p) => p.channel)).toEqual(["C0HOURLY", "C0HOURLY2"]);
    expect(anthropic.requests).toHaveLength(0);
  });
});

describe("Discord: /ask and /model refused at ingress (local stack)", () => {
  const context = { channelId: DISCORD_CHANNEL, userId: DISCORD_ALICE };

  it("answers /ask from someone the lists name", async () => {
    const ask = await interact(askInteraction("hello", { ...context, applicationId: APP }));
    expect(ask).toMatchObject({ status: 200, json: { type: 5 } });
    // Until the whole answer shows: it arrives in several edits, and a late one would land in
    // the next test.
    await waitFor(() =>
      discord.edits().some((e) => e.content.endsWith(": hello")) ? true : undefined,
    );
    expect(anthropic.requests).toHaveLength(1);
  });

  it.each([
    {
      list: "ALLOWED_USERS",
      who: { ...context, userId: "1520000000000000099" },
      text: "Sorry, I'm not enabled for you. Ask the person who runs me to add you (1520000000000000099) to ALLOWED_USERS.",
    },
    {
      list: "ALLOWED_CHANNELS",
      who: { ...context, channelId: "1510000000000000099" },
      text: "Sorry, I'm not enabled in this channel. Ask the person who runs me to add it (1510000000000000099) to ALLOWED_CHANNELS.",
    },
  ])(
    "/ask from someone $list leaves out: an ephemeral refusal at once, nothing queued",
    async ({ who, text }) => {
      for (let i = 0; i < 2; i++) {
        // Every time: Discord needs an answer, and only the user sees it.
        const ask = await interact(askInteraction("hello", { ...who, applicationId: APP }));
        expect(ask).toEqual({
          status: 200,
          json: { type: 4, data: { content: text, flags: 64, allowed_mentions: { parse: [] } } },
        });
      }
      await new Promise((r) => setTimeout(r, 2_000));
      expect(discord.edits()).toEqual([]);
      expect(anthropic.requests).toHaveLength(0);
      expect(
        await stored({ platform: "discord", channelId: who.channelId, userId: who.userId }),
      ).toEqual([]);
    },
  );

  it("/model from someone left out stores no preference", async () => {
    const userId = "1520000000000000098";
    const res = await interact(
      commandInteraction("model", { name: "haiku" }, { ...context, userId, applicationId: APP }),
    );
    expect(res).toMatchObject({ status: 200, json: { type: 4, data: { flags: 64 } } });
    expect(JSON.stringify(res.json)).toContain("ALLOWED_USERS");
    const aws = createAwsClients(stack.config, LOCAL_CREDENTIALS);
    const preferences = new PreferenceStore({
      client: aws.documents,
      tableName: stack.config.memoryTableName,
    });
    expect(await preferences.getAll("discord", userId)).toEqual({});
  });
});
