import { describe, expect, it } from "vitest";
import { createAbilityCatalog } from "../../../core/agent/abilities";
import { createApprovalPolicy } from "../../../core/agent/approval-policy";
import { createToolbox } from "../../../core/agent/toolbox";
import {
  type AbilityBroker,
  type BrokerAbility,
  type ToolContext,
  ToolError,
} from "../../../core/agent/types";
import { DEFAULT_APPROVAL_REQUIRED, DEFAULT_TOOL_ALLOWLIST } from "../../../core/constants/agent";
import type { KnowledgeStore } from "../../../core/memory/knowledge";
import type { PreferenceStore } from "../../../core/memory/preferences";
import { captureLog } from "../../support/log-capture";

const ABILITIES: BrokerAbility[] = [
  {
    name: "local_remote_create_temporary_url",
    description: "Create a temporary shareable URL",
    inputSchema: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties: { filePath: { type: "string" } },
      required: ["filePath"],
    },
  },
  { name: "cloud_upload_file", description: "Upload a file", inputSchema: { type: "object" } },
  { name: "execute_remote_command", inputSchema: { type: "string" } },
  { name: "deploy_to_akash", description: "not on the allowlist" },
  { name: "bad name with spaces", description: "refused by both model APIs" },
  { name: "search_memory", description: "a broker ability named like an own tool" },
];

/** An in-process {@link AbilityBroker}: scripted listings and answers, every call recorded. */
class StubBroker implements AbilityBroker {
  listings = 0;
  calls: { name: string; input: unknown; timeoutMs: number }[] = [];
  list: () => Promise<BrokerAbility[]> = async () => ABILITIES;
  answer: (name: string) => Promise<unknown> = async () => ({ success: true });

  listAbilities(): Promise<BrokerAbility[]> {
    this.listings += 1;
    return this.list();
  }
  invokeTool(_target: string | undefined, name: string, input: unknown, timeoutMs: number) {
    this.calls.push({ name, input, timeoutMs });
    return this.answer(name);
  }
}

function setup(overrides: { allowlist?: string[]; waitMs?: number } = {}) {
  const broker = new StubBroker();
  const log = captureLog();
  let clock = 1_000_000;
  const catalog = createAbilityCatalog({
    broker,
    networks: ["global"],
    allowlist: overrides.allowlist ?? [...DEFAULT_TOOL_ALLOWLIST, "search_memory"],
    approval: createApprovalPolicy(DEFAULT_APPROVAL_REQUIRED),
    cacheMs: 60_000,
    retryMs: 10_000,
    waitMs: overrides.waitMs ?? 1_000,
    now: () => clock,
    logger: log.logger,
  });
  return { broker, log, catalog, advance: (ms: number) => (clock += ms), now: () => clock };
}

const ctx = (deadlineMs: number): ToolContext => ({
  conversation: { platform: "slack", channelId: "C1", userId: "U1" },
  jobId: "job-1",
  deadlineMs,
});

describe("ability catalog", () => {
  it("offers the allowed abilities with valid names, labelled, with object schemas", async () => {
    const { catalog, log } = setup();
    const tools = await catalog.tools();
    expect(tools.map((t) => t.name)).toEqual([
      "local_remote_create_temporary_url",
      "cloud_upload_file",
      "execute_remote_command",
      "search_memory",
    ]);
    const [link, upload, ssh] = tools;
    expect(link).toMatchObject({
      source: "kadi",
      label: "download link",
      needsApproval: false,
      inputSchema: { type: "object", required: ["filePath"] },
    });
    expect(link?.inputSchema).not.toHaveProperty("$schema");
    expect(upload?.label).toBe("cloud upload");
    expect(ssh).toMatchObject({
      needsApproval: true,
      description: "KĀDI ability execute_remote_command",
      inputSchema: { type: "object", additionalProperties: true },
    });
    const warning = log
      .records()
      .find((r) => String(r.message).includes("names the model APIs refuse"));
    expect(warning).toMatchObject({ skipped: 1 });
    expect(log.lines.join("\n")).not.toContain("bad name with spaces");
  });

  it("lists once per cache period, shared by concurrent turns", async () => {
    const { broker, catalog, advance } = setup();
    await Promise.all([catalog.tools(), catalog.tools(), catalog.tools()]);
    await catalog.tools();
    expect(broker.listings).toBe(1);
    advance(59_999);
    await catalog.tools();
    expect(broker.listings).toBe(1);
    advance(1);
    await catalog.tools();
    expect(broker.listings).toBe(2);
  });

  it("filters by *-globs", async () => {
    const { catalog } = setup({ allowlist: ["cloud_*", "*_temporary_url"] });
    expect((await catalog.tools()).map((t) => t.name)).toEqual([
      "local_remote_create_temporary_url",
      "cloud_upload_file",
    ]);
  });

  it("gives no broker tools when the listing fails, and asks again after the retry period", async () => {
    const { broker, catalog, log, advance } = setup();
    broker.list = async () => {
      throw Object.assign(new Error("not connected"), { kind: "network" });
    };
    await expect(catalog.tools()).resolves.toEqual([]);
    expect(log.records().some((r) => r.kind === "network" && r.level === "WARN")).toBe(true);
    advance(9_999);
    await catalog.tools();
    expect(broker.listings).toBe(1);
    broker.list = async () => ABILITIES;
    advance(1);
    expect((await catalog.tools()).length).toBe(4);
  });

  it("starts a turn without broker tools when the listing is slow, and caches it when it comes", async () => {
    const { broker, catalog } = setup({ waitMs: 20 });
    let release: (abilities: BrokerAbility[]) => void = () => {};
    broker.list = () => new Promise((resolve) => (release = resolve));
    await expect(catalog.tools()).resolves.toEqual([]);
    release(ABILITIES);
    await new Promise((r) => setTimeout(r, 0));
    expect((await catalog.tools()).length).toBe(4);
    expect(broker.listings).toBe(1);
  });

  it("calls with the time left as timeout and maps KĀDI errors by kind", async () => {
    const { broker, catalog, now } = setup();
    const [link] = await catalog.tools();
    if (!link) throw new Error("no tool");
    broker.answer = async () => ({ success: true, publicUrl: "https://x/build.tar" });
    await expect(link.run({ filePath: "/b" }, ctx(now() + 5_000))).resolves.toMatchObject({
      publicUrl: "https://x/build.tar",
    });
    expect(broker.calls.at(-1)).toEqual({
      name: "local_remote_create_temporary_url",
      input: { filePath: "/b" },
      timeoutMs: 5_000,
    });
    for (const [kind, expected] of [
      ["timeout", "timeout"],
      ["network", "unavailable"],
      ["closed", "unavailable"],
      ["tool_error", "failed"],
    ] as const) {
      broker.answer = async () => {
        throw Object.assign(new Error(`boom with sk-ant-abcdefghijklmnopqrstuv`), { kind });
      };
      const error = await link.run({}, ctx(now() + 5_000)).catch((e: unknown) => e);
      expect(error, kind).toBeInstanceOf(ToolError);
      expect((error as ToolError).kind, kind).toBe(expected);
      expect((error as ToolError).message).not.toContain("sk-ant");
    }
    const late = await link.run({}, ctx(now())).catch((e: unknown) => e);
    expect(late).toMatchObject({ kind: "timeout" });
    broker.answer = async () => ({ success: false, error: "Unknown service: icloud" });
    await expect(link.run({}, ctx(now() + 5_000))).rejects.toMatchObject({
      kind: "failed",
      message: "local_remote_create_temporary_url failed: Unknown service: icloud",
    });
  });
});

describe("toolbox", () => {
  const own = {
    preferences: {} as PreferenceStore,
    knowledge: {} as KnowledgeStore,
  };

  it("offers the own tools first, the broker's after, and leaves out approval tools without buttons", async () => {
    const broker = new StubBroker();
    const log = captureLog();
    const toolbox = createToolbox({
      own,
      broker,
      networks: ["global"],
      allowlist: [...DEFAULT_TOOL_ALLOWLIST, "search_memory"],
      approvalRequired: DEFAULT_APPROVAL_REQUIRED,
      now: () => 0,
      logger: log.logger,
    });
    const withButtons = await toolbox.toolsFor({ canAskApproval: true });
    expect(withButtons.map((t) => `${t.source}:${t.name}`)).toEqual([
      "agent:search_memory",
      "agent:remember_preference",
      "agent:forget_preference",
      "agent:store_knowledge",
      "agent:get_knowledge",
      "kadi:local_remote_create_temporary_url",
      "kadi:cloud_upload_file",
      "kadi:execute_remote_command",
    ]);
    expect(withButtons.filter((t) => t.source === "agent").every((t) => !t.needsApproval)).toBe(
      true,
    );
    const relay = await toolbox.toolsFor({ canAskApproval: false });
    expect(relay.map((t) => t.name)).not.toContain("execute_remote_command");
    expect(relay.map((t) => t.name)).toContain("cloud_upload_file");
    expect(log.records().some((r) => String(r.message).includes("shadowed"))).toBe(true);
  });

  it("offers only the own tools without a broker", async () => {
    const toolbox = createToolbox({
      own,
      networks: ["global"],
      allowlist: DEFAULT_TOOL_ALLOWLIST,
      approvalRequired: DEFAULT_APPROVAL_REQUIRED,
      now: () => 0,
      logger: captureLog().logger,
    });
    expect((await toolbox.toolsFor({ canAskApproval: true })).length).toBe(5);
  });
});
