import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAwsClients } from "../../core/compose/aws";
import { createKadiClient } from "../../core/kadi/client";
import { generateKeyPair, loadPrivateKey, publicKeyBase64 } from "../../core/kadi/keys";
import type { KadiClient, KadiToolDefinition } from "../../core/kadi/types";
import { DEFAULT_ANTHROPIC_MODEL } from "../../core/llm/models";
import { createLogger } from "../../core/logger";
import { ConversationStore } from "../../core/memory/conversations";
import { AGENT_KEY_FILE } from "../../local/kadi-key";
import { LOCAL_CREDENTIALS } from "../../local/services";
import { type LocalStack, startLocalStack } from "../../local/stack";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { type FakeKadiBroker, startFakeKadiBroker } from "../fakes/kadi-broker";
import { testAws, testConfig } from "../support/aws";
import { discordMentionChannel, slackMentionChannel } from "../support/kadi";
import { waitFor } from "../support/wait";

const SLACK_BOT = "UBOTKADIE2E";
const DISCORD_BOT = "223456789012345678";
const NETWORK = "global";
const logger = createLogger("kadi-e2e", "SILENT");

let anthropic: FakeAnthropic;
let broker: FakeKadiBroker;
let stack: LocalStack;
let dataDir: string;
/** Plays the broker's Slack and Discord agents: serves the reply tools, records their calls. */
let platformAgent: KadiClient;
/** Another agent that calls our `chat` tool. */
let caller: KadiClient;
const replies: { tool: string; input: Record<string, string> }[] = [];

function recordingTool(name: string): KadiToolDefinition {
  return {
    name,
    description: `fake ${name}`,
    inputSchema: { type: "object" },
    handler: async (input) => {
      replies.push({ tool: name, input: input as Record<string, string> });
      return { ok: true, ts: `9${replies.length}.000001` };
    },
  };
}

function agentClient(name: string, tools: KadiToolDefinition[] = []): KadiClient {
  return createKadiClient({
    url: broker.url,
    privateKey: generateKeyPair().privateKey,
    agentName: name,
    networks: [NETWORK],
    tools,
    logger,
    reconnect: { initialMs: 50, maxMs: 500 },
  });
}

/** Waits until our agent is registered with its tools and subscribed to both channels. */
function listenerReady() {
  return waitFor(() =>
    broker
      .agents()
      .find(
        (a) =>
          a.tools.some((t) => t.name === "chat") &&
          a.subscriptions.some((s) => s.channel === slackMentionChannel(SLACK_BOT)) &&
          a.subscriptions.some((s) => s.channel === discordMentionChannel(DISCORD_BOT)),
      ),
  );
}

function slackMention(ts: string, text: string, user = "U0ALICE", channel = "C0KADI") {
  return {
    id: ts,
    user,
    text: `<@${SLACK_BOT}> ${text}`,
    channel,
    thread_ts: ts,
    ts,
    bot_id: SLACK_BOT,
    timestamp: new Date().toISOString(),
  };
}

function newTs(): string {
  return `${Math.floor(Date.now() / 1000)}.${String(Math.floor(Math.random() * 1e6)).padStart(6, "0")}`;
}

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: "sk-ant-kadi" });
  broker = await startFakeKadiBroker();
  dataDir = await mkdtemp(join(tmpdir(), "kadi-e2e-"));
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-kadi",
      ANTHROPIC_BASE_URL: anthropic.url,
      SLACK_BOT_USER_ID: SLACK_BOT,
      DISCORD_BOT_USER_ID: DISCORD_BOT,
      KADI_BROKER_URL: broker.url,
      KADI_NETWORKS: NETWORK,
      // The `chat` tool is served only when every agent on the broker is trusted.
      KADI_TRUSTED_AGENTS: "*",
      DATA_DIR: dataDir,
      PORT: "0",
    }),
    { queue: `e2e-kadi-${Date.now()}` },
  );
  stack = await startLocalStack(setup.config, { inMemory: true });
  platformAgent = agentClient("chatbot", [
    recordingTool("slack_send_reply"),
    recordingTool("discord_send_reply"),
    recordingTool("discord_send_message"),
  ]);
  caller = agentClient("caller");
  await Promise.all([platformAgent.connect(), caller.connect()]);
  await listenerReady();
});

afterAll(async () => {
  await Promise.all([platformAgent?.close(), caller?.close()]);
  await stack?.stop();
  await Promise.all([broker?.close(), anthropic?.close()]);
  await rm(dataDir, { recursive: true, force: true });
});

beforeEach(() => {
  replies.length = 0;
  anthropic.reset();
});

describe("KĀDI broker → local stack → broker tools", () => {
  it("generated and kept the agent key under DATA_DIR, and authenticated with it", async () => {
    const pem = await readFile(join(dataDir, AGENT_KEY_FILE), "utf8");
    const ours = await listenerReady();
    expect(ours.publicKey).toBe(publicKeyBase64(loadPrivateKey(pem)));
    expect(ours.displayName).toBe("chat-agent");
    expect(ours.tools.map((t) => t.name).sort()).toEqual([
      "chat",
      "memory_get_knowledge",
      "memory_search",
      "memory_store_knowledge",
    ]);
  });

  it("answers a Slack mention from the broker through slack_send_reply in its thread", async () => {
    const ts = newTs();
    expect(
      broker.deliver(slackMentionChannel(SLACK_BOT), slackMention(ts, "hello via kadi"), NETWORK),
    ).toBe(1);
    const reply = await waitFor(() => replies.find((r) => r.tool === "slack_send_reply"));
    expect(reply.input).toEqual({
      channel: "C0KADI",
      thread_ts: ts,
      text: `fake-anthropic(${DEFAULT_ANTHROPIC_MODEL}): hello via kadi`,
    });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(replies).toHaveLength(1);
  });

  it("answers a Discord mention with discord_send_reply to the message", async () => {
    const id = "1170000000000000001";
    broker.deliver(
      discordMentionChannel(DISCORD_BOT),
      {
        id,
        user: "323456789012345678",
        username: "dora",
        text: `<@${DISCORD_BOT}> ping from discord`,
        channel: "423456789012345678",
        channelName: "general",
        guild: "523456789012345678",
        ts: new Date().toISOString(),
        bot_id: DISCORD_BOT,
        timestamp: new Date().toISOString(),
      },
      NETWORK,
    );
    const reply = await waitFor(() => replies.find((r) => r.tool === "discord_send_reply"));
    expect(reply.input).toEqual({
      channel: "423456789012345678",
      message_id: id,
      text: `fake-anthropic(${DEFAULT_ANTHROPIC_MODEL}): ping from discord`,
    });
  });

  it("survives a broker restart: reconnects, re-subscribes and answers the next event", async () => {
    await broker.stop();
    await broker.restart();
    await listenerReady();
    await waitFor(() =>
      broker.agents().some((a) => a.tools.some((t) => t.name === "slack_send_reply"))
        ? true
        : undefined,
    );
    const ts = newTs();
    expect(
      broker.deliver(slackMentionChannel(SLACK_BOT), slackMention(ts, "after restart"), NETWORK),
    ).toBe(1);
    const reply = await waitFor(() => replies.find((r) => r.tool === "slack_send_reply"));
    expect(reply.input).toMatchObject({
      thread_ts: ts,
      text: expect.stringContaining("after restart"),
    });
  });

  it("another agent's chat call is answered with that user's memory", async () => {
    const ts = newTs();
    broker.deliver(
      slackMentionChannel(SLACK_BOT),
      slackMention(ts, "my favourite colour is teal", "U0CAROL", "C0MEM"),
      NETWORK,
    );
    await waitFor(() => replies.find((r) => r.tool === "slack_send_reply"));
    const conversation = { platform: "slack" as const, channelId: "C0MEM", userId: "U0CAROL" };
    const aws = createAwsClients(stack.config, LOCAL_CREDENTIALS);
    const store = new ConversationStore({
      client: aws.documents,
      tableName: stack.config.memoryTableName,
    });
    await waitFor(async () => ((await store.recent(conversation)).length >= 2 ? true : undefined));

    const result = await caller.invokeTool(
      undefined,
      "chat",
      { userId: "U0CAROL", channelId: "C0MEM", text: "what is my favourite colour?" },
      30_000,
    );
    expect(result).toEqual({
      text: `fake-anthropic(${DEFAULT_ANTHROPIC_MODEL}): what is my favourite colour?`,
      model: DEFAULT_ANTHROPIC_MODEL,
      outcome: "answered",
    });
    const sent = JSON.stringify(anthropic.requests.at(-1)?.body);
    expect(sent).toContain("my favourite colour is teal");
    // The tool's turn is part of the same conversation now.
    const stored = await store.recent(conversation);
    expect(stored.map((m) => m.content)).toContain("what is my favourite colour?");
  });
});
