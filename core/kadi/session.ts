/**
 * The KĀDI listener: one broker session that subscribes to the bot's mention channels, turns
 * deliveries into chat jobs (`./ingress`), and serves the agent's tools (`./tools`).
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { loggableOrShape } from "../ingress/log-fields";
import { mentionChannels } from "./events";
import { acceptDelivery, type DeliveryOutcome, type KadiIngressDeps } from "./ingress";
import type {
  KadiClient,
  KadiClientOptions,
  KadiClientState,
  KadiDelivery,
  KadiToolDefinition,
} from "./types";

/** What a listener session needs. */
export interface ListenerSessionDeps {
  /** `createKadiClient` from `./client` (injected so this module stays free of the socket). */
  createClient: (options: KadiClientOptions) => KadiClient;
  /** Broker URL, key, agent name, networks (subscribed on each), logger, timings. */
  clientOptions: Omit<KadiClientOptions, "tools">;
  /** Tools to serve for the session (see `createKadiTools`). */
  tools: KadiToolDefinition[];
  /** Where deliveries go. */
  ingress: KadiIngressDeps;
  logger: Logger;
  /**
   * How long `stop()` waits for tool calls still running before closing the socket, ms
   * (default 50000: a `chat` turn has a 45 s model budget). Their answers need the socket.
   */
  drainMs?: number;
}

/** Counts of one session, for the closing log line and tests. */
export interface ListenerStats {
  deliveries: Record<DeliveryOutcome["outcome"], number>;
  toolCalls: number;
  toolErrors: number;
}

/** An open session. */
export interface ListenerSession {
  readonly client: KadiClient;
  /** The channels subscribed on every network. */
  readonly channels: string[];
  readonly stats: ListenerStats;
  /**
   * Ends the session: refuses new tool calls, waits up to `drainMs` for running ones, closes the
   * client, then waits for deliveries being queued (so a Lambda does not freeze mid-write).
   * Idempotent.
   */
  stop(): Promise<void>;
}

/** Thrown by {@link ListenerSession} tools called while the session is ending. */
export class ListenerDrainingError extends Error {
  override readonly name = "ListenerDrainingError";
}

/**
 * Connects (hello → authenticate → register the tools), then subscribes to
 * `slack.app_mention.{SLACK_BOT_USER_ID}` and `discord.mention.{DISCORD_BOT_USER_ID}` on every
 * network of `clientOptions.networks`. The client re-subscribes after each reconnect by itself.
 * A delivery that arrives on several networks (or also over `POST /kadi/events`) is queued once:
 * {@link acceptDelivery} dedupes by event id.
 *
 * @throws KadiError from `connect()` or `subscribe()`; the client is closed first.
 */
export async function openListenerSession(deps: ListenerSessionDeps): Promise<ListenerSession> {
  const { logger } = deps;
  const stats: ListenerStats = {
    deliveries: { queued: 0, duplicate: 0, ignored: 0, invalid: 0, failed: 0 },
    toolCalls: 0,
    toolErrors: 0,
  };
  const deliveries = new Set<Promise<unknown>>();
  const toolCalls = new Set<Promise<unknown>>();
  let draining = false;

  const tools = deps.tools.map(
    (tool): KadiToolDefinition => ({
      ...tool,
      handler: (input, context) => {
        if (draining) {
          return Promise.reject(
            new ListenerDrainingError("this agent session is ending; call again"),
          );
        }
        stats.toolCalls++;
        const call = tool.handler(input, context);
        const tracked = call.then(
          () => undefined,
          (error) => {
            stats.toolErrors++;
            logger.warn("kadi tool call failed", { tool: tool.name, error });
          },
        );
        toolCalls.add(tracked);
        void tracked.finally(() => toolCalls.delete(tracked));
        return call;
      },
    }),
  );

  const client = deps.createClient({ ...deps.clientOptions, tools });
  const onDelivery = (delivery: KadiDelivery) => {
    // acceptDelivery reports failures as outcomes; the catch keeps a bug there from becoming an
    // unhandled rejection, which would end the whole local stack.
    const accepted = acceptDelivery(deps.ingress, delivery).then(
      (result) => {
        stats.deliveries[result.outcome]++;
      },
      (error: unknown) => {
        stats.deliveries.failed++;
        logger.error("kadi delivery failed", { channel: loggableOrShape(delivery.channel), error });
      },
    );
    deliveries.add(accepted);
    void accepted.finally(() => deliveries.delete(accepted));
  };

  const channels = mentionChannels(deps.ingress.routing);
  try {
    await client.connect();
    if (channels.length === 0) {
      logger.warn(
        "kadi listener subscribes to nothing: set SLACK_BOT_USER_ID and/or DISCORD_BOT_USER_ID",
      );
    } else if (deps.clientOptions.networks.length === 0) {
      logger.warn("kadi listener subscribes to nothing: KADI_NETWORKS names no network");
    } else {
      for (const network of deps.clientOptions.networks) {
        await client.subscribe(channels, network, onDelivery);
      }
    }
  } catch (error) {
    await client.close();
    throw error;
  }
  logger.info("kadi listener session open", {
    agentId: client.agentId,
    channels,
    networks: deps.clientOptions.networks,
    tools: deps.tools.map((t) => t.name),
  });

  let stopped: Promise<void> | undefined;
  return {
    client,
    channels,
    stats,
    stop() {
      stopped ??= (async () => {
        draining = true;
        await settleWithin([...toolCalls], deps.drainMs ?? 50_000);
        await client.close();
        await Promise.allSettled([...deliveries]);
        logger.info("kadi listener session closed", { ...stats });
      })();
      return stopped;
    },
  };
}

/**
 * Holds one session for `durationMs` (or until `signal` aborts), then stops it cleanly; what the
 * cron-driven Lambda runs each time (see `functions/kadi-listener.ts`).
 *
 * @returns the session's counts.
 * @throws KadiError when the session cannot be opened.
 */
export async function runListenerSession(
  deps: ListenerSessionDeps,
  options: { durationMs: number; signal?: AbortSignal },
): Promise<ListenerStats> {
  const session = await openListenerSession(deps);
  try {
    await holdFor(options.durationMs, options.signal);
  } finally {
    await session.stop();
  }
  return session.stats;
}

/**
 * Keeps a listener running until `stop()` (the local stack): opens a session, keeps it while the
 * client repairs dropped connections (a refused re-authentication included: the client keeps
 * retrying it), and opens a new one whenever it cannot be opened or its client ends up `closed`
 * without `stop()`, after a delay doubling from `retryInitialMs` (default 1000) to `retryMaxMs`
 * (default 60000).
 */
export function startListenerLoop(
  deps: ListenerSessionDeps,
  options: { retryInitialMs?: number; retryMaxMs?: number } = {},
): { stop(): Promise<void> } {
  const { logger } = deps;
  const abort = new AbortController();
  const initial = options.retryInitialMs ?? 1_000;
  const max = options.retryMaxMs ?? 60_000;

  const loop = async () => {
    let delay = initial;
    while (!abort.signal.aborted) {
      let session: ListenerSession;
      try {
        session = await openListenerSession(deps);
      } catch (error) {
        logger.error("kadi listener could not open a session; retrying", {
          error,
          retryInMs: delay,
        });
        await holdFor(delay, abort.signal);
        delay = Math.min(delay * 2, max);
        continue;
      }
      delay = initial;
      await new Promise<void>((resolve) => {
        let unsubscribe: (() => void) | undefined;
        const done = () => {
          unsubscribe?.();
          abort.signal.removeEventListener("abort", done);
          resolve();
        };
        unsubscribe = session.client.onStateChange((state: KadiClientState) => {
          if (state === "closed") done();
        });
        abort.signal.addEventListener("abort", done);
        if (abort.signal.aborted || session.client.state === "closed") done();
      });
      await session.stop();
      if (!abort.signal.aborted) logger.warn("kadi listener session ended; opening a new one");
    }
  };
  const running = loop();
  return {
    async stop() {
      abort.abort();
      await running;
    },
  };
}

function holdFor(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done);
  });
}

async function settleWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  if (promises.length === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.allSettled(promises),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
