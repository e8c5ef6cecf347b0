import { describe, expect, it, vi } from "vitest";
import { PlatformNotConfiguredError } from "../../core/chat/replier";
import { createLazyKadiInvoker } from "../../core/compose/kadi";
import { KadiError } from "../../core/kadi/errors";
import type { KadiIngressDeps } from "../../core/kadi/ingress";
import { generateKeyPair } from "../../core/kadi/keys";
import { ListenerDrainingError, openListenerSession } from "../../core/kadi/session";
import type {
  KadiAbility,
  KadiClient,
  KadiClientOptions,
  KadiClientState,
  KadiDelivery,
} from "../../core/kadi/types";
import { createLogger } from "../../core/logger";
import type { DedupeStore } from "../../core/memory/dedupe";
import { kadiRouting } from "../support/kadi";
import { rejection } from "../support/rejection";

const logger = createLogger("kadi-session-test", "SILENT");

/** A promise with its settle functions (Node 20 has no `Promise.withResolvers`). */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A rejection nobody awaits yet (a client closed before connect) is not an unhandled one.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** An in-process stand-in for the socket client: records calls, connects when told to. */
class StubClient implements KadiClient {
  state: KadiClientState = "connecting";
  agentId: string | undefined;
  closed = 0;
  readonly subscriptions: { channels: string[]; networkId: string }[] = [];
  onDelivery: ((delivery: KadiDelivery) => void) | undefined;
  invoked: string[] = [];
  #connect = deferred<void>();

  constructor(
    readonly options: KadiClientOptions,
    autoConnect = true,
  ) {
    if (autoConnect) this.#connect.resolve();
  }

  /** Settles a pending `connect()`. */
  finishConnect(error?: KadiError): void {
    if (error) this.#connect.reject(error);
    else this.#connect.resolve();
  }

  async connect(): Promise<void> {
    await this.#connect.promise;
    this.state = "ready";
    this.agentId = "agent-1";
  }
  async invokeTool(_target: string | undefined, toolName: string): Promise<unknown> {
    this.invoked.push(toolName);
    return { ok: true };
  }
  async listAbilities(): Promise<KadiAbility[]> {
    return [];
  }
  async subscribe(
    channels: string[],
    networkId: string,
    onDelivery: (delivery: KadiDelivery) => void,
  ): Promise<void> {
    this.subscriptions.push({ channels, networkId });
    this.onDelivery = onDelivery;
  }
  async publish(): Promise<void> {}
  onStateChange(): () => void {
    return () => {};
  }
  async close(): Promise<void> {
    this.closed += 1;
    this.state = "closed";
    this.finishConnect(new KadiError("closed", "closed"));
  }
}

function ingress(overrides: Partial<KadiIngressDeps> = {}): KadiIngressDeps {
  const dedupe = {
    claim: async () => true,
    release: async () => {},
  } as unknown as DedupeStore;
  return {
    routing: kadiRouting({ slack: "UBOT" }),
    dedupe,
    queue: { enqueue: async () => {} },
    logger,
    now: () => 1_700_000_000_000,
    ...overrides,
  };
}

function sessionDeps(
  tools: KadiClientOptions["tools"],
  overrides: { networks?: string[]; ingress?: KadiIngressDeps; drainMs?: number } = {},
) {
  let client: StubClient | undefined;
  return {
    deps: {
      createClient: (options: KadiClientOptions) => {
        client = new StubClient(options);
        return client;
      },
      clientOptions: {
        url: "ws://127.0.0.1:1/kadi",
        privateKey: generateKeyPair().privateKey,
        agentName: "chat-agent",
        networks: overrides.networks ?? ["global"],
        logger,
      },
      tools: tools ?? [],
      ingress: overrides.ingress ?? ingress(),
      logger,
      ...(overrides.drainMs === undefined ? {} : { drainMs: overrides.drainMs }),
    },
    client: () => client as StubClient,
  };
}

describe("openListenerSession", () => {
  it("stop() refuses new tool calls and closes the client only after running ones finish", async () => {
    const release = deferred<string>();
    const { deps, client } = sessionDeps([
      {
        name: "chat",
        description: "chat",
        inputSchema: { type: "object" },
        handler: () => release.promise,
      },
    ]);
    const session = await openListenerSession(deps);
    const served = client().options.tools?.[0];
    const running = served?.handler({}, { requestId: "r1" });

    const stopping = session.stop();
    await expect(served?.handler({}, { requestId: "r2" })).rejects.toBeInstanceOf(
      ListenerDrainingError,
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(client().closed).toBe(0);

    release.resolve("answer");
    await expect(running).resolves.toBe("answer");
    await stopping;
    expect(client().closed).toBe(1);
    expect(session.stats).toMatchObject({ toolCalls: 1, toolErrors: 0 });
  });

  it("counts a delivery whose processing throws as failed instead of leaving a rejection", async () => {
    const { deps, client } = sessionDeps([], {
      ingress: ingress({
        now: () => {
          throw new Error("clock broke");
        },
      }),
    });
    const session = await openListenerSession(deps);
    client().onDelivery?.({ channel: "slack.app_mention.UBOT", data: {} });
    await session.stop();
    expect(session.stats.deliveries.failed).toBe(1);
  });

  it("subscribes the mention channels on every network, and nothing without networks", async () => {
    const two = sessionDeps([], { networks: ["global", "team"] });
    const session = await openListenerSession(two.deps);
    expect(two.client().subscriptions).toEqual([
      { channels: ["slack.app_mention.UBOT"], networkId: "global" },
      { channels: ["slack.app_mention.UBOT"], networkId: "team" },
    ]);
    await session.stop();

    const none = sessionDeps([], { networks: [] });
    const warn = vi.spyOn(logger, "warn");
    const empty = await openListenerSession(none.deps);
    expect(none.client().subscriptions).toEqual([]);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("KADI_NETWORKS"));
    warn.mockRestore();
    await empty.stop();
  });
});

describe("createLazyKadiInvoker", () => {
  const options = sessionDeps([]).deps.clientOptions;

  it("connects once for concurrent calls and reuses the client", async () => {
    const made: StubClient[] = [];
    const invoker = createLazyKadiInvoker(() => {
      const client = new StubClient(options, false);
      made.push(client);
      return client;
    });
    const calls = [
      invoker.invokeTool(undefined, "a", {}, 1_000),
      invoker.invokeTool(undefined, "b", {}, 1_000),
    ];
    made[0]?.finishConnect();
    await Promise.all(calls);
    await invoker.invokeTool(undefined, "c", {}, 1_000);
    expect(made).toHaveLength(1);
    expect(made[0]?.invoked).toEqual(["a", "b", "c"]);
    await invoker.close();
    expect(made[0]?.closed).toBe(1);
  });

  it("closes a client whose connect failed and makes a new one on the next call", async () => {
    const made: StubClient[] = [];
    const invoker = createLazyKadiInvoker(() => {
      const client = new StubClient(options, made.length > 0);
      made.push(client);
      return client;
    });
    const first = invoker.invokeTool(undefined, "a", {}, 1_000);
    made[0]?.finishConnect(new KadiError("network", "down"));
    await expect(first).rejects.toMatchObject({ kind: "network" });
    expect(made[0]?.closed).toBe(1);
    await expect(invoker.invokeTool(undefined, "b", {}, 1_000)).resolves.toEqual({ ok: true });
    expect(made).toHaveLength(2);
    expect(made[1]?.invoked).toEqual(["b"]);
  });

  it("a connect failing after close() does not drop the client a later call made", async () => {
    const made: StubClient[] = [];
    const invoker = createLazyKadiInvoker(() => {
      const client = new StubClient(options, made.length > 0);
      made.push(client);
      return client;
    });
    const first = invoker.invokeTool(undefined, "a", {}, 1_000).catch((e: unknown) => e);
    // The next call starts before the first one's failure is processed (same tick).
    const closing = invoker.close();
    const second = invoker.invokeTool(undefined, "b", {}, 1_000);
    await closing;
    expect(await first).toMatchObject({ kind: "closed" });
    await expect(second).resolves.toEqual({ ok: true });
    expect(made[1]?.closed).toBe(0);
    await invoker.invokeTool(undefined, "c", {}, 1_000);
    expect(made).toHaveLength(2);
  });

  it("reports a client that cannot be built as PlatformNotConfiguredError", async () => {
    const invoker = createLazyKadiInvoker(() => {
      throw new Error("KADI_PRIVATE_KEY: is required");
    });
    const error = await rejection(invoker.invokeTool(undefined, "a", {}, 1_000));
    expect(error).toBeInstanceOf(PlatformNotConfiguredError);
  });
});
