import { PurgeQueueCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { Context, ScheduledEvent } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AwsClients } from "../../core/compose/aws";
import { buildListenerDeps } from "../../core/compose/kadi";
import type { Config } from "../../core/config";
import { generateKeyPair } from "../../core/kadi/keys";
import type { ListenerSessionDeps } from "../../core/kadi/session";
import { createLogger } from "../../core/logger";
import { SqsChatQueue } from "../../core/queue/chat-queue";
import { createKadiListenerHandler, SESSION_RESERVE_MS } from "../../functions/kadi-listener";
import { localLambdaContext } from "../../local/poller";
import { type FakeKadiBroker, startFakeKadiBroker } from "../fakes/kadi-broker";
import { testAws, testConfig } from "../support/aws";
import { slackMentionChannel } from "../support/kadi";

const BOT = "UBOTLISTEN";
const logger = createLogger("kadi-listener-test", "SILENT");
let broker: FakeKadiBroker;
let aws: AwsClients;
let config: Config;
let deps: ListenerSessionDeps;

beforeAll(async () => {
  broker = await startFakeKadiBroker();
  const setup = await testAws(
    testConfig({
      SLACK_BOT_USER_ID: BOT,
      KADI_BROKER_URL: broker.url,
      KADI_NETWORKS: "global,team",
      KADI_PRIVATE_KEY: generateKeyPair().privateKeyPem,
    }),
    { queue: `kadi-listener-${Date.now()}` },
  );
  aws = setup.aws;
  config = setup.config;
  deps = buildListenerDeps(config, aws, {
    runTurn: () => Promise.reject(new Error("not used")),
    queue: new SqsChatQueue(aws.sqs, config.chatQueueUrl as string),
    logger,
  });
});

afterAll(async () => {
  await broker?.close();
});

beforeEach(async () => {
  await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: config.chatQueueUrl }));
});

/** A Lambda context whose deadline leaves `sessionMs` after the reserve. */
function contextFor(sessionMs: number): Context {
  return localLambdaContext("kadi-listener", SESSION_RESERVE_MS + sessionMs);
}

/** Waits until one agent holds `count` subscriptions to the Slack mention channel. */
async function subscribedOn(count: number) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ours = broker
      .agents()
      .find(
        (a) =>
          a.subscriptions.filter((s) => s.channel === slackMentionChannel(BOT)).length === count,
      );
    if (ours) return ours;
    if (Date.now() > deadline) throw new Error("listener did not subscribe");
    await new Promise((r) => setTimeout(r, 20));
  }
}

function mention(ts: string) {
  return { id: ts, user: "U0BOB", text: `<@${BOT}> hi`, channel: "C1", thread_ts: ts, ts };
}

const event = {} as ScheduledEvent;

describe("KĀDI listener Lambda", () => {
  it("holds a bounded session on every network, queues deliveries, then leaves the broker", async () => {
    const handler = createKadiListenerHandler({ listener: deps, sessionMs: 240_000, logger });
    const running = handler(event, contextFor(2_000));
    const ours = await subscribedOn(2);
    expect(broker.agents()).toHaveLength(1);
    expect(ours.subscriptions).toEqual([
      { channel: slackMentionChannel(BOT), networkId: "global" },
      { channel: slackMentionChannel(BOT), networkId: "team" },
    ]);
    // Published on both networks, queued once.
    const ts = "1700000100.000001";
    broker.deliver(slackMentionChannel(BOT), mention(ts), "global");
    broker.deliver(slackMentionChannel(BOT), mention(ts), "team");
    const stats = await running;
    expect(stats).toMatchObject({ deliveries: { queued: 1, duplicate: 1 } });
    expect(broker.agents()).toHaveLength(0);
    const out = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: config.chatQueueUrl, MaxNumberOfMessages: 10 }),
    );
    expect(out.Messages).toHaveLength(1);
  });

  it("two overlapping sessions queue a delivery once", async () => {
    const handler = createKadiListenerHandler({ listener: deps, sessionMs: 240_000, logger });
    const first = handler(event, contextFor(2_500));
    const second = handler(event, contextFor(2_500));
    await new Promise((r) => setTimeout(r, 0));
    const deadline = Date.now() + 10_000;
    while (broker.agents().filter((a) => a.subscriptions.length > 0).length < 2) {
      if (Date.now() > deadline) throw new Error("sessions did not subscribe");
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(broker.deliver(slackMentionChannel(BOT), mention("1700000200.000001"), "global")).toBe(
      2,
    );
    const [a, b] = await Promise.all([first, second]);
    const queued = [a, b].map((s) => ("deliveries" in s ? s.deliveries.queued : 0));
    expect(queued.reduce((x, y) => x + y, 0)).toBe(1);
  });

  it("cuts the session to the Lambda deadline minus the reserve, and skips when none is left", async () => {
    const handler = createKadiListenerHandler({ listener: deps, sessionMs: 240_000, logger });
    expect(await handler(event, contextFor(-1))).toEqual({ skipped: true });
    const started = Date.now();
    await handler(event, contextFor(300));
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("fails the invocation when the broker refuses the session", async () => {
    const bad = buildListenerDeps(
      { ...config, kadi: { ...config.kadi, brokerUrl: "ws://127.0.0.1:9/kadi" } },
      aws,
      { runTurn: () => Promise.reject(new Error("not used")), queue: deps.ingress.queue, logger },
    );
    const handler = createKadiListenerHandler({ listener: bad, sessionMs: 1_000, logger });
    await expect(handler(event, contextFor(1_000))).rejects.toMatchObject({ kind: "network" });
  });
});

describe("KĀDI listener: payload shapes", () => {
  it("queues a socket delivery whose optional fields are null", async () => {
    const handler = createKadiListenerHandler({ listener: deps, sessionMs: 240_000, logger });
    const running = handler(event, contextFor(1_500));
    await subscribedOn(2);
    const ts = "1700000300.000001";
    broker.deliver(
      slackMentionChannel(BOT),
      { ...mention(ts), thread_ts: null, bot_id: null, timestamp: null, client_msg_id: "x" },
      "global",
    );
    expect(await running).toMatchObject({ deliveries: { queued: 1 } });
    const out = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: config.chatQueueUrl, MaxNumberOfMessages: 10 }),
    );
    expect(out.Messages?.map((m) => JSON.parse(m.Body ?? "null").text)).toEqual(["hi"]);
  });
});
