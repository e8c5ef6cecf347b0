import type { KeyObject } from "node:crypto";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { AbilityBroker } from "../agent/types";
import type { ChatJob } from "../chat/job";
import { PlatformNotConfiguredError, type Replier } from "../chat/replier";
import type { ReplyRecord } from "../chat/turn";
import { type Config, ConfigError } from "../config";
import { createKadiClient } from "../kadi/client";
import { loadPrivateKey } from "../kadi/keys";
import { KadiReplier, type KadiToolInvoker } from "../kadi/replier";
import type { ListenerSessionDeps } from "../kadi/session";
import { createKadiTools } from "../kadi/tools";
import type { KadiClient, KadiClientOptions } from "../kadi/types";
import { DedupeStore } from "../memory/dedupe";
import { KnowledgeStore } from "../memory/knowledge";
import type { ChatJobSink } from "../queue/chat-queue";
import { type AwsClients, memoryTable } from "./aws";
import { kadiIngressDeps } from "./ingress";
import { buildLongTermMemory, type LongTermMemory } from "./memory";
import { PLATFORM_ADAPTERS } from "./platforms";

/**
 * The agent's Ed25519 key from `KADI_PRIVATE_KEY`.
 * @throws {ConfigError} when it is unset or not an Ed25519 PKCS#8 PEM.
 */
export function kadiPrivateKey(config: Config): KeyObject {
  if (!config.kadi.privateKeyPem) {
    throw new ConfigError(["KADI_PRIVATE_KEY: is required when KADI_BROKER_URL is set"]);
  }
  try {
    return loadPrivateKey(config.kadi.privateKeyPem);
  } catch (error) {
    throw new ConfigError([`KADI_PRIVATE_KEY: ${(error as Error).message}`]);
  }
}

/**
 * Client options from the configuration, without tools.
 * @throws {ConfigError} when `KADI_BROKER_URL` or `KADI_PRIVATE_KEY` is missing or malformed.
 */
export function kadiClientOptions(
  config: Config,
  logger: Logger,
): Omit<KadiClientOptions, "tools"> {
  if (!config.kadi.brokerUrl) throw new ConfigError(["KADI_BROKER_URL: is required"]);
  return {
    url: config.kadi.brokerUrl,
    privateKey: kadiPrivateKey(config),
    agentName: config.kadi.agentName,
    networks: config.kadi.networks,
    logger,
  };
}

/**
 * A {@link KadiToolInvoker} (the replier's) and {@link AbilityBroker} (the agent's tools) that
 * owns its client; `close()` ends the session if one was made.
 */
export interface LazyKadiInvoker extends KadiToolInvoker, AbilityBroker {
  close(): Promise<void>;
}

/**
 * The container's lazy KĀDI session (see {@link createLazyKadiInvoker}) for this configuration,
 * or `undefined` when `KADI_BROKER_URL` is unset. A missing or malformed `KADI_PRIVATE_KEY`
 * surfaces on the first call (`PlatformNotConfiguredError`), not here.
 */
export function buildLazyKadiInvoker(config: Config, logger: Logger): LazyKadiInvoker | undefined {
  if (!config.kadi.brokerUrl) return undefined;
  return createLazyKadiInvoker(() => createKadiClient(kadiClientOptions(config, logger)));
}

/**
 * A tool invoker and ability lister that creates and connects its KĀDI client on the first call
 * of either and reuses it for the life of the container (its own reconnects repair dropped
 * connections), so the replier and the agent's tools share one session. A failed connect
 * is not cached: the next call tries again. The client registers no tools, so the broker never
 * routes calls to a worker.
 *
 * @param createClient - builds the client; may throw (e.g. {@link ConfigError}), which rejects
 *   that call with {@link PlatformNotConfiguredError}.
 */
export function createLazyKadiInvoker(createClient: () => KadiClient): LazyKadiInvoker {
  let connected: Promise<KadiClient> | undefined;
  let client: KadiClient | undefined;
  const connect = async (): Promise<KadiClient> => {
    let made: KadiClient;
    try {
      made = createClient();
    } catch (cause) {
      throw new PlatformNotConfiguredError(
        `cannot reply through KĀDI: ${(cause as Error).message}`,
        { cause },
      );
    }
    client = made;
    try {
      await made.connect();
    } catch (error) {
      // Only this attempt's client is dropped: by now a later call may have made a fresh one.
      if (client === made) client = undefined;
      await made.close();
      throw error;
    }
    return made;
  };
  const ready = async (): Promise<KadiClient> => {
    connected ??= connect();
    const attempt = connected;
    try {
      return await attempt;
    } catch (error) {
      if (connected === attempt) connected = undefined;
      throw error;
    }
  };
  return {
    async invokeTool(targetAgent, toolName, input, timeoutMs) {
      return (await ready()).invokeTool(targetAgent, toolName, input, timeoutMs);
    },
    async listAbilities(networks, includeProviders) {
      return (await ready()).listAbilities(networks, includeProviders);
    },
    async close() {
      connected = undefined;
      const open = client;
      client = undefined;
      await open?.close();
    },
  };
}

/**
 * The KĀDI relay of the chat worker when `KADI_BROKER_URL` is set (else none, and `via: "kadi"`
 * jobs fail with `PlatformNotConfiguredError`). One {@link KadiReplier} (and so one circuit
 * breaker) serves every platform; its client is created on the first relayed job.
 *
 * @param invoker - replaces the lazy per-container client (the local stack passes one it closes).
 */
export function buildKadiReplier(
  config: Config,
  logger: Logger,
  invoker?: KadiToolInvoker,
): Replier | undefined {
  const relay = invoker ?? buildLazyKadiInvoker(config, logger);
  if (!config.kadi.brokerUrl || !relay) return undefined;
  return new KadiReplier({
    invoker: relay,
    bindings: Object.fromEntries(
      Object.values(PLATFORM_ADAPTERS).map((adapter) => [adapter.platform, adapter.kadi]),
    ),
  });
}

/**
 * Everything a listener session needs: the client options, the served tools (`chat` runs
 * `runTurn`, the same turn as the chat worker, memory tools use the table and the long-term
 * index of this configuration; `chat` and `memory_search` only with `KADI_TRUSTED_AGENTS=*`)
 * and the delivery ingress.
 *
 * @param options.runTurn - the chat worker's turn (`buildWorkerDeps(...).runTurn`).
 * @throws {ConfigError} when `KADI_BROKER_URL` or `KADI_PRIVATE_KEY` is missing or malformed.
 */
export function buildListenerDeps(
  config: Config,
  aws: AwsClients,
  options: {
    runTurn: (job: ChatJob) => Promise<ReplyRecord>;
    queue: ChatJobSink;
    logger: Logger;
    now?: () => number;
    /** Replaces `createKadiClient` (tests). */
    createClient?: (options: KadiClientOptions) => KadiClient;
    /** Long-term memory of the memory tools (default: built from `config`); pass the worker's
     * where both run in one process, so they share one per-user index cache. */
    memory?: LongTermMemory;
  },
): ListenerSessionDeps {
  const now = options.now ?? Date.now;
  return {
    createClient: options.createClient ?? createKadiClient,
    clientOptions: kadiClientOptions(config, options.logger),
    tools: createKadiTools({
      runTurn: options.runTurn,
      longTerm: (options.memory ?? buildLongTermMemory(config, aws)).index,
      knowledge: new KnowledgeStore(memoryTable(config, aws)),
      now,
      trustedAgents: config.kadi.trustedAgents,
    }),
    ingress: kadiIngressDeps(config, {
      dedupe: new DedupeStore({ ...memoryTable(config, aws), now }),
      queue: options.queue,
      logger: options.logger,
      now,
    }),
    logger: options.logger,
  };
}
