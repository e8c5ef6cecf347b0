import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwsClients } from "../../core/compose/aws";
import { buildListenerDeps } from "../../core/compose/kadi";
import type { Config } from "../../core/config";
import { ConfigError, loadConfig } from "../../core/config";
import { createKadiClient } from "../../core/kadi/client";
import { generateKeyPair } from "../../core/kadi/keys";
import { type ListenerSession, openListenerSession } from "../../core/kadi/session";
import type { KadiClient } from "../../core/kadi/types";
import { createLogger } from "../../core/logger";
import { SummaryStore } from "../../core/memory/long-term";
import { SqsChatQueue } from "../../core/queue/chat-queue";
import { FAKE_KADI_ERRORS, type FakeKadiBroker, startFakeKadiBroker } from "../fakes/kadi-broker";
import { testAws, testConfig } from "../support/aws";

/**
 * Who may read a person's memory through the agent's KĀDI tools. The broker forwards a tool
 * call to its provider as `{toolName, toolInput}` only (the fake does as the real one), so the
 * agent cannot tell one calling agent from another: `chat` and `memory_search` are served to
 * every agent with `KADI_TRUSTED_AGENTS=*` and to none without it.
 */

const logger = createLogger("kadi-trust-test", "SILENT");
const ALICE = "U0ALICETRUST";
let broker: FakeKadiBroker;
let aws: AwsClients;
let config: Config;
const turns: string[] = [];
const open: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  broker = await startFakeKadiBroker();
  const setup = await testAws(
    testConfig({
      KADI_BROKER_URL: broker.url,
      KADI_NETWORKS: "global",
      KADI_PRIVATE_KEY: generateKeyPair().privateKeyPem,
    }),
    { queue: `kadi-trust-${Date.now()}` },
  );
  aws = setup.aws;
  config = setup.config;
  await new SummaryStore({ client: aws.documents, tableName: config.memoryTableName }).put({
    id: `slack#C1#${ALICE}#000000000012`,
    platform: "slack",
    userId: ALICE,
    channelId: "C1",
    text: "Alice told the agent her bank PIN hint: the year of the Lisbon trip.",
    fromMessageId: "000000000001",
    toMessageId: "000000000012",
    messageCount: 12,
    createdAt: 1_700_000_000_000,
  });
});

afterAll(async () => {
  await Promise.allSettled(open.map((stop) => stop()));
  await broker?.close();
});

/** Our agent's listener session with `KADI_TRUSTED_AGENTS` set to `trusted` (or unset). */
async function agentSession(trusted: string | undefined, name: string): Promise<ListenerSession> {
  const deps = buildListenerDeps(
    { ...config, kadi: { ...config.kadi, agentName: name, trustedAgents: trusted } },
    aws,
    {
      runTurn: async (job) => {
        turns.push(job.conversation.userId);
        return { outcome: "answered", text: "ok", messageId: "inline", postedAt: 0 };
      },
      queue: new SqsChatQueue(aws.sqs, config.chatQueueUrl as string),
      logger,
    },
  );
  const session = await openListenerSession(deps);
  open.push(() => session.stop());
  return session;
}

/** Another agent on the broker, the kind that must not read Alice's memory unless trusted. */
async function otherAgent(): Promise<KadiClient> {
  const client = createKadiClient({
    url: broker.url,
    privateKey: generateKeyPair().privateKey,
    agentName: `other-${open.length}`,
    networks: ["global"],
    logger,
  });
  open.push(() => client.close());
  await client.connect();
  return client;
}

const search = { userId: ALICE, query: "Lisbon PIN" };

describe("KĀDI memory tools and KADI_TRUSTED_AGENTS", () => {
  it("unset: chat and memory_search are neither registered nor answered", async () => {
    const session = await agentSession(undefined, "agent-untrusting");
    const ours = broker.agents().find((a) => a.agentId === session.client.agentId);
    expect(ours?.tools.map((t) => t.name)).toEqual([
      "memory_store_knowledge",
      "memory_get_knowledge",
    ]);

    // Through the broker: no agent provides the tool.
    const caller = await otherAgent();
    for (const [tool, input] of [
      ["memory_search", search],
      ["chat", { userId: ALICE, channelId: "C1", text: "what did I tell you?" }],
    ] as const) {
      await expect(caller.invokeTool("agent-untrusting", tool, input, 5_000)).rejects.toMatchObject(
        { kind: "tool_error", code: FAKE_KADI_ERRORS.noProvider },
      );
    }
    // Sent straight to the agent (as a broker that routed it anyway would): -32601.
    const direct = await broker.callAgent(
      session.client.agentId as string,
      "kadi.ability.request",
      {
        toolName: "memory_search",
        toolInput: search,
      },
    );
    expect(direct).toMatchObject({ error: { code: -32601 } });
    expect(JSON.stringify(direct)).not.toContain("Lisbon");
    expect(turns).toEqual([]);

    // The knowledge tools stay open: they hold no one's conversation.
    await expect(
      caller.invokeTool("agent-untrusting", "memory_get_knowledge", { key: "faq" }, 5_000),
    ).resolves.toEqual({ found: false, key: "faq" });
  });

  it("*: every agent on the broker may read memory", async () => {
    await agentSession("*", "agent-trusting");
    const caller = await otherAgent();
    const found = (await caller.invokeTool("agent-trusting", "memory_search", search, 5_000)) as {
      hits: { text: string }[];
    };
    expect(found.hits.map((h) => h.text)).toEqual([
      "Alice told the agent her bank PIN hint: the year of the Lisbon trip.",
    ]);
    await expect(
      caller.invokeTool(
        "agent-trusting",
        "chat",
        { userId: ALICE, channelId: "C1", text: "hi" },
        5_000,
      ),
    ).resolves.toMatchObject({ text: "ok", outcome: "answered" });
    expect(turns).toEqual([ALICE]);
  });

  it("a list of agents is refused at start: the broker names no caller to check it against", () => {
    for (const value of ["agent-1", "agent-1,agent-2", "MCowBQYDK2VwAyEA", "**"]) {
      expect(() => loadConfig({ env: { KADI_TRUSTED_AGENTS: value } })).toThrow(ConfigError);
    }
    expect(loadConfig({ env: { KADI_TRUSTED_AGENTS: " * " } }).kadi.trustedAgents).toBe("*");
    expect(loadConfig({ env: {} }).kadi.trustedAgents).toBeUndefined();
  });
});
