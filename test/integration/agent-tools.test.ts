import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditToolCall, toolCallRecord } from "../../core/agent/audit";
import { jsonBytes } from "../../core/agent/redact";
import { createToolbox } from "../../core/agent/toolbox";
import { type AgentTool, type ToolContext, ToolError } from "../../core/agent/types";
import { createLazyKadiInvoker } from "../../core/compose/kadi";
import type { Config } from "../../core/config";
import { createKadiClient } from "../../core/kadi/client";
import { generateKeyPair } from "../../core/kadi/keys";
import { createLogger } from "../../core/logger";
import { KnowledgeStore } from "../../core/memory/knowledge";
import { createLongTermIndex, SummaryStore } from "../../core/memory/long-term";
import { PreferenceStore } from "../../core/memory/preferences";
import { type FakeKadiBroker, startFakeKadiBroker } from "../fakes/kadi-broker";
import { testAws, testConfig } from "../support/aws";
import { captureLog } from "../support/log-capture";

const NOW = 1_700_000_000_000;
const alice = { platform: "slack" as const, channelId: "C1", userId: "U1" };
const bob = { platform: "slack" as const, channelId: "C1", userId: "U2" };

let config: Config;
let preferences: PreferenceStore;
let knowledge: KnowledgeStore;
let broker: FakeKadiBroker;
let invoker: ReturnType<typeof createLazyKadiInvoker>;
let tools: Map<string, AgentTool>;
let relayTools: string[];
const log = captureLog("agent-tools-test");

const ctx = (conversation = alice, budgetMs = 5_000): ToolContext => ({
  conversation,
  jobId: "job-1",
  deadlineMs: Date.now() + budgetMs,
});

function tool(name: string): AgentTool {
  const found = tools.get(name);
  if (!found) throw new Error(`no tool ${name}`);
  return found;
}

beforeAll(async () => {
  const made = await testAws(testConfig());
  config = made.config;
  const table = { client: made.aws.documents, tableName: config.memoryTableName };
  const summaries = new SummaryStore(table);
  await summaries.put({
    id: "slack#C1#U1#01HZZZZZZZZZZZZZZZZZZZZZZZ",
    platform: "slack",
    userId: "U1",
    channelId: "C1",
    text: "Alice shared build.tar from her server and uploaded it to Dropbox /Builds.",
    fromMessageId: "01HAAAAAAAAAAAAAAAAAAAAAAA",
    toMessageId: "01HZZZZZZZZZZZZZZZZZZZZZZZ",
    messageCount: 12,
    createdAt: NOW,
  });
  preferences = new PreferenceStore(table);
  knowledge = new KnowledgeStore(table);
  broker = await startFakeKadiBroker({ fileAbilities: true });
  invoker = createLazyKadiInvoker(() =>
    createKadiClient({
      url: broker.url,
      privateKey: generateKeyPair().privateKey,
      agentName: "chat-worker",
      networks: config.kadi.networks,
      logger: createLogger("agent-tools-test", "SILENT"),
      requestTimeoutMs: 2_000,
    }),
  );
  const toolbox = createToolbox({
    own: { longTerm: createLongTermIndex(config, { summaries }), preferences, knowledge },
    broker: invoker,
    networks: config.kadi.networks,
    allowlist: config.agent.toolAllowlist,
    approvalRequired: config.agent.approvalRequired,
    now: Date.now,
    logger: log.logger,
  });
  const offered = await toolbox.toolsFor({ canAskApproval: true });
  tools = new Map(offered.map((t) => [t.name, t]));
  relayTools = (await toolbox.toolsFor({ canAskApproval: false })).map((t) => t.name);
});

afterAll(async () => {
  await invoker?.close();
  await broker?.close();
});

describe("the agent's own tools (DynamoDB Local)", () => {
  it("searches only the asking person's archived summaries", async () => {
    const found = (await tool("search_memory").run({ query: "build.tar Dropbox" }, ctx())) as {
      hits: { text: string }[];
    };
    expect(found.hits.map((h) => h.text)).toEqual([
      "Alice shared build.tar from her server and uploaded it to Dropbox /Builds.",
    ]);
    const other = (await tool("search_memory").run({ query: "build.tar Dropbox" }, ctx(bob))) as {
      hits: unknown[];
    };
    expect(other.hits).toEqual([]);
  });

  it("remembers and forgets a preference of the asking person, checking a model name", async () => {
    await tool("remember_preference").run({ key: "model", value: "sonnet" }, ctx());
    await tool("remember_preference").run({ key: "timezone", value: "Europe/Lisbon" }, ctx());
    expect(await preferences.getAll("slack", "U1")).toEqual({
      model: "sonnet",
      timezone: "Europe/Lisbon",
    });
    expect(await preferences.getAll("slack", "U2")).toEqual({});
    await expect(
      tool("remember_preference").run({ key: "model", value: "gemini-9" }, ctx()),
    ).rejects.toMatchObject({ kind: "invalid_input", message: expect.stringContaining("value:") });
    await expect(
      tool("remember_preference").run({ key: "Bad Key", value: "x" }, ctx()),
    ).rejects.toMatchObject({ kind: "invalid_input", message: expect.stringContaining("key:") });
    await tool("forget_preference").run({ key: "timezone" }, ctx());
    expect(await preferences.getAll("slack", "U1")).toEqual({ model: "sonnet" });
  });

  it("stores and reads shared knowledge, authored by the asking person", async () => {
    const stored = await tool("store_knowledge").run(
      { key: "build-server", value: "builds live on build-01" },
      ctx(),
    );
    expect(stored).toMatchObject({ key: "build-server", updatedAt: expect.any(Number) });
    expect(await tool("get_knowledge").run({ key: "build-server" }, ctx(bob))).toMatchObject({
      found: true,
      value: "builds live on build-01",
      author: "slack:U1",
    });
    expect(await tool("get_knowledge").run({ key: "nothing" }, ctx())).toEqual({
      found: false,
      key: "nothing",
    });
    await expect(
      tool("store_knowledge").run({ key: "big", value: "x".repeat(70_000) }, ctx()),
    ).rejects.toMatchObject({ kind: "invalid_input" });
    await expect(tool("get_knowledge").run({}, ctx())).rejects.toMatchObject({
      kind: "invalid_input",
      message: expect.stringContaining("key:"),
    });
  });

  it("reports a store that cannot be reached as unavailable", async () => {
    const broken = createToolbox({
      own: {
        preferences: new PreferenceStore({
          client: (await testAws(testConfig())).aws.documents,
          tableName: "missing-table",
        }),
        knowledge,
      },
      networks: [],
      allowlist: [],
      approvalRequired: [],
      now: Date.now,
      logger: log.logger,
    });
    const [, remember] = await broken.toolsFor({ canAskApproval: true });
    const error = await remember?.run({ key: "model", value: "sonnet" }, ctx()).catch((e) => e);
    expect(error).toBeInstanceOf(ToolError);
    expect(error).toMatchObject({ kind: "unavailable" });
  });
});

describe("broker abilities through the KĀDI client and the fake broker", () => {
  it("offers the file abilities, without the risky ones through the relay", () => {
    expect([...tools.keys()]).toEqual(
      expect.arrayContaining([
        "local_remote_create_temporary_url",
        "cloud_upload_file",
        "execute_remote_command",
        "start_registry",
      ]),
    );
    expect(tools.get("execute_remote_command")?.needsApproval).toBe(true);
    expect(relayTools).toContain("cloud_upload_file");
    expect(relayTools).not.toContain("execute_remote_command");
    expect(relayTools).not.toContain("start_registry");
    expect(tools.has("cloud_delete_file")).toBe(false);
  });

  it("gets a download link and uploads to cloud storage, each call run once", async () => {
    const link = await tool("local_remote_create_temporary_url").run(
      { filePath: "/srv/build.tar", expiresIn: "1h" },
      ctx(),
    );
    expect(link).toMatchObject({ publicUrl: expect.stringContaining("build.tar") });
    const upload = await tool("cloud_upload_file").run(
      { serviceName: "dropbox", localPath: "/srv/build.tar", remotePath: "/Builds/build.tar" },
      ctx(),
    );
    expect(upload).toMatchObject({ result: { remotePath: "/Builds/build.tar" } });
    expect(broker.abilityCalls("cloud_upload_file")).toHaveLength(1);
    const sent = broker.abilityCalls("local_remote_create_temporary_url")[0];
    expect(sent?.timeout).toBeGreaterThan(4_000);
    expect(sent?.timeout).toBeLessThanOrEqual(5_000);
  });

  it("reports a tool error, a failure answer and a timeout to the model as ToolErrors", async () => {
    broker.scriptAbility("cloud_list_files", { kind: "error", message: "dropbox token expired" });
    await expect(
      tool("cloud_list_files").run({ serviceName: "dropbox" }, ctx()),
    ).rejects.toMatchObject({ kind: "failed", message: expect.stringContaining("token expired") });
    await expect(
      tool("cloud_upload_file").run(
        { serviceName: "icloud", localPath: "a", remotePath: "/a" },
        ctx(),
      ),
    ).rejects.toMatchObject({
      kind: "failed",
      message: expect.stringContaining("Unknown service"),
    });
    broker.scriptAbility("download_file_from_remote", { kind: "timeout" });
    const started = Date.now();
    await expect(
      tool("download_file_from_remote").run(
        { username: "u", host: "h", remoteFilePath: "/a", localFilePath: "/b" },
        ctx(alice, 300),
      ),
    ).rejects.toMatchObject({ kind: "timeout" });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(broker.abilityCalls("download_file_from_remote")).toHaveLength(1);
  });

  it("offers only the own tools when the broker cannot list, and audits calls by size only", async () => {
    broker.setAbilityListError({ code: -32601, message: "method not found" });
    try {
      const toolbox = createToolbox({
        own: { preferences, knowledge },
        broker: invoker,
        networks: ["global"],
        allowlist: config.agent.toolAllowlist,
        approvalRequired: config.agent.approvalRequired,
        now: Date.now,
        logger: log.logger,
      });
      const offered = await toolbox.toolsFor({ canAskApproval: true });
      expect(offered.map((t) => t.source)).toEqual(["agent", "agent", "agent", "agent", "agent"]);
    } finally {
      broker.setAbilityListError(undefined);
    }
    const input = {
      serviceName: "dropbox",
      localPath: "/srv/id_rsa",
      remotePath: "/k",
      password: "hunter2-secret",
    };
    const result = await tool("cloud_upload_file").run(input, ctx());
    auditToolCall(log.logger, {
      jobId: "job-1",
      userId: "U1",
      tool: "cloud_upload_file",
      source: "kadi",
      durationMs: 12,
      outcome: "ok",
      inputBytes: jsonBytes(input),
      outputBytes: jsonBytes(result),
    });
    const line = log.records().find((r) => r.message === "tool call");
    expect(line).toMatchObject({
      tool: "cloud_upload_file",
      outcome: "ok",
      inputBytes: jsonBytes(input),
    });
    const all = log.lines.join("\n");
    expect(all).not.toContain("hunter2");
    expect(all).not.toContain("/srv/id_rsa");
    expect(
      toolCallRecord({ tool: "cloud_upload_file", input, result, durationMs: 12 }).input,
    ).not.toContain("hunter2");
  });
});
