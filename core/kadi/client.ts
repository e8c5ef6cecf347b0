/**
 * KĀDI broker client: the session handshake (hello → Ed25519 authenticate → register, then the
 * remembered subscriptions again, on every connect and reconnect), subscriptions and their
 * deliveries, inbound requests (answered by `./tool-server` for `kadi.ability.request`), publish
 * and invokeTool. Request/answer correlation is `./rpc`; the socket, heartbeat, probe and
 * reconnect are `./connection`. Wire format: `./protocol`; behaviour: README.md, "Connecting to
 * a KĀDI broker".
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type * as z from "zod";
import { loggableOrShape } from "../ingress/log-fields";
import {
  KADI_CONNECTION_DEFAULTS,
  KadiConnection,
  type KadiHandshakeState,
  SYSTEM_TIMERS,
} from "./connection";
import { isKadiError, JSON_RPC_ERRORS, KadiError } from "./errors";
import { publicKeyBase64, signNonce } from "./keys";
import {
  AbilityListEntrySchema,
  AbilityListResultSchema,
  AuthenticateResultSchema,
  describe,
  EventDeliveryParamsSchema,
  encodeError,
  encodeResult,
  HelloResultSchema,
  type JsonRpcId,
  KADI_METHODS,
  PublishParamsSchema,
  parseJsonRpcMessage,
  SubscribeParamsSchema,
} from "./protocol";
import { RpcCorrelator } from "./rpc";
import { ToolServer } from "./tool-server";
import type {
  KadiAbility,
  KadiClient,
  KadiClientOptions,
  KadiClientState,
  KadiDelivery,
} from "./types";

/**
 * Defaults of the optional {@link KadiClientOptions}, in ms: the request deadline here, the
 * connection's timings from {@link KADI_CONNECTION_DEFAULTS}.
 */
export const KADI_CLIENT_DEFAULTS = {
  requestTimeoutMs: 10_000,
  ...KADI_CONNECTION_DEFAULTS,
} as const;

/** Replies to an inbound request on the socket it came in on. */
type Reply = (text: string) => void;

interface Subscription {
  channels: string[];
  networkId: string;
  onDelivery: (delivery: KadiDelivery) => void;
}

/**
 * Creates a client; nothing happens on the network until `connect()`. See {@link KadiClient}
 * for the behaviour of each method.
 *
 * @throws Error when two tools share a name.
 */
export function createKadiClient(options: KadiClientOptions): KadiClient {
  return new WsKadiClient(options);
}

class WsKadiClient implements KadiClient {
  readonly #options: KadiClientOptions;
  readonly #logger: Logger;
  readonly #tools: ToolServer;
  readonly #requestTimeoutMs: number;
  readonly #now: () => number;
  readonly #rpc: RpcCorrelator;
  readonly #connection: KadiConnection;
  #agentId: string | undefined;
  readonly #subscriptions: Subscription[] = [];

  constructor(options: KadiClientOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? KADI_CLIENT_DEFAULTS.requestTimeoutMs;
    this.#now = options.now ?? (() => Date.now());
    const timers = options.timers ?? SYSTEM_TIMERS;
    this.#tools = new ToolServer(options.tools ?? [], this.#logger);
    this.#rpc = new RpcCorrelator({
      send: (text) => this.#connection.send(text),
      timers,
      logger: this.#logger,
    });
    this.#connection = new KadiConnection({
      url: options.url,
      logger: this.#logger,
      openTimeoutMs: this.#requestTimeoutMs,
      pingIntervalMs: options.pingIntervalMs,
      deadPeerMs: options.deadPeerMs,
      staleAfterMs: options.staleAfterMs,
      probeTimeoutMs: options.probeTimeoutMs,
      reconnect: options.reconnect,
      random: options.random,
      now: this.#now,
      timers,
      handshake: (enter) => this.#handshake(enter),
      onFrame: (text, reply) => this.#onFrame(text, reply),
      ping: (timeoutMs) => this.#rpc.request(KADI_METHODS.ping, {}, timeoutMs),
      onDetach: (error) => {
        this.#agentId = undefined;
        // Their answers could only have come on the socket that is gone.
        this.#rpc.failAll(error);
      },
    });
  }

  get state(): KadiClientState {
    return this.#connection.state;
  }

  get agentId(): string | undefined {
    return this.#agentId;
  }

  connect(): Promise<void> {
    return this.#connection.connect();
  }

  onStateChange(listener: (state: KadiClientState) => void): () => void {
    return this.#connection.onStateChange(listener);
  }

  async invokeTool(
    targetAgent: string | undefined,
    toolName: string,
    input: unknown,
    timeoutMs: number,
  ): Promise<unknown> {
    const deadline = this.#now() + timeoutMs;
    await this.#connection.whenLive(deadline, timeoutMs);
    const remaining = deadline - this.#now();
    const timeoutError = () =>
      new KadiError("timeout", `${toolName} call timed out after ${timeoutMs} ms`);
    if (remaining <= 0) throw timeoutError();
    const params = {
      ...(targetAgent === undefined ? {} : { targetAgent }),
      toolName,
      toolInput: input ?? null,
      // What is left of the deadline after waiting for `ready`: the broker must not run the tool
      // after we gave up, or a retry of the call would run it twice.
      timeout: remaining,
    };
    return this.#rpc.invokeAbility(params, remaining, timeoutError);
  }

  async listAbilities(networks: string[], includeProviders: boolean): Promise<KadiAbility[]> {
    await this.#connection.whenLive(this.#now() + this.#requestTimeoutMs, this.#requestTimeoutMs);
    const answer = await this.#request(KADI_METHODS.abilityList, { networks, includeProviders });
    const { tools } = parseResult(AbilityListResultSchema, answer, KADI_METHODS.abilityList);
    const abilities: KadiAbility[] = [];
    let malformed = 0;
    for (const entry of tools) {
      const parsed = AbilityListEntrySchema.safeParse(entry);
      if (!parsed.success) {
        malformed += 1;
        continue;
      }
      const { name, description, inputSchema, providers } = parsed.data;
      abilities.push({
        name,
        ...(description === undefined ? {} : { description }),
        ...(inputSchema === undefined ? {} : { inputSchema }),
        ...(providers === undefined ? {} : { providers }),
      });
    }
    if (malformed > 0) {
      this.#logger.warn("KADI ability list entries skipped", { malformed, listed: tools.length });
    }
    return abilities;
  }

  async subscribe(
    channels: string[],
    networkId: string,
    onDelivery: (delivery: KadiDelivery) => void,
  ): Promise<void> {
    const params = SubscribeParamsSchema.safeParse({ channels, networkId });
    if (!params.success) {
      throw new KadiError("protocol", `invalid subscription: ${describe(params.error)}`);
    }
    await this.#connection.whenLive(this.#now() + this.#requestTimeoutMs, this.#requestTimeoutMs);
    await new Promise<void>((resolve, reject) => {
      this.#rpc.call(KADI_METHODS.subscribe, params.data, this.#requestTimeoutMs, (outcome) => {
        if (!outcome.ok) return reject(outcome.error);
        // Recorded synchronously with the broker's acceptance: a delivery right behind the
        // answer in the same TCP segment must already find its subscriber.
        this.#subscriptions.push({ channels: [...channels], networkId, onDelivery });
        resolve();
      });
    });
  }

  async publish(channel: string, data: unknown, networkId: string): Promise<void> {
    const params = PublishParamsSchema.safeParse({ channel, data, networkId });
    if (!params.success) {
      throw new KadiError("protocol", `invalid publish: ${describe(params.error)}`);
    }
    await this.#connection.whenLive(this.#now() + this.#requestTimeoutMs, this.#requestTimeoutMs);
    await this.#request(KADI_METHODS.publish, { channel, data: data ?? null, networkId });
  }

  close(): Promise<void> {
    return this.#connection.close();
  }

  // --- Session set-up ----------------------------------------------------------------------

  /**
   * hello → authenticate → register, then the remembered subscriptions again. Resolves with the
   * fields of the "session ready" log line; throws `KadiError` (kind `"auth"` when refused).
   */
  async #handshake(enter: (state: KadiHandshakeState) => void): Promise<Record<string, unknown>> {
    enter("authenticating");
    const hello = await this.#handshakeStep(KADI_METHODS.hello, { role: "agent" });
    const { nonce } = parseResult(HelloResultSchema, hello, KADI_METHODS.hello);
    const auth = await this.#handshakeStep(KADI_METHODS.authenticate, {
      publicKey: publicKeyBase64(this.#options.privateKey),
      signature: signNonce(this.#options.privateKey, nonce),
      nonce,
      wantNewId: true,
    });
    this.#agentId = parseResult(AuthenticateResultSchema, auth, KADI_METHODS.authenticate).agentId;
    enter("registering");
    await this.#request(KADI_METHODS.register, {
      tools: this.#tools.descriptors(),
      networks: this.#options.networks,
      displayName: this.#options.agentName,
    });
    for (const { channels, networkId } of this.#subscriptions) {
      await this.#request(KADI_METHODS.subscribe, { channels, networkId });
    }
    return {
      agentId: this.#agentId,
      tools: this.#tools.size,
      subscriptions: this.#subscriptions.length,
    };
  }

  /** A hello/authenticate request whose JSON-RPC error means the broker refused us. */
  async #handshakeStep(method: string, params: unknown): Promise<unknown> {
    try {
      return await this.#request(method, params);
    } catch (error) {
      if (isKadiError(error) && error.kind === "tool_error") {
        throw new KadiError("auth", `broker refused ${method}: ${error.message}`, {
          ...(error.code === undefined ? {} : { code: error.code }),
          cause: error,
        });
      }
      throw error;
    }
  }

  #request(method: string, params: unknown): Promise<unknown> {
    return this.#rpc.request(method, params, this.#requestTimeoutMs);
  }

  // --- Inbound frames ----------------------------------------------------------------------

  #onFrame(text: string, reply: Reply): void {
    const message = parseJsonRpcMessage(text);
    switch (message.kind) {
      case "success":
      case "failure":
        this.#rpc.settleAnswer(message);
        return;
      case "request":
        this.#onRequest(message.id, message.method, message.params, reply);
        return;
      case "notification":
        this.#onNotification(message.method, message.params);
        return;
      case "invalid":
        this.#logger.warn("KADI malformed frame", { reason: message.reason });
        if (message.id === null) return;
        if (message.hadMethod) {
          reply(
            encodeError(message.id, {
              code: JSON_RPC_ERRORS.invalidRequest,
              message: `invalid request: ${message.reason}`,
            }),
          );
          return;
        }
        this.#rpc.settleAnswer(message);
        return;
    }
  }

  #onRequest(id: JsonRpcId, method: string, params: unknown, reply: Reply): void {
    if (method === KADI_METHODS.ping) {
      reply(encodeResult(id, "pong"));
      return;
    }
    if (method === KADI_METHODS.abilityRequest) {
      void this.#tools.serve(id, params).then(reply);
      return;
    }
    if (method === KADI_METHODS.delivery || method === KADI_METHODS.abilityResponse) {
      // The protocol sends these as notifications; a broker that sends them with an id gets the
      // same handling plus the acknowledgement JSON-RPC owes a request, instead of losing them.
      this.#onNotification(method, params);
      reply(encodeResult(id, null));
      return;
    }
    reply(
      encodeError(id, {
        code: JSON_RPC_ERRORS.methodNotFound,
        message: `unknown method ${method}`,
      }),
    );
  }

  #onNotification(method: string, params: unknown): void {
    if (method === KADI_METHODS.abilityResponse) {
      this.#rpc.settleAbilityResponse(params);
      return;
    }
    if (method === KADI_METHODS.delivery) {
      const parsed = EventDeliveryParamsSchema.safeParse(params);
      if (!parsed.success) {
        this.#logger.warn("KADI malformed event delivery", { reason: describe(parsed.error) });
        return;
      }
      this.#dispatchDelivery({ channel: parsed.data.channel, data: parsed.data.data });
      return;
    }
    this.#logger.debug("KADI notification ignored", { method: loggableOrShape(method) });
  }

  #dispatchDelivery(delivery: KadiDelivery): void {
    const handlers = new Set<(delivery: KadiDelivery) => void>();
    for (const sub of this.#subscriptions) {
      if (sub.channels.includes(delivery.channel)) handlers.add(sub.onDelivery);
    }
    if (handlers.size === 0) {
      this.#logger.info("KADI delivery on a channel with no subscriber", {
        channel: loggableOrShape(delivery.channel),
      });
    }
    for (const handler of handlers) {
      try {
        handler(delivery);
      } catch (error) {
        this.#logger.error("KADI delivery handler threw", {
          channel: loggableOrShape(delivery.channel),
          error,
        });
      }
    }
  }
}

function parseResult<T>(schema: z.ZodType<T>, value: unknown, method: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new KadiError("protocol", `malformed ${method} result: ${describe(parsed.error)}`);
  }
  return parsed.data;
}
