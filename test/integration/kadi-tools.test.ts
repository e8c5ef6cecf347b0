import { beforeAll, describe, expect, it } from "vitest";
import type { ChatJob } from "../../core/chat/job";
import type { ReplyRecord } from "../../core/chat/turn";
import { KadiError } from "../../core/kadi/errors";
import { createKadiTools } from "../../core/kadi/tools";
import type { KadiToolDefinition } from "../../core/kadi/types";
import { KnowledgeStore } from "../../core/memory/knowledge";
import { createLongTermIndex, SummaryStore } from "../../core/memory/long-term";
import { testAws, testConfig } from "../support/aws";

let tools: Map<string, KadiToolDefinition>;
/** The tools served without `KADI_TRUSTED_AGENTS`. */
let knowledgeOnly: string[];
const turns: ChatJob[] = [];
const NOW = 1_700_000_000_000;

beforeAll(async () => {
  const { aws, config } = await testAws(testConfig());
  const summaries = new SummaryStore({ client: aws.documents, tableName: config.memoryTableName });
  await summaries.put({
    id: "slack#C1#U1#01HZZZZZZZZZZZZZZZZZZZZZZZ",
    platform: "slack",
    userId: "U1",
    channelId: "C1",
    text: "Alice planned a trip to Lisbon and asked about tram lines.",
    fromMessageId: "01HAAAAAAAAAAAAAAAAAAAAAAA",
    toMessageId: "01HZZZZZZZZZZZZZZZZZZZZZZZ",
    messageCount: 12,
    createdAt: NOW,
  });
  const runTurn = async (job: ChatJob): Promise<ReplyRecord> => {
    turns.push(job);
    return {
      outcome: "answered",
      text: `answer to ${job.text}`,
      model: "m1",
      messageId: "inline",
      postedAt: NOW,
    };
  };
  const list = createKadiTools({
    runTurn,
    longTerm: createLongTermIndex(config, { summaries }),
    knowledge: new KnowledgeStore({ client: aws.documents, tableName: config.memoryTableName }),
    now: () => NOW,
    trustedAgents: "*",
  });
  tools = new Map(list.map((t) => [t.name, t]));
  knowledgeOnly = createKadiTools({
    runTurn,
    knowledge: new KnowledgeStore({ client: aws.documents, tableName: config.memoryTableName }),
    now: () => NOW,
  }).map((t) => t.name);
});

function call(name: string, input: unknown): Promise<unknown> {
  const tool = tools.get(name);
  if (!tool) throw new Error(`no tool ${name}`);
  return tool.handler(input, { requestId: 7 });
}

async function invalid(name: string, input: unknown): Promise<KadiError> {
  const error = await call(name, input).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(KadiError);
  expect((error as KadiError).kind).toBe("invalid_params");
  return error as KadiError;
}

describe("KĀDI tools", () => {
  it("leaves out chat and memory_search unless every caller is trusted", () => {
    expect(knowledgeOnly).toEqual(["memory_store_knowledge", "memory_get_knowledge"]);
  });

  it("registers chat and the memory tools with JSON Schemas of their inputs (KADI_TRUSTED_AGENTS=*)", () => {
    expect([...tools.keys()]).toEqual([
      "chat",
      "memory_search",
      "memory_store_knowledge",
      "memory_get_knowledge",
    ]);
    expect(tools.get("chat")?.inputSchema).toMatchObject({
      type: "object",
      properties: {
        userId: { type: "string" },
        channelId: { type: "string" },
        text: { type: "string" },
        model: { type: "string" },
        platform: { enum: ["slack", "discord"], default: "slack" },
      },
      required: ["userId", "channelId", "text"],
    });
    expect(tools.get("memory_search")?.inputSchema).toMatchObject({
      properties: { limit: { type: "integer", maximum: 20 } },
      required: ["userId", "query"],
    });
  });

  it("chat runs one inline turn in the user's conversation and returns the reply text", async () => {
    const result = await call("chat", {
      userId: "U1",
      channelId: "C1",
      text: "what did I plan?",
      model: "haiku",
    });
    expect(result).toEqual({
      text: "answer to [haiku] what did I plan?",
      model: "m1",
      outcome: "answered",
    });
    const job = turns.at(-1);
    expect(job).toMatchObject({
      source: { kind: "kadi-tool" },
      conversation: { platform: "slack", channelId: "C1", userId: "U1" },
      reply: { platform: "slack", via: "inline", address: {} },
      sentAt: NOW,
    });
    expect(job?.jobId).toMatch(/^kadi-tool:/);
    await call("chat", { userId: "U9", channelId: "D9", text: "hi", platform: "discord" });
    expect(turns.at(-1)?.conversation.platform).toBe("discord");
    expect(turns.at(-1)?.jobId).not.toBe(job?.jobId);
  });

  it("chat rejects invalid input naming the field, without running a turn", async () => {
    const before = turns.length;
    expect((await invalid("chat", { userId: "U1", text: "hi" })).message).toContain("channelId");
    expect(
      (await invalid("chat", { userId: "U1", channelId: "C1", text: "hi", model: "llama" }))
        .message,
    ).toContain("model");
    await invalid("chat", { userId: "U1", channelId: "C1", text: "   " });
    await invalid("chat", undefined);
    expect(turns).toHaveLength(before);
  });

  it("memory_search finds that user's archived summaries", async () => {
    const result = (await call("memory_search", { userId: "U1", query: "Lisbon trams" })) as {
      hits: { id: string; channelId: string; text: string; score: number }[];
    };
    expect(result.hits).toHaveLength(1);
    expect(result.hits[0]).toMatchObject({ channelId: "C1", createdAt: NOW });
    expect(result.hits[0]?.text).toContain("Lisbon");
    expect(await call("memory_search", { userId: "U2", query: "Lisbon" })).toEqual({ hits: [] });
    await invalid("memory_search", { userId: "U1", query: "x", limit: 0 });
  });

  it("stores and reads knowledge entries", async () => {
    const stored = (await call("memory_store_knowledge", {
      key: "office-wifi",
      value: "guest / hunter2",
      author: "agent-x",
    })) as { key: string; updatedAt: number };
    expect(stored.key).toBe("office-wifi");
    expect(await call("memory_get_knowledge", { key: "office-wifi" })).toEqual({
      found: true,
      key: "office-wifi",
      value: "guest / hunter2",
      author: "agent-x",
      updatedAt: stored.updatedAt,
    });
    expect(await call("memory_get_knowledge", { key: "absent" })).toEqual({
      found: false,
      key: "absent",
    });
  });

  it("rejects an oversized knowledge value and a missing key as invalid params", async () => {
    await invalid("memory_store_knowledge", { key: "big", value: "x".repeat(70 * 1024) });
    await invalid("memory_get_knowledge", {});
  });
});
