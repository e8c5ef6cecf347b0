/**
 * Faults of the local stack's storage and queue, survived (issue 13, item 5; figures in
 * docs/reliability/faults.md): DynamoDB Local stopped while a turn is in flight and events keep
 * arriving, then restarted on the same port and data directory; the SQS emulator stopped and
 * started again. Each scenario runs its own emulator, never the run's shared ones.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsClients, createAwsClients } from "../../core/compose/aws";
import type { Config } from "../../core/config";
import { signKadiCallback } from "../../core/kadi/callback";
import { DEFAULT_ANTHROPIC_MODEL } from "../../core/llm/models";
import { ensureTable } from "../../core/memory/table/table";
import {
  ensureQueueWithDlq,
  freePort,
  LOCAL_CREDENTIALS,
  type RunningService,
  startDynamoDbLocal,
  startSqsEmulator,
} from "../../local/services";
import { type LocalStack, startLocalStack } from "../../local/stack";
import { defaultAnthropicReply, type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import { queueDepth, testConfig } from "../support/aws";
import { slackMentionChannel } from "../support/kadi";
import { answers, appMentionEnvelope, signedHeaders, TEST_SIGNING_SECRET } from "../support/slack";
import { waitFor } from "../support/wait";

const BOT = "UBOTFAULT";
const KADI_SECRET = "kadi-callback-secret-faults-0123";

/**
 * Seconds a received chat job stays invisible here: short, so a failed job comes back within
 * the test (deployed: 9 minutes).
 */
const TEST_VISIBILITY_SECONDS = 2;

/**
 * Receives before the DLQ here: more than a slow restart of DynamoDB Local burns at one
 * receive per {@link TEST_VISIBILITY_SECONDS} (deployed: 3 receives of 9 minutes each).
 */
const TEST_MAX_RECEIVES = 100;

interface Fixture {
  anthropic: FakeAnthropic;
  slack: FakeSlack;
  /** Environment of the stack: the fakes, Slack and KĀDI secrets, any port. */
  env: Record<string, string>;
}

async function startFakes(): Promise<Fixture> {
  const anthropic = await startFakeAnthropic({ apiKey: "sk-ant-faults" });
  const slack = await startFakeSlack({ token: "xoxb-faults", botUserId: BOT });
  return {
    anthropic,
    slack,
    env: {
      ANTHROPIC_API_KEY: "sk-ant-faults",
      ANTHROPIC_BASE_URL: anthropic.url,
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_BOT_TOKEN: "xoxb-faults",
      SLACK_BOT_USER_ID: BOT,
      SLACK_API_URL: slack.url,
      KADI_CALLBACK_SECRET: KADI_SECRET,
      PORT: "0",
    },
  };
}

/**
 * Creates the table and a chat queue (short visibility timeout) for `config` and starts the
 * stack on them; the stack starts no emulator of its own (both endpoints are set).
 */
async function startStackOn(config: Config): Promise<{ stack: LocalStack; aws: AwsClients }> {
  const aws = createAwsClients(config, LOCAL_CREDENTIALS);
  await ensureTable(aws.dynamodb, config.memoryTableName);
  const { queueUrl } = await ensureQueueWithDlq(aws.sqs, `faults-chat-${randomUUID()}`, {
    visibilityTimeoutSeconds: TEST_VISIBILITY_SECONDS,
    maxReceiveCount: TEST_MAX_RECEIVES,
  });
  const stack = await startLocalStack({ ...config, chatQueueUrl: queueUrl });
  return { stack, aws };
}

/** What the ingress answered: status, `Retry-After` and the JSON body. */
interface Answer {
  status: number;
  retryAfter: string | null;
  body: unknown;
}

async function answerOf(res: Response): Promise<Answer> {
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: await res.json() };
}

/** One Slack delivery of `envelope` (`retryNum` > 0 marks it as Slack's retry). */
async function deliverSlack(
  url: string,
  envelope: Record<string, unknown>,
  retryNum = 0,
): Promise<Answer> {
  const body = JSON.stringify(envelope);
  const res = await fetch(`${url}/slack/events`, {
    method: "POST",
    body,
    headers: signedHeaders(body, { retryNum }),
  });
  return answerOf(res);
}

/** One signed `POST /kadi/events` of a relayed Slack mention. */
async function deliverKadi(url: string, user: string, text: string): Promise<Answer> {
  const ts = `${Math.floor(Date.now() / 1000)}.${String(Math.floor(Math.random() * 1e6)).padStart(6, "0")}`;
  const body = JSON.stringify({
    channel: slackMentionChannel(BOT),
    data: { id: ts, user, text: `<@${BOT}> ${text}`, channel: "C0FAULT", ts },
  });
  const res = await fetch(`${url}/kadi/events`, {
    method: "POST",
    body,
    headers: signKadiCallback(KADI_SECRET, body, Date.now() / 1000),
  });
  return answerOf(res);
}

function mentionOf(eventId: string, user: string, text: string) {
  return appMentionEnvelope({ eventId, text, user, botUserId: BOT, channel: "C0FAULT" });
}

/** Every item of the table, by its keys (a Scan; the test tables are small). */
async function scanItems(aws: AwsClients, tableName: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await aws.documents.send(
      new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Event ids with a dedupe mark in `scope`. */
function dedupeMarks(items: Record<string, unknown>[], scope: string): string[] {
  const prefix = `DEDUPE#${scope}#`;
  return items
    .map((item) => String(item.pk))
    .filter((pk) => pk.startsWith(prefix))
    .map((pk) => pk.slice(prefix.length))
    .sort();
}

/** `[role, content]` of the stored messages of one Slack user in C0FAULT, in sequence order. */
function storedTurns(items: Record<string, unknown>[], user: string): [string, string][] {
  return items
    .filter(
      (item) => String(item.pk).includes(`#C0FAULT#${user}`) && String(item.sk).startsWith("MSG#"),
    )
    .sort((a, b) => String(a.sk).localeCompare(String(b.sk)))
    .map((item) => [String(item.role), String(item.content)]);
}

const reply = (text: string) => `fake-anthropic(${DEFAULT_ANTHROPIC_MODEL}): ${text}`;

describe("DynamoDB Local stopped mid-run", () => {
  let fakes: Fixture;
  let dynamo: RunningService | undefined;
  let dataDir: string;
  let port: number;
  let stack: LocalStack | undefined;
  let aws: AwsClients;
  let tableName: string;

  beforeAll(async () => {
    fakes = await startFakes();
    dataDir = await mkdtemp(join(tmpdir(), "faults-dynamodb-"));
    port = await freePort();
    dynamo = await startDynamoDbLocal({ dataDir, port });
    const config = testConfig({ ...fakes.env, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint });
    tableName = config.memoryTableName;
    ({ stack, aws } = await startStackOn(config));
  });

  afterAll(async () => {
    await stack?.stop();
    await dynamo?.stop();
    await Promise.all([fakes?.anthropic.close(), fakes?.slack.close()]);
    await rm(dataDir, { recursive: true, force: true });
  });

  it("answers 503 while it is down, half-writes nothing, and answers every event once after", async () => {
    const url = (stack as LocalStack).url;
    // A turn in flight: the model's answer is held until DynamoDB has been stopped.
    let enterModel = () => {};
    const inModel = new Promise<void>((resolve) => {
      enterModel = resolve;
    });
    let releaseModel = () => {};
    const held = new Promise<void>((resolve) => {
      releaseModel = resolve;
    });
    fakes.anthropic.setReply(async (request) => {
      enterModel();
      await held;
      return defaultAnthropicReply(request);
    });
    const inFlight = mentionOf("Ev-fault-inflight", "U0INFLIGHT", "answer me mid-outage");
    expect((await deliverSlack(url, inFlight)).status).toBe(200);
    await inModel;
    await dynamo?.stop();
    dynamo = undefined;
    fakes.anthropic.setReply();
    releaseModel();

    // Events arriving while DynamoDB is down: refused with 503 so Slack retries them.
    const refused = [
      mentionOf("Ev-fault-down-1", "U0DOWN1", "first while down"),
      mentionOf("Ev-fault-down-2", "U0DOWN2", "second while down"),
    ];
    const downStarted = Date.now();
    for (const envelope of refused) {
      expect(await deliverSlack(url, envelope)).toEqual({
        status: 503,
        retryAfter: expect.stringMatching(/^\d+$/),
        body: { error: "dedupe_unavailable" },
      });
    }
    expect(await deliverKadi(url, "U0KADI", "relayed while down")).toMatchObject({
      status: 503,
      retryAfter: expect.stringMatching(/^\d+$/),
      body: { error: "dedupe_unavailable" },
    });
    const refuseMs = (Date.now() - downStarted) / 3;

    // The held turn was posted (Slack is up) but could not be recorded; nothing else is.
    await waitFor(() => (answers(fakes.slack).length >= 1 ? true : undefined));
    const outageMs = Date.now() - downStarted;
    expect(answers(fakes.slack)).toHaveLength(1);

    const restartStarted = Date.now();
    dynamo = await startDynamoDbLocal({ dataDir, port, startTimeoutMs: 90_000 });
    const restartMs = Date.now() - restartStarted;

    // Nothing half-written: only the event that was queued holds a dedupe mark.
    const before = await scanItems(aws, tableName);
    expect(dedupeMarks(before, "slack-event")).toEqual(["Ev-fault-inflight"]);
    expect(dedupeMarks(before, "kadi-event")).toEqual([]);

    // Slack's retries: the first is queued, the second is a duplicate.
    for (const envelope of refused) {
      expect((await deliverSlack(url, envelope, 1)).status).toBe(200);
      expect(await deliverSlack(url, envelope, 2)).toMatchObject({
        status: 200,
        body: { ok: true, duplicate: true },
      });
    }
    const recoveryStarted = Date.now();
    const settled = await waitFor(async () => {
      const items = await scanItems(aws, tableName);
      const done = ["U0INFLIGHT", "U0DOWN1", "U0DOWN2"].every(
        (user) => storedTurns(items, user).length >= 2,
      );
      return done ? items : undefined;
    }, 25_000);
    const recoveredMs = Date.now() - recoveryStarted;
    // A little longer, to catch a second post of any job.
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    const posts = answers(fakes.slack).map((post) => post.text);
    expect(posts.sort()).toEqual(
      [reply("answer me mid-outage"), reply("first while down"), reply("second while down")].sort(),
    );
    expect(storedTurns(settled, "U0INFLIGHT")).toEqual([
      ["user", "answer me mid-outage"],
      ["assistant", reply("answer me mid-outage")],
    ]);
    for (const [user, text] of [
      ["U0DOWN1", "first while down"],
      ["U0DOWN2", "second while down"],
    ] as const) {
      expect(storedTurns(settled, user)).toEqual([
        ["user", text],
        ["assistant", reply(text)],
      ]);
    }
    // Every reply is recorded as finished, the in-flight one included (written on redelivery).
    const replies = settled.filter((item) => item.pk === "IDEMPOTENCY#chat-reply");
    expect(replies.map((item) => item.status)).toEqual(["COMPLETED", "COMPLETED", "COMPLETED"]);
    const chatQueueUrl = (stack as LocalStack).config.chatQueueUrl as string;
    expect(await queueDepth(aws.sqs, chatQueueUrl, { inFlight: true })).toBe(0);
    console.info(
      `faults: DynamoDB down → 503 in ${refuseMs.toFixed(0)} ms/request; ` +
        `down ${outageMs + restartMs} ms (restart ${restartMs} ms); ` +
        `all three answered and stored ${recoveredMs} ms after it was back`,
    );
  }, 120_000);
});

describe("SQS emulator restarted", () => {
  let fakes: Fixture;
  let sqs: RunningService | undefined;
  let sqsPort: number;
  let stack: LocalStack | undefined;
  let aws: AwsClients;
  let tableName: string;

  beforeAll(async () => {
    fakes = await startFakes();
    sqsPort = await freePort();
    sqs = await startSqsEmulator({ port: sqsPort });
    const config = testConfig({ ...fakes.env, AWS_ENDPOINT_URL_SQS: sqs.endpoint });
    tableName = config.memoryTableName;
    ({ stack, aws } = await startStackOn(config));
  });

  afterAll(async () => {
    await stack?.stop();
    await sqs?.stop();
    await Promise.all([fakes?.anthropic.close(), fakes?.slack.close()]);
  });

  it("answers 503 while it is down, leaves no dedupe mark, and takes the retry once it is back", async () => {
    const url = (stack as LocalStack).url;
    const before = mentionOf("Ev-sqs-before", "U0SQS0", "before the restart");
    expect((await deliverSlack(url, before)).status).toBe(200);
    await waitFor(() => (answers(fakes.slack).length >= 1 ? true : undefined));

    await sqs?.stop();
    sqs = undefined;
    const refused = mentionOf("Ev-sqs-down", "U0SQS1", "while the queue is down");
    const refusedAt = Date.now();
    const refusal = await deliverSlack(url, refused);
    const refuseMs = Date.now() - refusedAt;
    expect(refusal).toEqual({
      status: 503,
      retryAfter: expect.stringMatching(/^\d+$/),
      body: { error: "queue_unavailable" },
    });
    expect(dedupeMarks(await scanItems(aws, tableName), "slack-event")).toEqual(["Ev-sqs-before"]);

    // Back on the same port. Its queues were in memory, so they are created again as the
    // stack does at start.
    sqs = await startSqsEmulator({ port: sqsPort });
    const config = (stack as LocalStack).config;
    const name = (config.chatQueueUrl as string).split("/").at(-1) as string;
    await ensureQueueWithDlq(aws.sqs, name, {
      visibilityTimeoutSeconds: TEST_VISIBILITY_SECONDS,
      maxReceiveCount: TEST_MAX_RECEIVES,
    });

    expect((await deliverSlack(url, refused, 1)).status).toBe(200);
    await waitFor(() => (answers(fakes.slack).length >= 2 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(answers(fakes.slack).map((post) => post.text)).toEqual([
      reply("before the restart"),
      reply("while the queue is down"),
    ]);
    console.info(`faults: SQS emulator down → 503 queue_unavailable in ${refuseMs} ms`);
  });
});
