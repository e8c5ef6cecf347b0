/**
 * Texts with characters outside the Basic Multilingual Plane (emoji, mathematical letters)
 * through every ingress path onto the local stack's chat queue (fauxqs), and back out intact.
 */
import { PurgeQueueCommand } from "@aws-sdk/client-sqs";
import type { Context, ScheduledEvent } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { chatJobSchema } from "../../core/chat/job";
import type { AwsClients } from "../../core/compose/aws";
import { buildIngressDeps } from "../../core/compose/ingress";
import { buildListenerDeps } from "../../core/compose/kadi";
import type { Config } from "../../core/config";
import { signKadiCallback } from "../../core/kadi/callback";
import { generateKeyPair } from "../../core/kadi/keys";
import { createLogger } from "../../core/logger";
import { SqsChatQueue } from "../../core/queue/chat-queue";
import { createApp } from "../../functions/http";
import { createKadiListenerHandler, SESSION_RESERVE_MS } from "../../functions/kadi-listener";
import { localLambdaContext } from "../../local/poller";
import { type FakeKadiBroker, startFakeKadiBroker } from "../fakes/kadi-broker";
import { receiveJson, testAws, testConfig } from "../support/aws";
import {
  askInteraction,
  discordTestKeys,
  signInteraction,
  snowflakeAt,
  TEST_APPLICATION_ID,
} from "../support/discord";
import { discordMentionChannel, slackMentionChannel } from "../support/kadi";
import { appMentionEnvelope, nowTs, signedHeaders, TEST_SIGNING_SECRET } from "../support/slack";
import { waitFor } from "../support/wait";

const SLACK_BOT = "UBOTASTRAL";
const DISCORD_BOT = "323456789012345678";
const KADI_SECRET = "kadi-callback-secret-astral-0123456789";
const logger = createLogger("non-bmp-test", "SILENT");
const keys = discordTestKeys();

/** An emoji (U+1F600) and a mathematical double-struck E (U+1D53C), each a surrogate pair. */
const TEXTS = [
  ["an emoji", "hi 😀 there"],
  ["a mathematical letter", "let 𝔼[X] be the mean"],
] as const;

let aws: AwsClients;
let config: Config;
let app: ReturnType<typeof createApp>;
let broker: FakeKadiBroker;

beforeAll(async () => {
  broker = await startFakeKadiBroker();
  const setup = await testAws(
    testConfig({
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_BOT_USER_ID: SLACK_BOT,
      DISCORD_PUBLIC_KEY: keys.publicKeyHex,
      DISCORD_APPLICATION_ID: TEST_APPLICATION_ID,
      DISCORD_BOT_USER_ID: DISCORD_BOT,
      KADI_CALLBACK_SECRET: KADI_SECRET,
      KADI_BROKER_URL: broker.url,
      KADI_NETWORKS: "global",
      KADI_PRIVATE_KEY: generateKeyPair().privateKeyPem,
    }),
    { queue: `non-bmp-${Date.now()}` },
  );
  aws = setup.aws;
  config = setup.config;
  app = createApp(buildIngressDeps(config, aws));
});

afterAll(async () => {
  await broker?.close();
});

beforeEach(async () => {
  await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: config.chatQueueUrl }));
});

/** The one job on the chat queue, validated as the worker validates it. */
async function onlyQueuedJob() {
  const jobs = await receiveJson(aws.sqs, config.chatQueueUrl as string);
  expect(jobs).toHaveLength(1);
  return chatJobSchema.parse(jobs[0]);
}

describe("texts outside the Basic Multilingual Plane reach the chat queue intact", () => {
  it.each(TEXTS)("Slack POST /slack/events with %s", async (_name, text) => {
    const body = JSON.stringify(
      appMentionEnvelope({ eventId: `Ev-${nowTs()}`, text, botUserId: SLACK_BOT }),
    );
    const res = await app.request("/slack/events", {
      method: "POST",
      body,
      headers: signedHeaders(body),
    });
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 200,
      body: { ok: true },
    });
    expect((await onlyQueuedJob()).text).toBe(text);
  });

  it.each(TEXTS)("Discord POST /discord/interactions /ask with %s", async (_name, text) => {
    const body = JSON.stringify(askInteraction(text, { id: snowflakeAt() }));
    const res = await app.request("/discord/interactions", {
      method: "POST",
      body,
      headers: signInteraction(keys, body),
    });
    expect(res.status).toBe(200);
    // Type 5 (deferred) means queued; the apology would be type 4.
    expect(await res.json()).toEqual({ type: 5 });
    expect((await onlyQueuedJob()).text).toBe(text);
  });

  it.each(TEXTS)("KĀDI POST /kadi/events with %s", async (_name, text) => {
    const ts = nowTs();
    const body = JSON.stringify({
      channel: slackMentionChannel(SLACK_BOT),
      data: { id: ts, user: "U0ALICE", text: `<@${SLACK_BOT}> ${text}`, channel: "C0K", ts },
    });
    const res = await app.request("/kadi/events", {
      method: "POST",
      body,
      headers: signKadiCallback(KADI_SECRET, body, Date.now() / 1000),
    });
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 200,
      body: { ok: true },
    });
    expect((await onlyQueuedJob()).text).toBe(text);
  });

  it.each(TEXTS)("KĀDI socket delivery with %s", async (_name, text) => {
    const deps = buildListenerDeps(config, aws, {
      runTurn: () => Promise.reject(new Error("not used")),
      queue: new SqsChatQueue(aws.sqs, config.chatQueueUrl as string),
      logger,
    });
    const handler = createKadiListenerHandler({ listener: deps, sessionMs: 240_000, logger });
    const running = handler(
      {} as ScheduledEvent,
      localLambdaContext("kadi-listener", SESSION_RESERVE_MS + 1_500) as Context,
    );
    const channel = discordMentionChannel(DISCORD_BOT);
    await waitFor(() =>
      broker.agents().find((a) => a.subscriptions.some((s) => s.channel === channel)),
    );
    const id = snowflakeAt();
    broker.deliver(
      channel,
      {
        id,
        user: "900000000000000001",
        text: `<@${DISCORD_BOT}> ${text}`,
        channel: "910000000000000001",
      },
      "global",
    );
    expect(await running).toMatchObject({ deliveries: { queued: 1 } });
    expect((await onlyQueuedJob()).text).toBe(text);
  });
});
