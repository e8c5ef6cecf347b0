import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { createKadiClient } from "../../core/kadi/client";
import { generateKeyPair, publicKeyBase64, signNonce } from "../../core/kadi/keys";
import type { KadiClient, KadiClientOptions, KadiToolDefinition } from "../../core/kadi/types";
import { createLogger } from "../../core/logger";
import {
  FAKE_FILE_ABILITY_PROVIDER,
  FAKE_KADI_ERRORS,
  type FakeKadiBroker,
  startFakeKadiBroker,
} from "./kadi-broker";

/** A bare `ws` client that records every frame, so the wire shapes are asserted as sent. */
class RawClient {
  readonly frames: Record<string, unknown>[] = [];
  private nextId = 1;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => this.frames.push(JSON.parse(data.toString())));
  }

  static async open(url: string): Promise<RawClient> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new RawClient(ws);
  }

  send(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Sends a request with a numeric id and returns the whole answer frame. */
  async request(method: string, params: unknown): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    this.send({ jsonrpc: "2.0", id, method, params });
    return this.waitFor((f) => f.id === id && !("method" in f));
  }

  async waitFor(
    match: (frame: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>> {
    return vi.waitFor(
      () => {
        const frame = this.frames.find(match);
        if (frame === undefined) throw new Error("frame not received yet");
        return frame;
      },
      { timeout: 5_000, interval: 10 },
    );
  }

  /** hello → authenticate (→ register) with a fresh key; returns the agent id. */
  async login(displayName?: string, tools: unknown[] = []): Promise<string> {
    const { privateKey } = generateKeyPair();
    const hello = await this.request("kadi.session.hello", { role: "agent" });
    const nonce = (hello.result as { nonce: string }).nonce;
    const auth = await this.request("kadi.session.authenticate", {
      publicKey: publicKeyBase64(privateKey),
      signature: signNonce(privateKey, nonce),
      nonce,
      wantNewId: true,
    });
    const agentId = (auth.result as { agentId: string }).agentId;
    if (displayName !== undefined) {
      await this.request("kadi.agent.register", { tools, networks: ["global"], displayName });
    }
    return agentId;
  }

  close(): void {
    this.ws.terminate();
  }
}

describe("fake KĀDI broker", () => {
  let broker: FakeKadiBroker;
  const clients: RawClient[] = [];
  const open = async () => {
    const client = await RawClient.open(broker.url);
    clients.push(client);
    return client;
  };

  beforeEach(async () => {
    broker = await startFakeKadiBroker();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await broker.close();
  });

  it("issues a nonce on hello and accepts a valid Ed25519 signature over it", async () => {
    const client = await open();
    const { privateKey } = generateKeyPair();
    const hello = await client.request("kadi.session.hello", { role: "agent" });
    expect(hello.error).toBeUndefined();
    const nonce = (hello.result as { nonce: unknown }).nonce;
    expect(typeof nonce).toBe("string");

    const auth = await client.request("kadi.session.authenticate", {
      publicKey: publicKeyBase64(privateKey),
      signature: signNonce(privateKey, nonce as string),
      nonce,
      wantNewId: true,
    });
    expect(auth.error).toBeUndefined();
    const agentId = (auth.result as { agentId: unknown }).agentId;
    expect(agentId).toEqual(expect.any(String));

    await client.request("kadi.agent.register", {
      tools: [{ name: "echo", description: "echoes", inputSchema: { type: "object" } }],
      networks: ["global"],
      displayName: "raw-agent",
    });
    expect(broker.agents()).toEqual([
      expect.objectContaining({
        agentId,
        displayName: "raw-agent",
        networks: ["global"],
        tools: [{ name: "echo", description: "echoes", inputSchema: { type: "object" } }],
      }),
    ]);
  });

  it("rejects a signature made with another key, and a reused nonce", async () => {
    const client = await open();
    const signer = generateKeyPair().privateKey;
    const claimed = generateKeyPair().privateKey;
    const hello = await client.request("kadi.session.hello", { role: "agent" });
    const nonce = (hello.result as { nonce: string }).nonce;
    const forged = await client.request("kadi.session.authenticate", {
      publicKey: publicKeyBase64(claimed),
      signature: signNonce(signer, nonce),
      nonce,
      wantNewId: true,
    });
    expect(forged.error).toEqual({
      code: FAKE_KADI_ERRORS.authFailed,
      message: "invalid signature",
    });
    expect(forged.result).toBeUndefined();

    const replay = await client.request("kadi.session.authenticate", {
      publicKey: publicKeyBase64(signer),
      signature: signNonce(signer, nonce),
      nonce,
      wantNewId: true,
    });
    expect(replay.error).toMatchObject({ code: FAKE_KADI_ERRORS.authFailed });
    expect(broker.agents()).toEqual([]);
  });

  it("rejects subscribe and register before authentication, but answers ping", async () => {
    const client = await open();
    const sub = await client.request("kadi.event.subscribe", {
      channels: ["a"],
      networkId: "global",
    });
    expect(sub.error).toMatchObject({ code: FAKE_KADI_ERRORS.notAuthenticated });
    const reg = await client.request("kadi.agent.register", {
      tools: [],
      networks: ["global"],
      displayName: "x",
    });
    expect(reg.error).toMatchObject({ code: FAKE_KADI_ERRORS.notAuthenticated });
    const pong = await client.request("kadi.session.ping", {});
    expect(pong.result).toBe("pong");
  });

  it("stops answering pings when told to", async () => {
    const client = await open();
    broker.setAnswerPings(false);
    client.send({ jsonrpc: "2.0", id: 99, method: "kadi.session.ping", params: {} });
    const marker = await client.request("kadi.session.hello", { role: "agent" });
    expect(marker.result).toHaveProperty("nonce");
    expect(client.frames.some((f) => f.id === 99)).toBe(false);
  });

  it("black-holes current connections: open, mute both ways, while new ones work", async () => {
    const hole = await open();
    const holeId = await hole.login("hole");
    await hole.request("kadi.event.subscribe", { channels: ["news"], networkId: "global" });
    const bystander = await open();
    const bystanderId = await bystander.login("bystander");
    const framesBefore = hole.frames.length;

    expect(broker.blackholeConnections(holeId)).toBe(1);
    hole.send({ jsonrpc: "2.0", id: 99, method: "kadi.session.ping", params: {} });
    await vi.waitFor(() =>
      expect(broker.blackholed()).toEqual([
        expect.objectContaining({ agentId: holeId, id: 99, method: "kadi.session.ping" }),
      ]),
    );
    expect(broker.deliver("news", { n: 1 }, "global")).toBe(1);
    broker.sendRaw(holeId, JSON.stringify({ id: 5, result: "raw" }));
    await expect(broker.callAgent(holeId, "kadi.session.ping", {}, 100)).rejects.toThrow(
      /did not answer/,
    );
    const bystanderPong = await bystander.request("kadi.session.ping", {});
    expect(bystanderPong.result).toBe("pong");

    const fresh = await open();
    const freshId = await fresh.login("fresh");
    expect((await fresh.request("kadi.session.ping", {})).result).toBe("pong");

    expect(hole.frames).toHaveLength(framesBefore);
    expect(hole.ws.readyState).toBe(WebSocket.OPEN);
    expect(broker.agents().map((a) => a.agentId)).toEqual([holeId, bystanderId, freshId]);
    expect(broker.requests().some((r) => r.id === 99)).toBe(false);

    expect(broker.blackholeConnections()).toBe(3);
    fresh.send({ jsonrpc: "2.0", id: 7, method: "kadi.session.ping", params: {} });
    await vi.waitFor(() =>
      expect(broker.blackholed().map((r) => [r.agentId, r.id])).toEqual([
        [holeId, 99],
        [freshId, 7],
      ]),
    );
  });

  it("delivers published events to subscribers of that channel and network only", async () => {
    const publisher = await open();
    const subscriber = await open();
    const other = await open();
    await publisher.login("pub");
    await subscriber.login("sub");
    await other.login("other");
    await subscriber.request("kadi.event.subscribe", { channels: ["news"], networkId: "global" });
    await other.request("kadi.event.subscribe", { channels: ["news"], networkId: "private" });

    const missing = await publisher.request("kadi.event.publish", { channel: "news", data: 1 });
    expect(missing.error).toMatchObject({ code: FAKE_KADI_ERRORS.invalidParams });

    const published = await publisher.request("kadi.event.publish", {
      channel: "news",
      data: { n: 1 },
      networkId: "global",
    });
    expect(published.result).toMatchObject({ delivered: 1 });
    const delivery = await subscriber.waitFor((f) => f.method === "kadi.event.delivery");
    expect(delivery.params).toEqual({ channel: "news", data: { n: 1 } });
    expect(delivery.id).toBeUndefined();

    expect(broker.deliver("news", { n: 2 }, "private")).toBe(1);
    const second = await other.waitFor((f) => f.method === "kadi.event.delivery");
    expect(second.params).toEqual({ channel: "news", data: { n: 2 } });
    expect(subscriber.frames.filter((f) => f.method === "kadi.event.delivery")).toHaveLength(1);
  });

  it("routes a tool call: pending to the caller, string-id request to the provider, response notification", async () => {
    const provider = await open();
    const caller = await open();
    const providerId = await provider.login("slack", [
      { name: "slack_send_reply", description: "reply", inputSchema: { type: "object" } },
    ]);
    await caller.login("chat");

    const answer = await caller.request("kadi.ability.request", {
      toolName: "slack_send_reply",
      toolInput: { channel: "C1", thread_ts: "1.2", text: "hi" },
      timeout: 5_000,
    });
    expect(answer.result).toEqual({ status: "pending", requestId: expect.any(String) });
    const { requestId } = answer.result as { requestId: string };

    const forwarded = await provider.waitFor((f) => f.method === "kadi.ability.request");
    expect(typeof forwarded.id).toBe("string");
    expect(forwarded.params).toEqual({
      toolName: "slack_send_reply",
      toolInput: { channel: "C1", thread_ts: "1.2", text: "hi" },
    });
    provider.send({ id: forwarded.id, result: { ok: true, ts: "1.3" } });

    const response = await caller.waitFor((f) => f.method === "kadi.ability.response");
    expect(response.params).toEqual({ requestId, result: { ok: true, ts: "1.3" } });
    expect(broker.requests().map((r) => r.method)).toContain("kadi.ability.request");
    expect(broker.agents().find((a) => a.agentId === providerId)?.displayName).toBe("slack");
  });

  it("forwards a call without the caller's identity, whatever the caller claims", async () => {
    const provider = await open();
    const caller = await open();
    await provider.login("memory", [
      { name: "memory_search", description: "search", inputSchema: { type: "object" } },
    ]);
    await caller.login("chat");

    await caller.request("kadi.ability.request", {
      toolName: "memory_search",
      toolInput: { userId: "U1", query: "q" },
      callerAgentId: "trusted-agent",
      agentId: "trusted-agent",
      from: "trusted-agent",
      publicKey: "MCowBQYDK2VwAyEA",
    });
    const forwarded = await provider.waitFor((f) => f.method === "kadi.ability.request");
    expect(forwarded.params).toEqual({
      toolName: "memory_search",
      toolInput: { userId: "U1", query: "q" },
    });
  });

  it("forwards a provider's JSON-RPC error and rejects calls to tools nobody provides", async () => {
    const provider = await open();
    const caller = await open();
    await provider.login("slack", [
      { name: "slack_send_reply", description: "reply", inputSchema: { type: "object" } },
    ]);
    await caller.login("chat");

    const none = await caller.request("kadi.ability.request", { toolName: "nope", toolInput: {} });
    expect(none.error).toMatchObject({ code: FAKE_KADI_ERRORS.noProvider });

    const wrongTarget = await caller.request("kadi.ability.request", {
      targetAgent: "discord",
      toolName: "slack_send_reply",
      toolInput: {},
    });
    expect(wrongTarget.error).toMatchObject({ code: FAKE_KADI_ERRORS.noProvider });

    const answer = await caller.request("kadi.ability.request", {
      targetAgent: "slack",
      toolName: "slack_send_reply",
      toolInput: {},
    });
    const { requestId } = answer.result as { requestId: string };
    const forwarded = await provider.waitFor((f) => f.method === "kadi.ability.request");
    provider.send({ id: forwarded.id, error: { code: -32000, message: "channel_not_found" } });
    const response = await caller.waitFor((f) => f.method === "kadi.ability.response");
    expect(response.params).toEqual({
      requestId,
      error: { code: -32000, message: "channel_not_found" },
    });
  });

  it("omits jsonrpc on some frames and keeps it on others", async () => {
    const client = await open();
    await client.request("kadi.session.hello", { role: "agent" });
    await client.request("kadi.session.ping", {});
    const versions = client.frames.map((f) => f.jsonrpc);
    expect(versions).toContain("2.0");
    expect(versions).toContain(undefined);
  });

  it("drops connections but keeps listening; stop/restart reuses the port", async () => {
    const first = await open();
    await first.login("a");
    expect(broker.agents()).toHaveLength(1);
    const closed = new Promise<void>((resolve) => first.ws.once("close", () => resolve()));
    broker.dropConnections();
    await closed;
    await vi.waitFor(() => expect(broker.agents()).toHaveLength(0));

    const second = await open();
    await second.login("b");
    expect(broker.agents().map((a) => a.displayName)).toEqual(["b"]);

    await broker.stop();
    await expect(RawClient.open(broker.url)).rejects.toThrow();
    await broker.restart();
    expect(broker.agents()).toEqual([]);
    const third = await open();
    await third.login("c");
    expect(broker.agents().map((a) => a.displayName)).toEqual(["c"]);
  });
});

describe("fake KĀDI broker: kadi.ability.list and the file abilities (project client)", () => {
  let broker: FakeKadiBroker;
  const opened: KadiClient[] = [];
  const client = async (
    name = "chat-agent",
    tools: KadiClientOptions["tools"] = [],
    networks = ["global"],
  ): Promise<KadiClient> => {
    const made = createKadiClient({
      url: broker.url,
      privateKey: generateKeyPair().privateKey,
      agentName: name,
      networks,
      tools,
      logger: createLogger("fake-broker-test", "SILENT"),
      requestTimeoutMs: 2_000,
    });
    opened.push(made);
    await made.connect();
    return made;
  };

  beforeEach(async () => {
    broker = await startFakeKadiBroker({ fileAbilities: true });
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.close()));
    await broker.close();
  });

  it("lists the template's file abilities and the tools agents registered on the networks asked", async () => {
    await client("other-net", [echoTool("only_elsewhere")], ["private"]);
    await client("helper", [echoTool("helper_tool")]);
    const agent = await client();
    const abilities = await agent.listAbilities(["global"], true);
    const names = abilities.map((a) => a.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "local_remote_create_temporary_url",
        "cloud_upload_file",
        "cloud_list_files",
        "start_registry",
        "download_file_from_remote",
        "execute_remote_command",
        "helper_tool",
      ]),
    );
    expect(names).not.toContain("only_elsewhere");
    const link = abilities.find((a) => a.name === "local_remote_create_temporary_url");
    expect(link).toEqual({
      name: "local_remote_create_temporary_url",
      description: expect.stringContaining("temporary"),
      inputSchema: expect.objectContaining({ type: "object", required: ["filePath"] }),
      providers: [FAKE_FILE_ABILITY_PROVIDER],
    });
    // Fields beyond the ones the client reads (networks, version) are dropped.
    expect(Object.keys(link ?? {}).sort()).toEqual([
      "description",
      "inputSchema",
      "name",
      "providers",
    ]);
    const withoutProviders = await agent.listAbilities(["global"], false);
    expect(withoutProviders.every((a) => a.providers === undefined)).toBe(true);
    const request = broker.requests().find((r) => r.method === "kadi.ability.list");
    expect(request?.params).toEqual({ networks: ["global"], includeProviders: true });
  });

  it("answers the file abilities through pending → kadi.ability.response with realistic results", async () => {
    const agent = await client();
    const link = (await agent.invokeTool(
      undefined,
      "local_remote_create_temporary_url",
      { filePath: "/srv/build.tar", expiresIn: "1h" },
      2_000,
    )) as Record<string, string>;
    expect(link).toMatchObject({
      success: true,
      publicUrl: expect.stringMatching(/^https:\/\/.+build\.tar$/),
    });
    expect(Date.parse(link.expiresAt ?? "") - Date.now()).toBeGreaterThan(3_500_000);
    const upload = await agent.invokeTool(
      undefined,
      "cloud_upload_file",
      { serviceName: "dropbox", localPath: "/srv/build.tar", remotePath: "/Builds/build.tar" },
      2_000,
    );
    expect(upload).toMatchObject({ success: true, result: { remotePath: "/Builds/build.tar" } });
    expect(
      await agent.invokeTool(
        undefined,
        "execute_remote_command",
        { username: "u", host: "h", command: "uptime" },
        2_000,
      ),
    ).toMatchObject({ stdout: "ran: uptime\n", exitCode: 0 });
    expect(broker.abilityCalls("cloud_upload_file")).toHaveLength(1);
    expect(broker.abilityCalls("cloud_upload_file")[0]?.timeout).toBeGreaterThan(0);
    const pending = broker.requests().filter((r) => r.method === "kadi.ability.request");
    expect(pending).toHaveLength(3);
  });

  it("scripts an error, a slow answer, and a call that is never answered", async () => {
    const agent = await client();
    broker.scriptAbility("cloud_upload_file", { kind: "error", message: "quota exceeded" });
    const failed = await agent
      .invokeTool(undefined, "cloud_upload_file", { serviceName: "box" }, 2_000)
      .catch((e: unknown) => e);
    expect(failed).toMatchObject({ kind: "tool_error", code: -32000, message: "quota exceeded" });

    broker.scriptAbility("start_registry", { kind: "slow", delayMs: 150 });
    const started = Date.now();
    expect(await agent.invokeTool(undefined, "start_registry", {}, 2_000)).toMatchObject({
      success: true,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    broker.scriptAbility("execute_remote_command", { kind: "timeout" });
    const timedOut = await agent
      .invokeTool(undefined, "execute_remote_command", { command: "sleep 1000" }, 200)
      .catch((e: unknown) => e);
    expect(timedOut).toMatchObject({ kind: "timeout" });
    expect(broker.abilityCalls("execute_remote_command")).toHaveLength(1);

    broker.scriptAbility("cloud_upload_file", undefined);
    await expect(
      agent.invokeTool(
        undefined,
        "cloud_upload_file",
        { serviceName: "box", localPath: "a", remotePath: "/a" },
        2_000,
      ),
    ).resolves.toMatchObject({ success: true });
  });

  it("answers a listing with a scripted error, and serves no file abilities unless asked to", async () => {
    const agent = await client();
    broker.setAbilityListError({ code: -32601, message: "method not found" });
    await expect(agent.listAbilities(["global"], true)).rejects.toMatchObject({
      kind: "tool_error",
      code: -32601,
    });
    const plain = await startFakeKadiBroker();
    try {
      const made = createKadiClient({
        url: plain.url,
        privateKey: generateKeyPair().privateKey,
        agentName: "chat-agent",
        networks: ["global"],
        logger: createLogger("fake-broker-test", "SILENT"),
      });
      opened.push(made);
      await made.connect();
      expect(await made.listAbilities(["global"], true)).toEqual([]);
      await expect(
        made.invokeTool(undefined, "cloud_upload_file", {}, 1_000),
      ).rejects.toMatchObject({ kind: "tool_error", code: FAKE_KADI_ERRORS.noProvider });
    } finally {
      await plain.close();
    }
  });
});

function echoTool(name: string): KadiToolDefinition {
  return {
    name,
    description: `echo ${name}`,
    inputSchema: { type: "object" },
    handler: async (input) => input,
  };
}
