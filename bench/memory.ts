/**
 * Memory benchmark (`npm run bench:memory`), against DynamoDB Local and the fauxqs SQS emulator
 * with instant fake model and Slack servers (the test fakes):
 *
 * (a) one 60-turn Slack conversation through the real chat worker and archiver handlers: LLM
 *     calls per turn (turns 1–20 and 21–60), messages per summary, DynamoDB requests per turn
 *     (worker and archiver together, counted by SDK middleware), context-read latency at turns
 *     1, 20 and 60;
 * (b) recall per turn for one user with 50, 1000 and 5000 summaries (`bench/memory-recall.ts`).
 *
 * Prints figures beside the targets (PASS/MISS); never fails on time (exit 1 only when
 * something is broken). Figures are recorded in docs/benchmarks.md.
 */
import { cpus, totalmem } from "node:os";
import { buildArchiverDeps } from "../core/compose/archiver";
import { createAwsClients } from "../core/compose/aws";
import { buildWorkerDeps } from "../core/compose/worker";
import { loadConfig } from "../core/config";
import { createLogger } from "../core/logger";
import { contextLimit } from "../core/memory/archival";
import { ConversationStore } from "../core/memory/conversations";
import { SummaryStore } from "../core/memory/long-term/summaries";
import type { ConversationRef } from "../core/memory/table/keys";
import { ensureTable } from "../core/memory/table/table";
import { createArchiverHandler } from "../functions/archiver";
import { createChatWorkerHandler } from "../functions/chat-worker";
import { localLambdaContext } from "../local/poller";
import {
  ensureQueueWithDlq,
  LOCAL_CREDENTIALS,
  startDynamoDbLocal,
  startSqsEmulator,
} from "../local/services";
import { startFakeAnthropic } from "../test/fakes/anthropic";
import { startFakeSlack } from "../test/fakes/slack";
import { drainQueue, isSummaryRequest, summariserReply } from "../test/support/archive";
import { sqsEvent } from "../test/support/sqs";
import { formatRecallRows, type RecallBenchRow, runRecallBench } from "./memory-recall";

const TURNS = 60;
/** Context reads timed at each measured turn. */
const CONTEXT_READS = 30;
const CONTEXT_AT_TURNS = new Set([1, 20, 60]);
/** Appends and reads before measuring, so the JVM behind DynamoDB Local is warm. */
const WARMUP_TURNS = 300;
const TARGETS = {
  llmCallsPerTurnLate: 1.2,
  messagesPerSummary: 10,
  dynamoRequestsPerTurn: 12,
  recallMs: 15,
  recallReadUnits: 20,
};

interface ConversationFigures {
  llmCallsEarly: number;
  llmCallsLate: number;
  summaryCalls: number;
  messagesPerSummary: number[];
  dynamoRequestsPerTurn: number;
  dynamoRequestsEarly: number;
  dynamoRequestsLate: number;
  contextReadMs: Map<number, number>;
}

function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

function mean(samples: readonly number[]): number {
  return samples.reduce((a, b) => a + b, 0) / samples.length;
}

async function runConversationBench(endpoints: {
  dynamodb: string;
  sqs: string;
}): Promise<ConversationFigures> {
  const anthropic = await startFakeAnthropic({ apiKey: "sk-ant-bench", reply: summariserReply });
  const slack = await startFakeSlack({ token: "xoxb-bench", botUserId: "UBENCH" });
  try {
    let config = loadConfig({
      env: {
        AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
        AWS_ENDPOINT_URL_SQS: endpoints.sqs,
        MEMORY_TABLE_NAME: `bench-memory-${Date.now()}`,
        ANTHROPIC_API_KEY: "sk-ant-bench",
        ANTHROPIC_BASE_URL: anthropic.url,
        SLACK_BOT_TOKEN: "xoxb-bench",
        SLACK_API_URL: slack.url,
        LOG_LEVEL: "SILENT",
      },
    });
    const aws = createAwsClients(config, LOCAL_CREDENTIALS);
    await ensureTable(aws.dynamodb, config.memoryTableName);
    const archive = await ensureQueueWithDlq(aws.sqs, `bench-archive-${Date.now()}`, {
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 3,
    });
    config = { ...config, archiveQueueUrl: archive.queueUrl };

    let dynamoRequests = 0;
    aws.dynamodb.middlewareStack.add(
      (next) => async (args) => {
        dynamoRequests++;
        return next(args);
      },
      { step: "initialize", name: "benchRequestCounter" },
    );
    const logger = createLogger("bench", "SILENT");
    const worker = createChatWorkerHandler(buildWorkerDeps(config, aws, { logger }));
    const archiver = createArchiverHandler(buildArchiverDeps(config, aws, { logger }));
    const conversation: ConversationRef = {
      platform: "slack",
      channelId: "C0BENCH",
      userId: "U0BENCH",
    };
    const conversations = new ConversationStore({
      client: aws.documents,
      tableName: config.memoryTableName,
    });
    // DynamoDB Local runs on a JVM: warm it up, or the first turns measure the JIT compiler.
    const warmup: ConversationRef = { ...conversation, userId: "U0WARMUP" };
    for (let i = 0; i < WARMUP_TURNS; i++) {
      await conversations.appendTurn(warmup, {
        jobId: `warmup-${i}`,
        messages: [{ role: "user", content: `warm-up ${i}`, sentAt: i }],
        nowMs: i,
      });
      await conversations.recent(warmup, contextLimit(config.archiveHighWater));
    }

    const llmCalls: number[] = [];
    const requests: number[] = [];
    const contextReadMs = new Map<number, number>();
    for (let turn = 1; turn <= TURNS; turn++) {
      const callsBefore = anthropic.requests.length;
      const requestsBefore = dynamoRequests;
      const ts = `${1_790_000_000 + turn}.000100`;
      const job = {
        v: 2,
        jobId: `slack:${conversation.channelId}:${ts}`,
        source: { kind: "slack-events", eventId: `Ev-bench-${turn}` },
        conversation,
        text: `turn ${turn}: what about deployment window number ${turn}?`,
        sentAt: Math.round(Number(ts) * 1000),
        reply: {
          platform: "slack",
          via: "direct",
          address: { channel: conversation.channelId, threadTs: ts },
        },
      };
      const out = await worker(sqsEvent([job]), localLambdaContext("chat-worker", 90_000));
      if (out.batchItemFailures.length > 0) throw new Error(`turn ${turn} failed`);
      const drained = await drainQueue({ aws, queueUrl: archive.queueUrl, handler: archiver });
      if (drained.failed > 0) throw new Error(`archiving after turn ${turn} failed`);
      llmCalls.push(anthropic.requests.length - callsBefore);
      requests.push(dynamoRequests - requestsBefore);
      if (CONTEXT_AT_TURNS.has(turn)) {
        const samples: number[] = [];
        for (let i = 0; i < CONTEXT_READS; i++) {
          const start = process.hrtime.bigint();
          await conversations.recent(conversation, contextLimit(config.archiveHighWater));
          samples.push(Number(process.hrtime.bigint() - start) / 1e6);
        }
        contextReadMs.set(turn, median(samples));
      }
    }
    const summaries = await new SummaryStore({
      client: aws.documents,
      tableName: config.memoryTableName,
    }).listForUser(conversation.platform, conversation.userId);
    return {
      llmCallsEarly: mean(llmCalls.slice(0, 20)),
      llmCallsLate: mean(llmCalls.slice(20)),
      summaryCalls: anthropic.requests.filter(isSummaryRequest).length,
      messagesPerSummary: summaries.map((s) => s.messageCount),
      dynamoRequestsPerTurn: mean(requests),
      dynamoRequestsEarly: mean(requests.slice(0, 20)),
      dynamoRequestsLate: mean(requests.slice(20)),
      contextReadMs,
    };
  } finally {
    await Promise.all([anthropic.close(), slack.close()]);
  }
}

const pass = (ok: boolean) => (ok ? "PASS" : "MISS");
const fixed = (n: number, digits = 2) => n.toFixed(digits);

function printConversation(f: ConversationFigures): void {
  const minPerSummary = Math.min(...f.messagesPerSummary);
  console.log(`\n(a) one ${TURNS}-turn conversation (worker + archiver, instant fakes)\n`);
  console.log("| Measure | Value | Target |");
  console.log("| --- | ---: | --- |");
  console.log(`| LLM calls per turn, turns 1–20 | ${fixed(f.llmCallsEarly)} | |`);
  console.log(
    `| LLM calls per turn, turns 21–${TURNS} | ${fixed(f.llmCallsLate)} | ≤ ${TARGETS.llmCallsPerTurnLate} ${pass(f.llmCallsLate <= TARGETS.llmCallsPerTurnLate)} |`,
  );
  console.log(
    `| summaries (calls) / messages per summary | ${f.messagesPerSummary.length} (${f.summaryCalls}) / ${f.messagesPerSummary.join(", ")} | ≥ ${TARGETS.messagesPerSummary} each ${pass(minPerSummary >= TARGETS.messagesPerSummary)} |`,
  );
  console.log(
    `| DynamoDB requests per turn (all / 1–20 / 21–${TURNS}) | ${fixed(f.dynamoRequestsPerTurn, 1)} / ${fixed(f.dynamoRequestsEarly, 1)} / ${fixed(f.dynamoRequestsLate, 1)} | ≤ ${TARGETS.dynamoRequestsPerTurn} ${pass(f.dynamoRequestsPerTurn <= TARGETS.dynamoRequestsPerTurn)} |`,
  );
  for (const [turn, ms] of f.contextReadMs) {
    console.log(
      `| context read at turn ${turn}, ms (median of ${CONTEXT_READS}) | ${fixed(ms)} | |`,
    );
  }
}

function printRecall(rows: readonly RecallBenchRow[]): void {
  console.log("\n(b) recall per turn for one user (embedded search)\n");
  console.log(formatRecallRows(rows));
  console.log("\nTargets, warm container: recall ≤ 15 ms and ≤ 20 RCU per turn, flat from 50:\n");
  const old = new Map(
    rows.filter((r) => r.approach === "old: read all").map((r) => [r.summaries, r]),
  );
  for (const row of rows.filter((r) => r.approach === "cache warm")) {
    const ok = row.meanMs <= TARGETS.recallMs && row.readUnitsPerTurn <= TARGETS.recallReadUnits;
    const before = old.get(row.summaries);
    const ratio = before ? ` (${fixed(row.meanMs / before.meanMs)}× the read-all time)` : "";
    console.log(
      `  ${row.summaries} summaries: ${fixed(row.meanMs)} ms, ${fixed(row.readUnitsPerTurn, 1)} RCU${ratio} ${pass(ok)}`,
    );
  }
}

async function main(): Promise<void> {
  console.log(
    `bench:memory — ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  );
  const dynamo = await startDynamoDbLocal();
  const sqs = await startSqsEmulator();
  try {
    printConversation(await runConversationBench({ dynamodb: dynamo.endpoint, sqs: sqs.endpoint }));
    printRecall(await runRecallBench({ endpoint: dynamo.endpoint }));
  } finally {
    await Promise.all([dynamo.stop(), sqs.stop()]);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
