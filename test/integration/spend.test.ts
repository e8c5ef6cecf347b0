import { Metrics } from "@aws-lambda-powertools/metrics";
import { DescribeTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ChatJob } from "../../core/chat/job";
import { createSpend, overBudgetReply } from "../../core/chat/spend";
import { buildArchiveRequester, buildArchiverDeps } from "../../core/compose/archiver";
import type { AwsClients } from "../../core/compose/aws";
import { buildWorkerDeps } from "../../core/compose/worker";
import type { Config } from "../../core/config";
import { METRICS_NAMESPACE } from "../../core/constants/logging";
import { createLogger } from "../../core/logger";
import { ConversationStore } from "../../core/memory/conversations";
import { providerTokensPk, userTokensKey } from "../../core/memory/table/keys";
import { TTL_ATTRIBUTE } from "../../core/memory/table/table";
import { TokenUsageStore, type TokenUser } from "../../core/memory/token-usage";
import { createArchiverHandler } from "../../functions/archiver";
import { createChatWorkerHandler } from "../../functions/chat-worker";
import { localLambdaContext } from "../../local/poller";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { countTokens, type RecordedRequest, textOf } from "../fakes/http-fake";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import {
  appendMessages,
  drainQueue,
  isSummaryRequest,
  summariserReply,
  testArchiveQueue,
} from "../support/archive";
import { testAws, testConfig } from "../support/aws";
import { answers } from "../support/slack";
import { sqsEvent } from "../support/sqs";

let anthropic: FakeAnthropic;
let slack: FakeSlack;
let aws: AwsClients;
let config: Config;
let conversations: ConversationStore;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: "sk-ant-spend", reply: summariserReply });
  slack = await startFakeSlack({ token: "xoxb-spend" });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-spend",
      ANTHROPIC_BASE_URL: anthropic.url,
      SLACK_BOT_TOKEN: "xoxb-spend",
      SLACK_API_URL: slack.url,
    }),
  );
  aws = setup.aws;
  config = setup.config;
  conversations = new ConversationStore({
    client: aws.documents,
    tableName: config.memoryTableName,
  });
});

afterAll(async () => {
  await Promise.all([anthropic?.close(), slack?.close()]);
});

/**
 * 2099-03-14 23:59:00 UTC: one minute before the budget resets. In the future, because DynamoDB
 * Local deletes items whose TTL has passed: counters dated in the past would vanish mid-test.
 */
const LATE = Date.UTC(2099, 2, 14, 23, 59, 0);
/** The next UTC midnight after {@link LATE}, epoch seconds. */
const MIDNIGHT_S = Date.UTC(2099, 2, 15) / 1000;

let counter = 0;
function job(text: string, userId: string): ChatJob {
  counter++;
  const ts = `1700000000.${String(counter).padStart(6, "0")}`;
  return {
    v: 2,
    jobId: `slack:T1:C1:${ts}`,
    source: { kind: "slack-events", eventId: `EvSpend${counter}` },
    conversation: { platform: "slack", channelId: "C-SPEND", userId },
    text,
    sentAt: LATE,
    reply: { platform: "slack", via: "direct", address: { channel: "C-SPEND", threadTs: ts } },
  };
}

/** Tokens the fake Anthropic reported for `request`: words of the prompt and of the reply. */
function reportedTokens(request: RecordedRequest | undefined): number {
  const body = (request?.body ?? {}) as { system?: unknown; messages?: { content: unknown }[] };
  const prompt = [textOf(body.system), ...(body.messages ?? []).map((m) => textOf(m.content))];
  return countTokens(prompt.join(" ")) + countTokens(String(summariserReply(request as never)));
}

function store(clock: () => number): TokenUsageStore {
  return new TokenUsageStore({
    client: aws.documents,
    tableName: config.memoryTableName,
    now: clock,
    cacheMs: 0,
  });
}

function worker(budget: number | undefined, clock: () => number) {
  return createChatWorkerHandler(
    buildWorkerDeps({ ...config, userDailyTokenBudget: budget }, aws, {
      now: clock,
      metrics: null,
    }),
  );
}

const run = (handler: ReturnType<typeof worker>, jobs: ChatJob[]) =>
  handler(sqsEvent(jobs), localLambdaContext("chat-worker", 30_000));

describe("daily token budget (DynamoDB Local, fake Anthropic, fake Slack)", () => {
  it("answers a user under the budget and counts the provider's usage for the user and the provider, with a TTL", async () => {
    const user: TokenUser = { platform: "slack", userId: "U-UNDER" };
    anthropic.reset();
    slack.reset();
    const handler = worker(1_000_000, () => LATE);
    await run(handler, [job("hello there", user.userId)]);
    await run(handler, [job("and again", user.userId)]);

    expect(answers(slack)).toHaveLength(2);
    expect(answers(slack)[1]?.text).toContain("and again");
    const expected = anthropic.requests.reduce((sum, r) => sum + reportedTokens(r), 0);
    expect(expected).toBeGreaterThan(0);
    const usage = store(() => LATE);
    expect(await usage.userTokens(user)).toBe(expected);
    const totals = await usage.providerTotals();
    expect(totals.day).toBe("2099-03-14");
    expect(totals.resetsAt).toBe("2099-03-15T00:00:00.000Z");
    expect(totals.providers.anthropic.tokens).toBe(expected);
    expect(totals.providers["openai-compatible"]).toEqual({
      inputTokens: 0,
      outputTokens: 0,
      tokens: 0,
    });

    // Counters expire: TTL two days after the day ends, on the table's TTL attribute.
    const keys = [
      userTokensKey("slack", user.userId, "2099-03-14"),
      { pk: providerTokensPk("2099-03-14"), sk: "PROVIDER#anthropic" },
    ];
    for (const Key of keys) {
      const out = await aws.documents.send(
        new GetCommand({ TableName: config.memoryTableName, Key }),
      );
      expect(out.Item?.[TTL_ATTRIBUTE]).toBe(MIDNIGHT_S + 2 * 24 * 60 * 60);
    }
    const ttl = await aws.dynamodb.send(
      new DescribeTimeToLiveCommand({ TableName: config.memoryTableName }),
    );
    expect(ttl.TimeToLiveDescription).toMatchObject({
      AttributeName: TTL_ATTRIBUTE,
      TimeToLiveStatus: "ENABLED",
    });
  });

  it("lets a turn that crosses the budget finish, then refuses with the reset time, no model call and nothing stored, until midnight UTC", async () => {
    const user: TokenUser = { platform: "slack", userId: "U-OVER" };
    const ref = { platform: "slack" as const, channelId: "C-SPEND", userId: user.userId };
    let now = LATE;
    const handler = worker(5, () => now);
    anthropic.reset();
    slack.reset();

    await run(handler, [job("a first question that uses more than five tokens", user.userId)]);
    expect(anthropic.requests).toHaveLength(1);
    const used = await store(() => now).userTokens(user);
    expect(used).toBeGreaterThan(5);

    const refused = job("one more?", user.userId);
    const result = await run(handler, [refused]);
    expect(result.batchItemFailures).toEqual([]);
    expect(anthropic.requests).toHaveLength(1);
    const refusal = answers(slack)[1]?.text;
    expect(refusal).toBe(overBudgetReply(5, MIDNIGHT_S * 1000, LATE));
    expect(refusal).toContain("resets at 2099-03-15 00:00 UTC (in 1 min)");
    // Nothing of the refused turn is stored, and the counters did not move.
    expect(await conversations.messageCount(ref)).toBe(2);
    expect((await conversations.recent(ref, 10)).map((m) => m.content)).not.toContain("one more?");
    expect(await store(() => now).userTokens(user)).toBe(used);
    // A redelivery of the refused job posts nothing again.
    await run(handler, [refused]);
    expect(answers(slack)).toHaveLength(2);

    now = Date.UTC(2099, 2, 15, 0, 0, 30);
    await run(handler, [job("good morning", user.userId)]);
    expect(anthropic.requests).toHaveLength(2);
    expect(answers(slack)[2]?.text).toContain("good morning");
    expect(await store(() => now).userTokens(user)).toBe(reportedTokens(anthropic.requests[1]));
  });

  it("without USER_DAILY_TOKEN_BUDGET never refuses, and still counts", async () => {
    const user: TokenUser = { platform: "slack", userId: "U-UNLIMITED" };
    const usage = store(() => LATE);
    await usage.add({ provider: "anthropic", inputTokens: 10_000_000, outputTokens: 1 }, user);
    anthropic.reset();
    slack.reset();
    await run(
      worker(undefined, () => LATE),
      [job("still here?", user.userId)],
    );
    expect(anthropic.requests).toHaveLength(1);
    expect(await usage.userTokens(user)).toBe(10_000_001 + reportedTokens(anthropic.requests[0]));
  });

  it("counts summaries toward the provider's total but no user's budget", async () => {
    const { queueUrl } = await testArchiveQueue(aws);
    const archiveConfig = { ...config, archiveQueueUrl: queueUrl };
    const ref = { platform: "slack" as const, channelId: "C-SPEND-ARCH", userId: "U-ARCHIVED" };
    const day = Date.UTC(2099, 4, 1, 12);
    await appendMessages(conversations, ref, 31, { startMs: day });
    expect(await buildArchiveRequester(archiveConfig, aws)?.(ref)).toBe(true);
    anthropic.reset();
    const handler = createArchiverHandler(
      buildArchiverDeps(archiveConfig, aws, { now: () => day, metrics: null }),
    );
    expect(await drainQueue({ aws, queueUrl, handler })).toEqual({ processed: 1, failed: 0 });

    const summaryCalls = anthropic.requests.filter(isSummaryRequest);
    expect(summaryCalls).toHaveLength(1);
    const usage = store(() => day);
    expect((await usage.providerTotals()).providers.anthropic.tokens).toBe(
      reportedTokens(summaryCalls[0]),
    );
    expect(await usage.userTokens(ref)).toBe(0);
  });

  it("emits InputTokens, OutputTokens and Tokens per completion, dimension provider", async () => {
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: "chat-worker" });
    const handler = createChatWorkerHandler(
      buildWorkerDeps(config, aws, { now: () => LATE, metrics }),
    );
    anthropic.reset();
    const lines: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      await run(handler, [job("measure me", "U-METRIC")]);
    } finally {
      vi.mocked(process.stdout.write).mockRestore();
    }
    const docs = lines
      .join("")
      .split("\n")
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(docs).toHaveLength(1);
    const request = anthropic.requests[0];
    const output = countTokens(String(summariserReply(request as never)));
    expect(docs[0]).toMatchObject({
      provider: "anthropic",
      service: "chat-worker",
      InputTokens: reportedTokens(request) - output,
      OutputTokens: output,
      Tokens: reportedTokens(request),
    });
    const directive = docs[0]?._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] };
    expect(directive.CloudWatchMetrics[0]?.Dimensions).toEqual([["service", "provider"]]);
  });
});

describe("TokenUsageStore (DynamoDB Local)", () => {
  it("loses no count under concurrent turns (atomic ADD) and writes nothing for zero usage", async () => {
    const user: TokenUser = { platform: "discord", userId: "123456789012345678" };
    const usage = store(() => LATE);
    await Promise.all(
      Array.from({ length: 25 }, () =>
        usage.add({ provider: "openai-compatible", inputTokens: 7, outputTokens: 3 }, user),
      ),
    );
    await usage.add({ provider: "openai-compatible", inputTokens: 0, outputTokens: 0 }, user);
    expect(await usage.userTokens(user)).toBe(250);
    const out = await aws.documents.send(
      new GetCommand({
        TableName: config.memoryTableName,
        Key: userTokensKey("discord", user.userId, "2099-03-14"),
      }),
    );
    expect(out.Item).toMatchObject({ inputTokens: 175, outputTokens: 75, tokens: 250 });
    // The next UTC day starts from zero.
    expect(await store(() => MIDNIGHT_S * 1000).userTokens(user)).toBe(0);
  });

  it("a counter that cannot be written is logged, never fails the turn's accounting", async () => {
    const logger = createLogger("spend-test", "SILENT");
    const errors = vi.spyOn(logger, "error");
    const spend = createSpend({
      usage: new TokenUsageStore({ client: aws.documents, tableName: "no-such-table" }),
      logger,
      now: () => LATE,
    });
    await expect(
      spend.record({
        text: "x",
        model: "claude-sonnet-5-5",
        provider: "anthropic",
        inputTokens: 3,
        outputTokens: 4,
      }),
    ).resolves.toBeUndefined();
    expect(errors).toHaveBeenCalledWith(
      expect.stringContaining("could not count tokens"),
      expect.objectContaining({ provider: "anthropic", inputTokens: 3, outputTokens: 4 }),
    );
  });
});
