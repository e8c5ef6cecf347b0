import { PurgeQueueCommand } from "@aws-sdk/client-sqs";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ChatJob, chatJobSchema } from "../../core/chat/job";
import type { AwsClients } from "../../core/compose/aws";
import { buildIngressDeps, type IngressDeps } from "../../core/compose/ingress";
import type { Config } from "../../core/config";
import { MODEL_ALIASES } from "../../core/llm/models";
import { ConversationStore } from "../../core/memory/conversations";
import { DedupeStore } from "../../core/memory/dedupe";
import { SummaryStore, summaryId } from "../../core/memory/long-term";
import { PreferenceStore } from "../../core/memory/preferences";
import {
  DISCORD_INTERACTION_SCOPE,
  DUPLICATE_MESSAGE,
  UNAVAILABLE_MESSAGE,
} from "../../core/platforms/discord/webhook";
import { createApp } from "../../functions/http";
import { queueDepth, receiveJson, receiveOneJob, testAws, testConfig } from "../support/aws";
import {
  askInteraction,
  commandInteraction,
  type DiscordTestKeys,
  discordTestKeys,
  pingInteraction,
  signInteraction,
  snowflakeAt,
  TEST_APPLICATION_ID,
} from "../support/discord";
import { flakyQueue } from "../support/flaky-queue";

let aws: AwsClients;
let config: Config;
let deps: IngressDeps;
let app: ReturnType<typeof createApp>;
const keys: DiscordTestKeys = discordTestKeys();

beforeAll(async () => {
  const setup = await testAws(
    testConfig({
      DISCORD_PUBLIC_KEY: keys.publicKeyHex,
      DISCORD_APPLICATION_ID: TEST_APPLICATION_ID,
    }),
    { queue: `discord-ingress-${Date.now()}` },
  );
  aws = setup.aws;
  config = setup.config;
  deps = buildIngressDeps(config, aws);
  app = createApp(deps);
});

beforeEach(async () => {
  await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: config.chatQueueUrl }));
});

function queued(): Promise<unknown[]> {
  return receiveJson(aws.sqs, config.chatQueueUrl as string);
}

function queuedJob(): Promise<ChatJob> {
  return receiveOneJob(aws.sqs, config.chatQueueUrl as string);
}

function chatQueueDepth(): Promise<number> {
  return queueDepth(aws.sqs, config.chatQueueUrl as string, { inFlight: true });
}

function post(body: string, headers: Record<string, string>, target = app) {
  return target.request("/discord/interactions", { method: "POST", body, headers });
}

/** Signs and posts `payload` as Discord would. */
async function send(payload: Record<string, unknown>, target = app) {
  const body = JSON.stringify(payload);
  const res = await post(body, signInteraction(keys, body), target);
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Whether a dedupe mark exists for `id` (claims and releases it when it did not). */
async function isMarked(id: string): Promise<boolean> {
  const dedupe = new DedupeStore({ client: aws.documents, tableName: config.memoryTableName });
  const claimed = await dedupe.claim(DISCORD_INTERACTION_SCOPE, id);
  if (claimed) await dedupe.release(DISCORD_INTERACTION_SCOPE, id);
  return !claimed;
}

const ephemeral = (content: unknown) => ({
  type: 4,
  data: { content, flags: 64, allowed_mentions: { parse: [] } },
});

describe("POST /discord/interactions: signatures", () => {
  it("answers a signed PING with PONG", async () => {
    expect(await send(pingInteraction())).toEqual({ status: 200, json: { type: 1 } });
  });

  it.each([
    ["signed by another key", (body: string) => signInteraction(discordTestKeys(), body)],
    [
      "with a body changed after signing",
      (body: string) => signInteraction(keys, body.replace("hello", "hellp")),
    ],
    [
      "with a timestamp over five minutes old",
      (body: string) =>
        signInteraction(keys, body, { timestamp: Math.floor(Date.now() / 1000) - 301 }),
    ],
    ["with no signature headers", () => ({ "content-type": "application/json" })],
  ])("answers 401 to an /ask %s, and neither enqueues nor dedupes it", async (_name, sign) => {
    const id = snowflakeAt();
    const body = JSON.stringify(askInteraction("hello", { id }));
    const res = await post(body, sign(body));
    expect(res.status).toBe(401);
    expect(await res.json()).toHaveProperty("error");
    expect(await chatQueueDepth()).toBe(0);
    expect(await isMarked(id)).toBe(false);
  });

  it("answers 401 to an unsigned PING (Discord's own probe)", async () => {
    const body = JSON.stringify(pingInteraction());
    const res = await post(body, {
      "content-type": "application/json",
      "x-signature-ed25519": "0".repeat(128),
      "x-signature-timestamp": String(Math.floor(Date.now() / 1000)),
    });
    expect(res.status).toBe(401);
  });

  it("answers 503 when DISCORD_PUBLIC_KEY is not set", async () => {
    const bare = createApp(
      buildIngressDeps({ ...config, discord: { ...config.discord, publicKey: undefined } }, aws),
    );
    const res = await send(pingInteraction(), bare);
    expect(res).toEqual({ status: 503, json: { error: "discord_not_configured" } });
  });

  it("answers 400 with a reason for malformed JSON and a malformed interaction", async () => {
    const malformed = "{not json";
    const res = await post(malformed, signInteraction(keys, malformed));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "malformed_json" });

    const noToken = await send({ ...askInteraction("x"), token: undefined });
    expect(noToken.status).toBe(400);
    expect(noToken.json.error).toMatch(/^invalid_interaction: token/);

    const unknownType = await send({ ...askInteraction("x"), type: 99 });
    expect(unknownType).toEqual({
      status: 400,
      json: { error: "unsupported_interaction_type: 99" },
    });
    expect(await chatQueueDepth()).toBe(0);
  });

  it("answers 413 for a body over 1 MiB", async () => {
    const body = JSON.stringify({ ...pingInteraction(), padding: "x".repeat(1024 * 1024) });
    const res = await post(body, signInteraction(keys, body));
    expect(res.status).toBe(413);
  });
});

describe("POST /discord/interactions: interaction types it does not handle", () => {
  /** The common fields of an interaction, as in a DM: `guild_id` and `member` null. */
  function dmInteraction(type: number, data: Record<string, unknown>) {
    const { member: _m, guild: _g, guild_id: _gi, ...rest } = askInteraction("x");
    return { ...rest, type, data, guild_id: null, member: null, locale: null };
  }

  it.each([
    [
      "a button press (MESSAGE_COMPONENT)",
      { ...askInteraction("x"), type: 3, data: { custom_id: "retry", component_type: 2 } },
    ],
    [
      "a modal submission (MODAL_SUBMIT) in a DM",
      dmInteraction(5, {
        custom_id: "feedback",
        components: [{ type: 1, components: [{ type: 4, custom_id: "text", value: "great bot" }] }],
      }),
    ],
  ])("answers %s with an ephemeral 'not supported' message", async (_name, payload) => {
    const res = await send(payload);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      type: 4,
      data: { flags: 64, content: expect.stringMatching(/not supported/i) },
    });
    expect(await chatQueueDepth()).toBe(0);
  });

  it("answers autocomplete (APPLICATION_COMMAND_AUTOCOMPLETE) with no choices", async () => {
    const payload = dmInteraction(4, {
      id: "600000000000000006",
      name: "ask",
      type: 1,
      options: [
        { name: "prompt", type: 3, value: "hi" },
        { name: "model", type: 3, value: "ha", focused: true },
      ],
    });
    const res = await send(payload);
    expect(res).toEqual({ status: 200, json: { type: 8, data: { choices: [] } } });
    expect(await chatQueueDepth()).toBe(0);
  });

  it("queues /ask from a DM whose optional fields are null", async () => {
    const { member: _m, guild: _g, ...dm } = askInteraction("from a DM", { guildId: null });
    const payload = {
      ...dm,
      guild_id: null,
      member: null,
      guild_locale: null,
      app_permissions: null,
    };
    const res = await send(payload);
    expect(res).toEqual({ status: 200, json: { type: 5 } });
    expect(await queuedJob()).toMatchObject({ text: "from a DM" });
  });
});

describe("POST /discord/interactions: /ask", () => {
  it("answers type 5 and enqueues one valid ChatJob carrying the interaction token", async () => {
    const id = snowflakeAt();
    const res = await send(
      askInteraction("what is 2+2?", { id, token: "tok-ask-1", model: "haiku" }),
    );
    expect(res).toEqual({ status: 200, json: { type: 5 } });

    const jobs = await queued();
    expect(jobs).toHaveLength(1);
    const job = chatJobSchema.parse(jobs[0]);
    expect(job).toMatchObject({
      jobId: `discord-interaction:${id}`,
      source: { kind: "discord-interaction", interactionId: id },
      conversation: { platform: "discord" },
      text: `[${MODEL_ALIASES.haiku}] what is 2+2?`,
      reply: {
        platform: "discord",
        via: "direct",
        address: { applicationId: TEST_APPLICATION_ID, interactionToken: "tok-ask-1" },
      },
    });
    expect(await isMarked(id)).toBe(true);
  });

  it("enqueues a duplicated interaction id once, answering type 5 both times", async () => {
    const payload = askInteraction("only once please");
    const first = await send(payload);
    const second = await send(payload);
    expect([first, second]).toEqual([
      { status: 200, json: { type: 5 } },
      { status: 200, json: { type: 5 } },
    ]);
    expect(await chatQueueDepth()).toBe(1);
  });

  it("answers an unknown model option ephemerally and enqueues nothing", async () => {
    const res = await send(askInteraction("hi", { model: "llama3" }));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(await chatQueueDepth()).toBe(0);
  });

  it("releases the dedupe mark and apologises when enqueueing fails", async () => {
    const flaky = flakyQueue(1);
    const flakyApp = createApp(buildIngressDeps(config, aws, { queue: flaky }));
    const id = snowflakeAt();
    const payload = askInteraction("try again", { id });

    expect(await send(payload, flakyApp)).toEqual({
      status: 200,
      json: ephemeral(UNAVAILABLE_MESSAGE),
    });
    expect(await isMarked(id)).toBe(false);
    expect(await send(payload, flakyApp)).toEqual({ status: 200, json: { type: 5 } });
    expect(flaky.accepted).toHaveLength(1);
  });
});

describe("POST /discord/interactions: /model and /forget", () => {
  it("stores the caller's preferred model and confirms ephemerally", async () => {
    const userId = "860000000000000006";
    const res = await send(commandInteraction("model", { name: "Haiku" }, { userId }));
    expect(res).toEqual({
      status: 200,
      json: ephemeral(expect.stringContaining(`\`haiku\` (${MODEL_ALIASES.haiku})`)),
    });
    const prefs = new PreferenceStore({ client: aws.documents, tableName: config.memoryTableName });
    expect(await prefs.getAll("discord", userId)).toEqual({ model: "haiku" });
  });

  it("stores nothing for an unknown model and lists the aliases", async () => {
    const userId = "870000000000000007";
    const res = await send(commandInteraction("model", { name: "llama3" }, { userId }));
    expect(JSON.stringify(res.json)).toContain("`sonnet`");
    const prefs = new PreferenceStore({ client: aws.documents, tableName: config.memoryTableName });
    expect(await prefs.getAll("discord", userId)).toEqual({});
  });

  it("forgets the caller's messages and summaries in that channel only, and says so", async () => {
    const userId = "880000000000000008";
    const here = { platform: "discord" as const, channelId: "980000000000000008", userId };
    const elsewhere = { ...here, channelId: "990000000000000009" };
    const conversations = new ConversationStore({
      client: aws.documents,
      tableName: config.memoryTableName,
    });
    const summaries = new SummaryStore({
      client: aws.documents,
      tableName: config.memoryTableName,
    });
    const t = Date.now();
    for (const [i, ref] of [here, here, here, elsewhere].entries()) {
      await conversations.appendTurn(ref, {
        jobId: `forget-${i}`,
        messages: [
          { role: i % 2 === 0 ? "user" : "assistant", content: `message ${i}`, sentAt: t + i },
        ],
        nowMs: t + i,
      });
    }
    for (const ref of [here, elsewhere]) {
      await summaries.put({
        id: summaryId(ref, "01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        platform: "discord",
        userId,
        channelId: ref.channelId,
        text: "we talked about cheese",
        fromMessageId: "01HAAAAAAAAAAAAAAAAAAAAAAA",
        toMessageId: "01HZZZZZZZZZZZZZZZZZZZZZZZ",
        messageCount: 4,
        createdAt: t,
      });
    }

    const res = await send(commandInteraction("forget", {}, { channelId: here.channelId, userId }));

    expect(res).toEqual({
      status: 200,
      json: ephemeral(
        "Forgotten: 3 messages and 1 archived summary of our conversation in this channel.",
      ),
    });
    expect(await conversations.recent(here)).toEqual([]);
    expect(await conversations.recent(elsewhere)).toHaveLength(1);
    expect((await summaries.listForUser("discord", userId)).map((s) => s.channelId)).toEqual([
      elsewhere.channelId,
    ]);

    const again = await send(
      commandInteraction("forget", {}, { channelId: here.channelId, userId }),
    );
    expect(JSON.stringify(again.json)).toContain("nothing to forget");
  });

  it("does not run a replayed /forget twice", async () => {
    let calls = 0;
    const counting = createApp(
      buildIngressDeps(config, aws, {
        forget: async () => {
          calls++;
          return { messages: 0, summaries: 0 };
        },
      }),
    );
    const payload = commandInteraction("forget");
    await send(payload, counting);
    const replay = await send(payload, counting);
    expect(replay.json).toEqual(ephemeral(DUPLICATE_MESSAGE));
    expect(calls).toBe(1);
  });

  it("apologises and releases the mark when the store fails", async () => {
    const failing = createApp(
      buildIngressDeps(config, aws, {
        forget: () => Promise.reject(new Error("table unavailable")),
      }),
    );
    const id = snowflakeAt();
    const res = await send(commandInteraction("forget", {}, { id }), failing);
    expect(res).toEqual({ status: 200, json: ephemeral(UNAVAILABLE_MESSAGE) });
    expect(await isMarked(id)).toBe(false);
  });
});

describe("GET /health", () => {
  it("reports Discord as configured when the public key and application id are set", async () => {
    const res = await app.request("/health");
    expect(await res.json()).toMatchObject({ platforms: { discord: { configured: true } } });
    const bare = createApp(
      buildIngressDeps(
        {
          ...config,
          discord: { ...config.discord, publicKey: undefined, applicationId: undefined },
        },
        aws,
      ),
    );
    expect(await (await bare.request("/health")).json()).toMatchObject({
      platforms: {
        discord: {
          configured: false,
          reason: "DISCORD_PUBLIC_KEY not set",
        },
      },
    });
  });
});
