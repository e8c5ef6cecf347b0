/**
 * Agent-turn benchmark (`npm run bench:agent`): what one tool round adds to an answer, on the
 * real local stack (ingress, queue, worker, DynamoDB Local, fauxqs) with the test suite's Slack
 * and Anthropic fakes answering at once and the KĀDI broker fake serving the file abilities.
 *
 * Side by side, in the same run, each round posts three Slack mentions and times POST → the
 * finished answer:
 * - plain: the model answers in text (one model call);
 * - tool: the model calls `local_remote_create_temporary_url`, the broker answers at once, the
 *   model answers with the link (two model calls, one ability call, progress shown);
 * - slow tool: the same with the ability taking {@link SLOW_ABILITY_MS}.
 * The extra latency of a tool round is tool − plain (and slow tool − plain − the ability's own
 * time); the goal is ≤ 50 ms over the ability's own time. A benchmark, not a test: it exits 1
 * only when something is broken (no answer).
 *
 *   npm run bench:agent                 # 10 rounds, ~30 s
 *   npm run bench:agent -- --rounds 20
 */
import { randomUUID } from "node:crypto";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { startFakeAnthropic } from "../test/fakes/anthropic";
import { startFakeKadiBroker } from "../test/fakes/kadi-broker";
import { type LlmReply, lastToolResult } from "../test/fakes/llm-tools";
import { type FakeSlack, startFakeSlack } from "../test/fakes/slack";
import { appMentionEnvelope, postSlackEvent, TEST_SIGNING_SECRET } from "../test/support/slack";
import { median, percentile, startBenchStack, until } from "./support";

const BOT = "UBENCHAGENT";
const ABILITY = "local_remote_create_temporary_url";
/** The slow ability's own time, ms. */
const SLOW_ABILITY_MS = 200;
/** Goal: a tool round adds at most this much over the ability's own time, ms. */
const GOAL_MS = 50;

const { values } = parseArgs({ options: { rounds: { type: "string", default: "10" } } });
const rounds = Number(values.rounds);

/** The fake model: a link request calls the ability, then answers with its URL. */
function model(req: { body: Record<string, unknown> }): LlmReply {
  const messages = (req.body.messages ?? []) as { role: string; content: unknown }[];
  const asked = messages.findLast((m) => m.role === "user" && typeof m.content === "string");
  if (!String(asked?.content ?? "").includes("link")) return "Plain answer.";
  const result = lastToolResult(req as Parameters<typeof lastToolResult>[0]);
  if (!result) {
    return {
      toolCalls: [{ name: ABILITY, input: { filePath: "/srv/build.tar", expiresIn: "1h" } }],
    };
  }
  return `Here is your link: ${String((JSON.parse(result.content) as { publicUrl?: string }).publicUrl)}`;
}

/** POST → finished answer, ms, for one mention in a thread of its own. */
async function answerMs(url: string, slack: FakeSlack, text: string): Promise<number> {
  const ts = `${Math.floor(Date.now() / 1000)}.${String(Math.floor(Math.random() * 1e6)).padStart(6, "0")}`;
  const channel = `C0BA${randomUUID().slice(0, 6).toUpperCase()}`;
  const envelope = appMentionEnvelope({
    eventId: `Ev-bench-agent-${randomUUID()}`,
    text,
    botUserId: BOT,
    channel,
    ts,
  });
  const posted = Date.now();
  const status = await postSlackEvent(url, envelope);
  if (status !== 200) throw new Error(`mention not acked: ${status}`);
  const finished = await until(
    () => slack.finishedAt({ channel, threadTs: ts }),
    30_000,
    `the answer to "${text}"`,
  );
  return finished - posted;
}

const p90 = (xs: number[]) => percentile(xs, 0.9);

async function main(): Promise<void> {
  // The AWS SDK's Node-version notice (its documented switch; this process only).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  console.log(
    `agent tool round: instant fake model and abilities, slow ability ${SLOW_ABILITY_MS} ms; ` +
      `${rounds} rounds (${cpus().length} CPUs, Node ${process.version})`,
  );
  const anthropic = await startFakeAnthropic({ apiKey: "sk-ant-bench" });
  anthropic.setReply(model);
  const slack = await startFakeSlack({ token: "xoxb-bench", botUserId: BOT });
  const broker = await startFakeKadiBroker({ fileAbilities: true });
  const { stack, stop } = await startBenchStack("bench-agent", {
    ANTHROPIC_API_KEY: "sk-ant-bench",
    ANTHROPIC_BASE_URL: anthropic.url,
    SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
    SLACK_BOT_TOKEN: "xoxb-bench",
    SLACK_BOT_USER_ID: BOT,
    SLACK_API_URL: slack.url,
    KADI_BROKER_URL: broker.url,
    DATA_DIR: `/tmp/bench-agent-${randomUUID()}`,
    REPLY_MODEL_FOOTER: "false",
  });
  try {
    // Warm-up: connections, the first broker session and its ability list (cached 60 s).
    await answerMs(stack.url, slack, "hello");
    await answerMs(stack.url, slack, "a download link please");
    const plain: number[] = [];
    const tool: number[] = [];
    const slow: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      plain.push(await answerMs(stack.url, slack, `hello, round ${round}`));
      broker.scriptAbility(ABILITY, undefined);
      tool.push(await answerMs(stack.url, slack, `a download link, round ${round}`));
      broker.scriptAbility(ABILITY, { kind: "slow", delayMs: SLOW_ABILITY_MS });
      slow.push(await answerMs(stack.url, slack, `a slow download link, round ${round}`));
    }
    broker.scriptAbility(ABILITY, undefined);
    const row = (name: string, xs: number[]) =>
      console.log(
        `${name.padEnd(30)}${median(xs).toFixed(0).padStart(7)} ms  p90 ${p90(xs).toFixed(0).padStart(5)} ms  ` +
          `${(median(xs) / median(plain)).toFixed(2)}× plain`,
      );
    console.log("POST → finished answer (median of each)");
    row("plain answer (1 model call)", plain);
    row("one tool round (instant)", tool);
    row(`one tool round (${SLOW_ABILITY_MS} ms ability)`, slow);
    const extra = median(tool) - median(plain);
    const extraSlow = median(slow) - median(plain) - SLOW_ABILITY_MS;
    console.log(
      `extra latency of a tool round over the ability's own time: ${extra.toFixed(0)} ms (instant), ` +
        `${extraSlow.toFixed(0)} ms (${SLOW_ABILITY_MS} ms ability) → goal ≤ ${GOAL_MS} ms: ` +
        `${Math.max(extra, extraSlow) <= GOAL_MS ? "met" : "missed"}`,
    );
  } finally {
    await stop();
    await Promise.all([anthropic.close(), slack.close(), broker.close()]);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
