import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createKadiClient } from "../../core/kadi/client";
import { KadiError } from "../../core/kadi/errors";
import { generateKeyPair, publicKeyBase64 } from "../../core/kadi/keys";
import type {
  KadiClient,
  KadiClientOptions,
  KadiClientState,
  KadiDelivery,
  KadiToolDefinition,
} from "../../core/kadi/types";
import { createLogger } from "../../core/logger";
import { type FakeKadiBroker, startFakeKadiBroker } from "../fakes/kadi-broker";

const logger = createLogger("kadi-client-test", "SILENT");
const WAIT = { timeout: 10_000, interval: 10 };

/** Fast timings so reconnect and dead-peer paths run in milliseconds; defaults stay untouched. */
const FAST = {
  requestTimeoutMs: 2_000,
  pingIntervalMs: 60_000,
  deadPeerMs: 60_000,
  reconnect: { initialMs: 20, maxMs: 200 },
} as const;

describe("KĀDI client against the fake broker", () => {
  let broker: FakeKadiBroker;
  const clients: KadiClient[] = [];

  const makeClient = (overrides: Partial<KadiClientOptions> = {}): KadiClient => {
    const client = createKadiClient({
      url: broker.url,
      privateKey: generateKeyPair().privateKey,
      agentName: "chat-agent",
      networks: ["global"],
      logger,
      ...FAST,
      ...overrides,
    });
    clients.push(client);
    return client;
  };

  /** A second real client acting as the broker's Slack agent. */
  const startSlackAgent = async (handler: KadiToolDefinition["handler"]): Promise<KadiClient> => {
    const agent = makeClient({
      agentName: "slack",
      tools: [
        {
          name: "slack_send_reply",
          description: "Reply in a Slack thread",
          inputSchema: { type: "object", properties: { text: { type: "string" } } },
          handler,
        },
      ],
    });
    await agent.connect();
    return agent;
  };

  const recordStates = (client: KadiClient): KadiClientState[] => {
    const states: KadiClientState[] = [];
    client.onStateChange((s) => states.push(s));
    return states;
  };

  const methodsFrom = (agentIds: Set<string | undefined>) =>
    broker
      .requests()
      .filter((r) => agentIds.has(r.agentId))
      .map((r) => r.method);

  beforeEach(async () => {
    broker = await startFakeKadiBroker();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await broker.close();
  });

  describe("handshake", () => {
    it("runs hello → authenticate → register and becomes ready", async () => {
      const echo: KadiToolDefinition = {
        name: "echo",
        description: "Echoes its input",
        inputSchema: { type: "object" },
        handler: async (input) => input,
      };
      const client = makeClient({ tools: [echo], networks: ["global", "chat"] });
      const states = recordStates(client);
      await client.connect();

      expect(client.state).toBe("ready");
      expect(states).toEqual(["authenticating", "registering", "ready"]);
      expect(broker.requests().map((r) => r.method)).toEqual([
        "kadi.session.hello",
        "kadi.session.authenticate",
        "kadi.agent.register",
      ]);
      const auth = broker.requests()[1]?.params as Record<string, unknown>;
      expect(auth).toMatchObject({ wantNewId: true, nonce: expect.any(String) });
      expect(broker.agents()).toEqual([
        expect.objectContaining({
          agentId: client.agentId,
          displayName: "chat-agent",
          networks: ["global", "chat"],
          tools: [
            { name: "echo", description: "Echoes its input", inputSchema: { type: "object" } },
          ],
        }),
      ]);
    });

    it("rejects connect with kind auth when the broker refuses the key, and stays closed", async () => {
      await broker.close();
      const allowed = generateKeyPair().privateKey;
      broker = await startFakeKadiBroker({ allowedPublicKeys: [publicKeyBase64(allowed)] });

      const refused = makeClient();
      const error = await refused.connect().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KadiError);
      expect(error).toMatchObject({ kind: "auth", code: -32001 });
      expect(refused.state).toBe("closed");
      await expect(refused.invokeTool(undefined, "x", {}, 100)).rejects.toMatchObject({
        kind: "closed",
      });

      const accepted = makeClient({ privateKey: allowed });
      await accepted.connect();
      expect(accepted.state).toBe("ready");
      expect(broker.requests().filter((r) => r.method === "kadi.session.hello")).toHaveLength(2);
    });

    it("rejects connect with kind network when nothing listens", async () => {
      const url = broker.url;
      await broker.stop();
      const client = makeClient({ url });
      await expect(client.connect()).rejects.toMatchObject({ kind: "network" });
      expect(client.state).toBe("closed");
      await broker.restart();
    });
  });

  describe("outbound tool calls", () => {
    it("resolves the pending → kadi.ability.response two-step with the tool's result", async () => {
      const seen: unknown[] = [];
      await startSlackAgent(async (input) => {
        seen.push(input);
        return { ok: true, ts: "1700000000.000200" };
      });
      const client = makeClient();
      await client.connect();

      const input = { channel: "C1", thread_ts: "1700000000.000100", text: "hello" };
      await expect(client.invokeTool(undefined, "slack_send_reply", input, 5_000)).resolves.toEqual(
        {
          ok: true,
          ts: "1700000000.000200",
        },
      );
      await expect(client.invokeTool("slack", "slack_send_reply", input, 5_000)).resolves.toEqual({
        ok: true,
        ts: "1700000000.000200",
      });
      expect(seen).toEqual([input, input]);
      const call = broker.requests().find((r) => r.method === "kadi.ability.request");
      expect(call?.params).toEqual({
        toolName: "slack_send_reply",
        toolInput: input,
        timeout: expect.any(Number),
      });
      const sentTimeout = (call?.params as { timeout?: number } | undefined)?.timeout;
      expect(sentTimeout).toBeGreaterThan(4_000);
      expect(sentTimeout).toBeLessThanOrEqual(5_000);
      expect(
        broker
          .requests()
          .find((r) => r.params && (r.params as { targetAgent?: string }).targetAgent),
      ).toBeDefined();
    });

    it("rejects with tool_error carrying the provider's -32000 and message", async () => {
      await startSlackAgent(async () => {
        throw new Error("channel_not_found");
      });
      const client = makeClient();
      await client.connect();
      const error = await client
        .invokeTool(undefined, "slack_send_reply", { text: "x" }, 5_000)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KadiError);
      expect(error).toMatchObject({
        kind: "tool_error",
        code: -32000,
        message: "channel_not_found",
      });
    });

    it("rejects with tool_error when no agent provides the tool", async () => {
      const client = makeClient();
      await client.connect();
      await expect(client.invokeTool(undefined, "nope", {}, 5_000)).rejects.toMatchObject({
        kind: "tool_error",
        code: -32601,
      });
    });

    it("times out when the answer does not come in time, and ignores the late answer", async () => {
      let release: (() => void) | undefined;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started = 0;
      await startSlackAgent(async () => {
        started += 1;
        await released;
        return { ok: true };
      });
      const client = makeClient();
      await client.connect();

      await expect(
        client.invokeTool(undefined, "slack_send_reply", { text: "slow" }, 300),
      ).rejects.toMatchObject({ kind: "timeout" });
      await vi.waitFor(() => expect(started).toBe(1), WAIT);
      release?.();
      // The session survives the late kadi.ability.response and keeps serving calls.
      await expect(
        client.invokeTool(undefined, "slack_send_reply", { text: "again" }, 5_000),
      ).resolves.toEqual({ ok: true });
      expect(client.state).toBe("ready");
    });

    it("waits for readiness when called before the handshake completes", async () => {
      await startSlackAgent(async () => "done");
      const client = makeClient();
      const connecting = client.connect();
      const call = client.invokeTool(undefined, "slack_send_reply", {}, 5_000);
      await connecting;
      await expect(call).resolves.toBe("done");
    });
  });

  describe("inbound tool calls", () => {
    it("answers results, -32601 for unknown tools, -32602 for bad params, -32000 on failure", async () => {
      const contexts: unknown[] = [];
      const client = makeClient({
        tools: [
          {
            name: "echo",
            description: "echo",
            inputSchema: { type: "object" },
            handler: async (input, context) => {
              contexts.push(context);
              return { echoed: input };
            },
          },
          {
            name: "boom",
            description: "fails",
            inputSchema: { type: "object" },
            handler: async () => {
              throw new Error("disk full");
            },
          },
          {
            name: "strict",
            description: "validates",
            inputSchema: { type: "object", required: ["q"] },
            handler: async () => {
              throw new KadiError("invalid_params", "q is required");
            },
          },
        ],
      });
      await client.connect();
      const agentId = client.agentId ?? "";

      await expect(
        broker.callAgent(agentId, "kadi.ability.request", {
          toolName: "echo",
          toolInput: { a: 1 },
        }),
      ).resolves.toEqual({ result: { echoed: { a: 1 } } });
      expect(contexts).toEqual([{ requestId: expect.stringMatching(/^broker-/) }]);

      await expect(
        broker.callAgent(agentId, "kadi.ability.request", { toolName: "missing", toolInput: {} }),
      ).resolves.toEqual({ error: { code: -32601, message: "unknown tool missing" } });
      await expect(
        broker.callAgent(agentId, "kadi.ability.request", { toolInput: {} }),
      ).resolves.toMatchObject({ error: { code: -32602 } });
      await expect(
        broker.callAgent(agentId, "kadi.ability.request", { toolName: "strict", toolInput: {} }),
      ).resolves.toEqual({ error: { code: -32602, message: "q is required" } });
      await expect(
        broker.callAgent(agentId, "kadi.ability.request", { toolName: "boom", toolInput: {} }),
      ).resolves.toEqual({ error: { code: -32000, message: "disk full" } });
      await expect(broker.callAgent(agentId, "kadi.session.ping", {})).resolves.toEqual({
        result: "pong",
      });
      await expect(broker.callAgent(agentId, "kadi.unknown.method", {})).resolves.toMatchObject({
        error: { code: -32601 },
      });
      broker.sendRaw(agentId, "{not json");
      broker.sendRaw(agentId, JSON.stringify({ id: 1, result: "answer to nothing" }));
      await expect(broker.callAgent(agentId, "kadi.session.ping", {})).resolves.toEqual({
        result: "pong",
      });
      expect(client.state).toBe("ready");
    });

    it("serves a tool called by another real client through the broker", async () => {
      const provider = makeClient({
        agentName: "memory-agent",
        tools: [
          {
            name: "memory_search",
            description: "search",
            inputSchema: { type: "object" },
            handler: async (input) => ({ hits: [(input as { query: string }).query] }),
          },
        ],
      });
      await provider.connect();
      const caller = makeClient({ agentName: "other" });
      await caller.connect();
      await expect(
        caller.invokeTool("memory-agent", "memory_search", { query: "deploy" }, 5_000),
      ).resolves.toEqual({ hits: ["deploy"] });
    });
  });

  describe("events", () => {
    it("subscribes (queued until ready) and receives deliveries for that channel", async () => {
      const client = makeClient();
      const deliveries: KadiDelivery[] = [];
      const connecting = client.connect();
      const subscribed = client.subscribe(["slack.app_mention.U1"], "global", (d) =>
        deliveries.push(d),
      );
      await connecting;
      await subscribed;

      const methods = broker.requests().map((r) => r.method);
      expect(methods.indexOf("kadi.event.subscribe")).toBeGreaterThan(
        methods.indexOf("kadi.agent.register"),
      );
      expect(broker.agents()[0]?.subscriptions).toEqual([
        { channel: "slack.app_mention.U1", networkId: "global" },
      ]);

      expect(broker.deliver("slack.app_mention.U1", { id: "e1", text: "hi" }, "global")).toBe(1);
      expect(broker.deliver("slack.app_mention.U1", { id: "e2" }, "other-network")).toBe(0);
      await vi.waitFor(() => expect(deliveries).toHaveLength(1), WAIT);
      expect(deliveries[0]).toEqual({
        channel: "slack.app_mention.U1",
        data: { id: "e1", text: "hi" },
      });
    });

    it("takes a delivery sent as a request (with an id) and acknowledges it", async () => {
      const client = makeClient();
      await client.connect();
      const deliveries: KadiDelivery[] = [];
      await client.subscribe(["discord.mention.B1"], "global", (d) => deliveries.push(d));
      const agentId = client.agentId as string;

      await expect(
        broker.callAgent(agentId, "kadi.event.delivery", {
          channel: "discord.mention.B1",
          data: { id: "m1" },
        }),
      ).resolves.toEqual({ result: null });
      expect(deliveries).toEqual([{ channel: "discord.mention.B1", data: { id: "m1" } }]);
    });

    it("publishes with networkId to other subscribers and refuses an empty networkId", async () => {
      const listener = makeClient({ agentName: "listener" });
      await listener.connect();
      const received: KadiDelivery[] = [];
      await listener.subscribe(["news"], "global", (d) => received.push(d));

      const publisher = makeClient({ agentName: "publisher" });
      await publisher.connect();
      await publisher.publish("news", { headline: "up" }, "global");
      await vi.waitFor(
        () => expect(received).toEqual([{ channel: "news", data: { headline: "up" } }]),
        WAIT,
      );
      expect(broker.requests().find((r) => r.method === "kadi.event.publish")?.params).toEqual({
        channel: "news",
        data: { headline: "up" },
        networkId: "global",
      });

      await expect(publisher.publish("news", {}, "")).rejects.toMatchObject({ kind: "protocol" });
    });
  });

  describe("heartbeat and reconnect", () => {
    it("pings on the interval and stays connected while pongs come back", async () => {
      const client = makeClient({ pingIntervalMs: 30, deadPeerMs: 2_000 });
      const states = recordStates(client);
      await client.connect();
      const ids = new Set([client.agentId]);
      await vi.waitFor(
        () =>
          expect(
            methodsFrom(ids).filter((m) => m === "kadi.session.ping").length,
          ).toBeGreaterThanOrEqual(3),
        WAIT,
      );
      expect(states).not.toContain("reconnecting");
      expect(client.state).toBe("ready");
    });

    it("treats a silent broker as dead, terminates and reconnects", async () => {
      const client = makeClient({ pingIntervalMs: 30, deadPeerMs: 250 });
      const states = recordStates(client);
      await client.connect();
      const firstAgent = client.agentId;
      broker.setAnswerPings(false);
      await vi.waitFor(() => expect(states).toContain("reconnecting"), WAIT);
      broker.setAnswerPings(true);
      await vi.waitFor(() => {
        expect(client.state).toBe("ready");
        expect(client.agentId).not.toBe(firstAgent);
      }, WAIT);
      expect(broker.agents().map((a) => a.agentId)).toEqual([client.agentId]);
    });

    it("reconnects after dropped connections, re-registers and re-subscribes", async () => {
      const client = makeClient({
        tools: [
          {
            name: "echo",
            description: "echo",
            inputSchema: { type: "object" },
            handler: async (i) => i,
          },
        ],
      });
      const deliveries: KadiDelivery[] = [];
      await client.connect();
      await client.subscribe(["discord.mention.B1"], "global", (d) => deliveries.push(d));
      const states = recordStates(client);

      broker.dropConnections();
      await vi.waitFor(() => expect(states).toContain("reconnecting"), WAIT);
      await vi.waitFor(() => {
        expect(client.state).toBe("ready");
        expect(broker.agents()[0]?.subscriptions).toEqual([
          { channel: "discord.mention.B1", networkId: "global" },
        ]);
      }, WAIT);
      expect(states).toEqual(["reconnecting", "authenticating", "registering", "ready"]);
      expect(broker.agents()[0]?.tools.map((t) => t.name)).toEqual(["echo"]);

      broker.deliver("discord.mention.B1", { id: "after-drop" }, "global");
      await vi.waitFor(
        () => expect(deliveries.map((d) => (d.data as { id: string }).id)).toEqual(["after-drop"]),
        WAIT,
      );
    });

    it("survives a broker restart: backs off while it is down, then re-subscribes", async () => {
      const client = makeClient({ requestTimeoutMs: 500 });
      const deliveries: KadiDelivery[] = [];
      await client.connect();
      await client.subscribe(["slack.app_mention.U1"], "global", (d) => deliveries.push(d));
      broker.deliver("slack.app_mention.U1", { id: "before" }, "global");
      await vi.waitFor(() => expect(deliveries).toHaveLength(1), WAIT);

      await broker.stop();
      await vi.waitFor(() => expect(client.state).toBe("reconnecting"), WAIT);
      await expect(client.publish("x", {}, "global")).rejects.toMatchObject({ kind: "timeout" });
      await broker.restart();

      await vi.waitFor(() => {
        expect(client.state).toBe("ready");
        expect(broker.agents()[0]?.subscriptions).toHaveLength(1);
      }, WAIT);
      broker.deliver("slack.app_mention.U1", { id: "after" }, "global");
      await vi.waitFor(
        () =>
          expect(deliveries.map((d) => (d.data as { id: string }).id)).toEqual(["before", "after"]),
        WAIT,
      );
    });

    it("fails an in-flight tool call with kind network when the connection drops", async () => {
      await startSlackAgent(() => new Promise(() => {}));
      const client = makeClient();
      await client.connect();
      const call = client.invokeTool(undefined, "slack_send_reply", {}, 5_000);
      const outcome = call.catch((e: unknown) => e);
      await vi.waitFor(
        () => expect(broker.requests().some((r) => r.method === "kadi.ability.request")).toBe(true),
        WAIT,
      );
      broker.dropConnections();
      expect(await outcome).toMatchObject({ kind: "network" });
    });
  });

  describe("liveness probe after silence", () => {
    /** Lets more than `staleAfterMs` pass with no frame from the broker (the frozen container). */
    const silence = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const pingsFrom = (agentId: string | undefined) =>
      broker.requests().filter((r) => r.agentId === agentId && r.method === "kadi.session.ping");
    // Heartbeat and dead-peer timer far away, so only the probe can notice a dead connection.
    const PROBING = { pingIntervalMs: 60_000, deadPeerMs: 60_000, staleAfterMs: 200 } as const;

    it("probes a silent connection, finds it dead, reconnects and makes the call on the new session", async () => {
      await startSlackAgent(async (input) => ({ ok: true, echoed: input }));
      const client = makeClient({ ...PROBING, probeTimeoutMs: 200 });
      const deliveries: KadiDelivery[] = [];
      await client.connect();
      await client.subscribe(["slack.app_mention.U1"], "global", (d) => deliveries.push(d));
      const states = recordStates(client);
      const firstAgent = client.agentId;
      expect(broker.blackholeConnections(firstAgent)).toBe(1);
      await silence(300);

      const [first, second] = await Promise.all([
        client.invokeTool(undefined, "slack_send_reply", { text: "after thaw" }, 5_000),
        client.invokeTool("slack", "slack_send_reply", { text: "concurrent" }, 5_000),
        client.publish("chat.activity", { n: 1 }, "global"),
      ]);
      expect(first).toEqual({ ok: true, echoed: { text: "after thaw" } });
      expect(second).toEqual({ ok: true, echoed: { text: "concurrent" } });

      // One probe for all three callers, on the dead socket; nothing else was sent there.
      expect(broker.blackholed().map((r) => [r.agentId, r.method])).toEqual([
        [firstAgent, "kadi.session.ping"],
      ]);
      expect(states).toEqual(["reconnecting", "authenticating", "registering", "ready"]);
      expect(client.agentId).not.toBe(firstAgent);
      expect(methodsFrom(new Set([client.agentId]))).toEqual([
        "kadi.agent.register",
        "kadi.event.subscribe",
        ...Array(3).fill(expect.stringMatching(/^kadi\.(ability\.request|event\.publish)$/)),
      ]);
      broker.deliver("slack.app_mention.U1", { id: "after-thaw" }, "global");
      await vi.waitFor(() => expect(deliveries).toHaveLength(1), WAIT);
    });

    it("probes a silent but live connection and proceeds on it", async () => {
      await startSlackAgent(async () => ({ ok: true }));
      const client = makeClient({ ...PROBING, probeTimeoutMs: 2_000 });
      await client.connect();
      const states = recordStates(client);
      const agentId = client.agentId;
      await silence(300);

      await expect(
        client.invokeTool(undefined, "slack_send_reply", { text: "x" }, 5_000),
      ).resolves.toEqual({ ok: true });
      expect(methodsFrom(new Set([agentId]))).toEqual([
        "kadi.agent.register",
        "kadi.session.ping",
        "kadi.ability.request",
      ]);
      expect(client.agentId).toBe(agentId);
      expect(states).toEqual([]);
    });

    it("does not probe a connection that heard from the broker recently", async () => {
      await startSlackAgent(async () => ({ ok: true }));
      const client = makeClient({ ...PROBING, staleAfterMs: 5_000 });
      await client.connect();
      await client.subscribe(["news"], "global", () => {});
      await client.publish("news", { n: 1 }, "global");
      await client.invokeTool(undefined, "slack_send_reply", { text: "x" }, 5_000);
      await client.invokeTool(undefined, "slack_send_reply", { text: "y" }, 5_000);

      expect(pingsFrom(client.agentId)).toEqual([]);
      expect(broker.requests().filter((r) => r.method === "kadi.session.ping")).toEqual([]);
    });

    it("is bounded by the call's own deadline, and the reconnect it started serves the next call", async () => {
      await startSlackAgent(async () => ({ ok: true }));
      const client = makeClient({ ...PROBING, probeTimeoutMs: 400 });
      await client.connect();
      const firstAgent = client.agentId;
      broker.blackholeConnections(firstAgent);
      await silence(300);

      await expect(
        client.invokeTool(undefined, "slack_send_reply", { text: "short" }, 100),
      ).rejects.toMatchObject({ kind: "timeout" });
      await expect(
        client.invokeTool(undefined, "slack_send_reply", { text: "next" }, 5_000),
      ).resolves.toEqual({ ok: true });
      expect(client.agentId).not.toBe(firstAgent);
      expect(broker.blackholed().map((r) => r.method)).toEqual(["kadi.session.ping"]);
    });
  });

  describe("close", () => {
    it("rejects pending calls with kind closed, stops timers and never reconnects", async () => {
      await startSlackAgent(() => new Promise(() => {}));
      const client = makeClient({ pingIntervalMs: 20 });
      await client.connect();
      const call = client
        .invokeTool(undefined, "slack_send_reply", {}, 5_000)
        .catch((e: unknown) => e);
      await vi.waitFor(
        () => expect(broker.requests().some((r) => r.method === "kadi.ability.request")).toBe(true),
        WAIT,
      );
      const agentId = client.agentId;

      await client.close();
      expect(await call).toMatchObject({ kind: "closed" });
      expect(client.state).toBe("closed");
      await vi.waitFor(
        () => expect(broker.agents().map((a) => a.agentId)).not.toContain(agentId),
        WAIT,
      );

      const hellos = broker.requests().filter((r) => r.method === "kadi.session.hello").length;
      const pings = broker.requests().filter((r) => r.method === "kadi.session.ping").length;
      // Absence check: 10× the reconnect window and the ping interval passes with no new frames.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(broker.requests().filter((r) => r.method === "kadi.session.hello")).toHaveLength(
        hellos,
      );
      expect(broker.requests().filter((r) => r.method === "kadi.session.ping")).toHaveLength(pings);

      await expect(client.connect()).rejects.toMatchObject({ kind: "closed" });
      await expect(client.publish("x", {}, "global")).rejects.toMatchObject({ kind: "closed" });
      await expect(client.close()).resolves.toBeUndefined();
    });

    it("close during connect rejects connect with kind closed", async () => {
      const client = makeClient();
      const connecting = client.connect();
      await client.close();
      await expect(connecting).rejects.toMatchObject({ kind: "closed" });
      expect(client.state).toBe("closed");
    });
  });
});
