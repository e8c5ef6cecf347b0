/**
 * Local-stack concurrency benchmark (`npm run bench:local-concurrency`): 20 people mention the
 * bot at the same moment and the model takes 8 s per answer. For each `LOCAL_CHAT_CONCURRENCY`
 * asked for, the bench starts the real local stack (`startLocalStack`: ingress, outbox, chat
 * poller, worker) on DynamoDB Local and fauxqs with the test suite's fake Slack and Anthropic
 * servers, posts the 20 signed mentions at once, and prints when each reply was posted and the
 * ratio of the last reply's time to the model time (target ≤ 2×). A benchmark, not a test: it
 * exits 1 only when something is broken (a mention not acked or not answered).
 *
 *   npm run bench:local-concurrency                        # concurrency 1, 10 and 20, ~4 min
 *   npm run bench:local-concurrency -- --concurrency 10 --model-ms 8000
 */
import { randomUUID } from "node:crypto";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { createAwsClients } from "../core/compose/aws";
import { loadConfig } from "../core/config";
import {
  ensureQueueWithDlq,
  LOCAL_CREDENTIALS,
  startDynamoDbLocal,
  startSqsEmulator,
} from "../local/services";
import { startLocalStack } from "../local/stack";
import { startFakeAnthropic } from "../test/fakes/anthropic";
import { lastUserText } from "../test/fakes/http-fake";
import { startFakeSlack } from "../test/fakes/slack";
import {
  answers,
  appMentionEnvelope,
  signedHeaders,
  TEST_SIGNING_SECRET,
} from "../test/support/slack";

const PEOPLE = 20;
const TARGET_RATIO = 2;
const BOT = "UBENCHCONC";

const { values } = parseArgs({
  options: {
    concurrency: { type: "string", default: "1,10,20" },
    "model-ms": { type: "string", default: "8000" },
  },
});
const concurrencies = String(values.concurrency).split(",").map(Number);
const modelMs = Number(values["model-ms"]);

interface Run {
  concurrency: number;
  /** Seconds from the burst to each reply, in the order they were posted. */
  replySeconds: number[];
}

async function runOnce(
  concurrency: number,
  endpoints: { dynamodb: string; sqs: string },
  fakes: { anthropicUrl: string; slack: Awaited<ReturnType<typeof startFakeSlack>> },
): Promise<Run> {
  const config = loadConfig({
    env: {
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
      AWS_ENDPOINT_URL_SQS: endpoints.sqs,
      MEMORY_TABLE_NAME: `bench-conc-${randomUUID()}`,
      ANTHROPIC_API_KEY: "sk-ant-bench",
      ANTHROPIC_BASE_URL: fakes.anthropicUrl,
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_BOT_TOKEN: "xoxb-bench",
      SLACK_BOT_USER_ID: BOT,
      SLACK_API_URL: fakes.slack.url,
      LOCAL_CHAT_CONCURRENCY: String(concurrency),
      PORT: "0",
      LOG_LEVEL: "SILENT",
    },
  });
  const aws = createAwsClients(config, LOCAL_CREDENTIALS);
  const { queueUrl } = await ensureQueueWithDlq(aws.sqs, `bench-conc-${randomUUID()}`);
  aws.sqs.destroy();
  aws.dynamodb.destroy();
  const stack = await startLocalStack({ ...config, chatQueueUrl: queueUrl });
  fakes.slack.reset();
  try {
    const ts = (i: number) => `${Math.floor(Date.now() / 1000)}.${String(i).padStart(6, "0")}`;
    const bodies = Array.from({ length: PEOPLE }, (_, i) =>
      JSON.stringify(
        appMentionEnvelope({
          eventId: `Ev-bench-${randomUUID()}`,
          text: `question from person ${i + 1}`,
          botUserId: BOT,
          user: `U0PERSON${i + 1}`,
          channel: "C0BENCH",
          ts: ts(i + 1),
        }),
      ),
    );
    const burst = Date.now();
    const statuses = await Promise.all(
      bodies.map((body) =>
        fetch(`${stack.url}/slack/events`, {
          method: "POST",
          body,
          headers: signedHeaders(body),
        }).then((res) => res.status),
      ),
    );
    if (statuses.some((s) => s !== 200)) throw new Error(`not every mention acked: ${statuses}`);
    const seen: number[] = [];
    const deadline = burst + PEOPLE * modelMs + 60_000;
    while (seen.length < PEOPLE) {
      if (Date.now() > deadline) throw new Error(`only ${seen.length} of ${PEOPLE} answered`);
      const posted = answers(fakes.slack).length;
      while (seen.length < posted) seen.push((Date.now() - burst) / 1000);
      await new Promise((r) => setTimeout(r, 20));
    }
    return { concurrency, replySeconds: seen };
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  console.log(
    `local stack concurrency: ${PEOPLE} simultaneous mentions, model answers in ${modelMs} ms ` +
      `(${cpus().length} CPUs, Node ${process.version})`,
  );
  const dynamo = await startDynamoDbLocal();
  const sqs = await startSqsEmulator();
  const anthropic = await startFakeAnthropic({
    apiKey: "sk-ant-bench",
    reply: async ({ body }) => {
      await new Promise((r) => setTimeout(r, modelMs));
      return `answer to: ${lastUserText(body.messages)}`;
    },
  });
  const slack = await startFakeSlack({ token: "xoxb-bench", botUserId: BOT });
  const runs: Run[] = [];
  try {
    for (const concurrency of concurrencies) {
      const run = await runOnce(
        concurrency,
        { dynamodb: dynamo.endpoint, sqs: sqs.endpoint },
        { anthropicUrl: anthropic.url, slack },
      );
      runs.push(run);
      const last = run.replySeconds.at(-1) ?? Number.NaN;
      const ratio = (last * 1000) / modelMs;
      console.log(
        `\nLOCAL_CHAT_CONCURRENCY=${concurrency}: replies posted at (s) ` +
          run.replySeconds.map((s) => s.toFixed(1)).join(" "),
      );
      console.log(
        `  last reply ${last.toFixed(2)} s = ${ratio.toFixed(2)}× the model time ` +
          `(target ≤ ${TARGET_RATIO}×: ${ratio <= TARGET_RATIO ? "PASS" : "MISS"})`,
      );
    }
  } finally {
    await Promise.allSettled([anthropic.close(), slack.close(), sqs.stop(), dynamo.stop()]);
  }
  console.log(
    "\n| LOCAL_CHAT_CONCURRENCY | first reply (s) | median (s) | last (s) | last / model |",
  );
  console.log("| --- | --- | --- | --- | --- |");
  for (const run of runs) {
    const s = run.replySeconds;
    const last = s.at(-1) ?? Number.NaN;
    console.log(
      `| ${run.concurrency} | ${s[0]?.toFixed(1)} | ${s[Math.floor((s.length - 1) / 2)]?.toFixed(1)} | ` +
        `${last.toFixed(1)} | ${((last * 1000) / modelMs).toFixed(2)}× |`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
