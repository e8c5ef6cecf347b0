/**
 * KĀDI broker client: one WebSocket session (hello → Ed25519 authenticate → register → ready),
 * JSON-RPC request/response correlation with deadlines, the pending → `kadi.ability.response`
 * two-step of tool calls, inbound tool dispatch, subscriptions that survive reconnects, a ping
 * heartbeat with dead-peer detection, a liveness probe before using a connection that has been
 * silent for too long, and reconnect with exponential backoff. Wire format:
 * `./protocol` (design.md, "KĀDI wire protocol").
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import WebSocket from "ws";
import type * as z from "zod";
import { reconnectDelayMs } from "../resilience/backoff";
import { isKadiError, JSON_RPC_ERRORS, KadiError } from "./errors";
import { publicKeyBase64, signNonce } from "./keys";
import {
  AbilityPendingResultSchema,
  AbilityRequestParamsSchema,
  AbilityResponseParamsSchema,
  AuthenticateResultSchema,
  describe,
  EventDeliveryParamsSchema,
  encodeError,
  encodeRequest,
  encodeResult,
  HelloResultSchema,
  type JsonRpcErrorObject,
  type JsonRpcId,
  KADI_METHODS,
  PublishParamsSchema,
  parseJsonRpcMessage,
  SubscribeParamsSchema,
} from "./protocol";
import type {
  KadiClient,
  KadiClientOptions,
  KadiClientState,
  KadiDelivery,
  KadiToolDefinition,
} from "./types";

/**
 * Defaults of the optional {@link KadiClientOptions} (design.md: 30 s ping, 90 s, 1…60 s). The
 * default `staleAfterMs` is `pingIntervalMs + staleAfterSlackMs`: one ping cycle plus time for
 * its pong, so only a missed cycle (a frozen process) makes a connection stale.
 */
export const KADI_CLIENT_DEFAULTS = {
  requestTimeoutMs: 10_000,
  pingIntervalMs: 30_000,
  deadPeerMs: 90_000,
  staleAfterSlackMs: 5_000,
  probeTimeoutMs: 2_000,
  reconnect: { initialMs: 1_000, maxMs: 60_000 },
} as const;

/** How long `close()` waits for the broker's close frame before cutting the socket, in ms. */
const CLOSE_GRACE_MS = 1_000;

type Outcome = { ok: true; result: unknown } | { ok: false; error: KadiError };
type Settle = (outcome: Outcome) => void;

interface ReadyWaiter {
  resolve: () => void;
  reject: (error: KadiError) => void;
}

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
  readonly #url: string;
  readonly #options: KadiClientOptions;
  readonly #logger: Logger;
  readonly #tools: Map<string, KadiToolDefinition>;
  readonly #requestTimeoutMs: number;
  readonly #pingIntervalMs: number;
  readonly #deadPeerMs: number;
  readonly #staleAfterMs: number;
  readonly #probeTimeoutMs: number;

  #state: KadiClientState = "connecting";
  #agentId: string | undefined;
  #ws: WebSocket | undefined;
  #nextId = 1;
  /** Outstanding requests to the broker, keyed by `String(id)` (the broker may echo strings). */
  readonly #pending = new Map<string, Settle>();
  /** Tool calls answered `pending`, keyed by `String(requestId)`. */
  readonly #abilityWaiters = new Map<string, Settle>();
  readonly #readyWaiters = new Set<ReadyWaiter>();
  readonly #subscriptions: Subscription[] = [];
  readonly #stateListeners = new Set<(state: KadiClientState) => void>();

  #connectPromise: Promise<void> | undefined;
  /** True while a session is being set up, so a dropped socket is not also handed to reconnect. */
  #establishing = false;
  #closed = false;
  #closePromise: Promise<void> | undefined;
  #reconnectAttempt = 0;
  #pingTimer: NodeJS.Timeout | undefined;
  #deadPeerTimer: NodeJS.Timeout | undefined;
  #sleepTimer: NodeJS.Timeout | undefined;
  #wakeSleep: (() => void) | undefined;
  /** `Date.now()` of the last frame from the broker on the current socket, or of its opening. */
  #lastInboundAt = 0;
  /** The liveness probe in flight; every caller that finds the session stale awaits this one. */
  #probe: Promise<void> | undefined;

  constructor(options: KadiClientOptions) {
    this.#url = options.url;
    this.#options = options;
    this.#logger = options.logger;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? KADI_CLIENT_DEFAULTS.requestTimeoutMs;
    this.#pingIntervalMs = options.pingIntervalMs ?? KADI_CLIENT_DEFAULTS.pingIntervalMs;
    this.#deadPeerMs = options.deadPeerMs ?? KADI_CLIENT_DEFAULTS.deadPeerMs;
    this.#staleAfterMs =
      options.staleAfterMs ?? this.#pingIntervalMs + KADI_CLIENT_DEFAULTS.staleAfterSlackMs;
    this.#probeTimeoutMs = options.probeTimeoutMs ?? KADI_CLIENT_DEFAULTS.probeTimeoutMs;
    this.#tools = new Map();
    for (const tool of options.tools ?? []) {
      if (this.#tools.has(tool.name)) throw new Error(`duplicate KADI tool name: ${tool.name}`);
      this.#tools.set(tool.name, tool);
    }
  }

  get state(): KadiClientState {
    return this.#state;
  }

  get agentId(): string | undefined {
    return this.#agentId;
  }

  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(new KadiError("closed", "KADI client is closed"));
    this.#connectPromise ??= this.#firstConnect();
    return this.#connectPromise;
  }

  onStateChange(listener: (state: KadiClientState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => {
      this.#stateListeners.delete(listener);
    };
  }

  async invokeTool(
    targetAgent: string | undefined,
    toolName: string,
    input: unknown,
    timeoutMs: number,
  ): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    await this.#whenLive(deadline, timeoutMs);
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new KadiError("timeout", `${toolName} call timed out after ${timeoutMs} ms`);
    }
    const params = {
      ...(targetAgent === undefined ? {} : { targetAgent }),
      toolName,
      toolInput: input ?? null,
      // What is left of the deadline after waiting for `ready`: the broker must not run the tool
      // after we gave up, or a retry of the call would run it twice.
      timeout: remaining,
    };
    return new Promise<unknown>((resolve, reject) => {
      let requestKey: string | undefined;
      let done = false;
      const finish: Settle = (outcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (requestKey !== undefined) this.#abilityWaiters.delete(requestKey);
        if (outcome.ok) resolve(outcome.result);
        else reject(outcome.error);
      };
      const timer = setTimeout(() => {
        finish({
          ok: false,
          error: new KadiError("timeout", `${toolName} call timed out after ${timeoutMs} ms`),
        });
      }, remaining);
      // The settle callback runs synchronously inside frame handling, so the waiter for the
      // response notification exists before the next frame (which may be that notification).
      this.#call(KADI_METHODS.abilityRequest, params, remaining, (outcome) => {
        if (!outcome.ok) return finish(outcome);
        const pending = AbilityPendingResultSchema.safeParse(outcome.result);
        if (!pending.success) return finish(outcome);
        if (done) return;
        requestKey = String(pending.data.requestId);
        this.#abilityWaiters.set(requestKey, finish);
      });
    });
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
    await this.#whenLive(Date.now() + this.#requestTimeoutMs, this.#requestTimeoutMs);
    await new Promise<void>((resolve, reject) => {
      this.#call(KADI_METHODS.subscribe, params.data, this.#requestTimeoutMs, (outcome) => {
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
    await this.#whenLive(Date.now() + this.#requestTimeoutMs, this.#requestTimeoutMs);
    await this.#request(KADI_METHODS.publish, { channel, data: data ?? null, networkId });
  }

  close(): Promise<void> {
    if (this.#closePromise !== undefined) return this.#closePromise;
    this.#closed = true;
    this.#setState("closed");
    this.#cancelSleep();
    const error = new KadiError("closed", "KADI client closed");
    this.#rejectReadyWaiters(error);
    const ws = this.#ws;
    this.#detach(error);
    this.#closePromise = ws === undefined ? Promise.resolve() : closeSocket(ws);
    return this.#closePromise;
  }

  // --- Session set-up ----------------------------------------------------------------------

  async #firstConnect(): Promise<void> {
    try {
      await this.#establish();
    } catch (error) {
      const failure = asKadiError(error);
      if (this.#closed) {
        // close() intervened; whatever broke the handshake is a consequence of that.
        throw failure.kind === "closed"
          ? failure
          : new KadiError("closed", "KADI client closed during connect", { cause: failure });
      }
      this.#logger.error("KADI connect failed", { kind: failure.kind, error: failure });
      this.#closed = true;
      this.#closePromise = Promise.resolve();
      this.#setState("closed");
      this.#rejectReadyWaiters(failure);
      throw failure;
    }
  }

  /** Opens a socket and runs the handshake; throws `KadiError` with the socket discarded. */
  async #establish(): Promise<void> {
    this.#establishing = true;
    try {
      const ws = await this.#open();
      this.#setState("authenticating");
      const hello = await this.#handshakeStep(KADI_METHODS.hello, { role: "agent" });
      const { nonce } = parseResult(HelloResultSchema, hello, KADI_METHODS.hello);
      const auth = await this.#handshakeStep(KADI_METHODS.authenticate, {
        publicKey: publicKeyBase64(this.#options.privateKey),
        signature: signNonce(this.#options.privateKey, nonce),
        nonce,
        wantNewId: true,
      });
      this.#agentId = parseResult(
        AuthenticateResultSchema,
        auth,
        KADI_METHODS.authenticate,
      ).agentId;
      this.#setState("registering");
      await this.#request(KADI_METHODS.register, {
        tools: [...this.#tools.values()].map(({ name, description, inputSchema }) => ({
          name,
          description,
          inputSchema,
        })),
        networks: this.#options.networks,
        displayName: this.#options.agentName,
      });
      for (const { channels, networkId } of this.#subscriptions) {
        await this.#request(KADI_METHODS.subscribe, { channels, networkId });
      }
      if (this.#closed) throw new KadiError("closed", "KADI client closed during connect");
      if (this.#ws !== ws || ws.readyState !== WebSocket.OPEN) {
        throw new KadiError("network", "broker connection lost during handshake");
      }
      this.#reconnectAttempt = 0;
      this.#startHeartbeat();
      this.#setState("ready");
      this.#logger.info("KADI session ready", {
        agentId: this.#agentId,
        tools: this.#tools.size,
        subscriptions: this.#subscriptions.length,
      });
      const waiters = [...this.#readyWaiters];
      this.#readyWaiters.clear();
      for (const waiter of waiters) waiter.resolve();
    } catch (error) {
      const failure = asKadiError(error);
      const ws = this.#ws;
      this.#detach(failure);
      ws?.terminate();
      throw failure;
    } finally {
      this.#establishing = false;
    }
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

  #open(): Promise<WebSocket> {
    return new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(this.#url, { handshakeTimeout: this.#requestTimeoutMs });
      this.#ws = ws;
      let opened = false;
      ws.on("error", (error) => {
        if (!opened) {
          reject(
            new KadiError("network", `cannot reach KADI broker: ${error.message}`, {
              cause: error,
            }),
          );
        } else {
          this.#logger.warn("KADI socket error", { error });
        }
      });
      ws.on("close", (code, reason) => {
        if (!opened) {
          reject(new KadiError("network", `KADI broker closed the connection (code ${code})`));
        }
        this.#onClose(ws, code, reason.toString("utf8"));
      });
      ws.on("message", (data, isBinary) => this.#onFrame(ws, data, isBinary));
      ws.once("open", () => {
        opened = true;
        if (this.#closed) {
          reject(new KadiError("closed", "KADI client closed during connect"));
          return;
        }
        this.#lastInboundAt = Date.now();
        this.#deadPeerTimer = setTimeout(() => this.#onDeadPeer(ws), this.#deadPeerMs);
        resolve(ws);
      });
    });
  }

  // --- Connection loss and reconnect -------------------------------------------------------

  #onClose(ws: WebSocket, code: number, reason: string): void {
    this.#lose(
      ws,
      new KadiError(
        "network",
        `KADI broker connection closed (code ${code}${reason ? `, ${reason}` : ""})`,
      ),
    );
  }

  /**
   * Gives up on `ws` at once instead of waiting for its close event, which may take minutes on a
   * connection that died without a FIN; that event then finds the socket already forgotten.
   */
  #abandon(ws: WebSocket, error: KadiError): void {
    if (ws !== this.#ws) return;
    this.#lose(ws, error);
    ws.terminate();
  }

  /** Forgets a lost `ws`; a loss of the ready session (not of a handshake) starts a reconnect. */
  #lose(ws: WebSocket, error: KadiError): void {
    if (ws !== this.#ws) return;
    const lostReady = this.#state === "ready" && !this.#establishing;
    this.#detach(error);
    if (lostReady && !this.#closed) {
      this.#logger.warn("KADI connection lost; reconnecting", { reason: error.message });
      void this.#reconnectLoop();
    }
  }

  #onDeadPeer(ws: WebSocket): void {
    if (ws !== this.#ws) return;
    this.#logger.warn("KADI broker silent; terminating socket", { deadPeerMs: this.#deadPeerMs });
    ws.terminate();
  }

  async #reconnectLoop(): Promise<void> {
    while (!this.#closed) {
      this.#reconnectAttempt += 1;
      this.#setState("reconnecting");
      const delayMs = reconnectDelayMs(this.#reconnectAttempt, {
        ...(this.#options.reconnect ?? KADI_CLIENT_DEFAULTS.reconnect),
        ...(this.#options.random === undefined ? {} : { random: this.#options.random }),
      });
      this.#logger.info("KADI reconnect scheduled", { attempt: this.#reconnectAttempt, delayMs });
      await this.#sleep(delayMs);
      if (this.#closed) return;
      try {
        await this.#establish();
        return;
      } catch (error) {
        const failure = asKadiError(error);
        if (failure.kind === "closed") return;
        const log = failure.kind === "auth" ? this.#logger.error : this.#logger.warn;
        log.call(this.#logger, "KADI reconnect attempt failed", {
          attempt: this.#reconnectAttempt,
          kind: failure.kind,
          error: failure,
        });
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wakeSleep = resolve;
      this.#sleepTimer = setTimeout(() => {
        this.#sleepTimer = undefined;
        this.#wakeSleep = undefined;
        resolve();
      }, ms);
    });
  }

  #cancelSleep(): void {
    clearTimeout(this.#sleepTimer);
    this.#sleepTimer = undefined;
    const wake = this.#wakeSleep;
    this.#wakeSleep = undefined;
    wake?.();
  }

  /**
   * Forgets the current socket: stops heartbeat timers and fails every outstanding request and
   * tool call with `error` (their answers could only come on this socket). Ready waiters stay.
   */
  #detach(error: KadiError): void {
    this.#ws = undefined;
    this.#agentId = undefined;
    clearInterval(this.#pingTimer);
    clearTimeout(this.#deadPeerTimer);
    this.#pingTimer = undefined;
    this.#deadPeerTimer = undefined;
    const settles = [...this.#pending.values(), ...this.#abilityWaiters.values()];
    this.#pending.clear();
    this.#abilityWaiters.clear();
    for (const settle of settles) settle({ ok: false, error });
  }

  #startHeartbeat(): void {
    clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(() => {
      // Liveness is judged by the dead-peer timer on any inbound frame, not by this answer.
      this.#call(KADI_METHODS.ping, {}, this.#deadPeerMs, (outcome) => {
        if (!outcome.ok && outcome.error.kind !== "network" && outcome.error.kind !== "closed") {
          this.#logger.debug("KADI ping failed", { error: outcome.error });
        }
      });
    }, this.#pingIntervalMs);
  }

  // --- Requests ----------------------------------------------------------------------------

  /**
   * Waits for `ready` and, when nothing came from the broker for longer than `staleAfterMs`,
   * for a probe to confirm the connection first. Pings keep a working session fresh, so this
   * only probes after the process was frozen (a Lambda container between invocations), when the
   * socket may have died without a FIN. An unanswered probe abandons the socket and this waits
   * for the reconnect. Rejects with kind `"timeout"` at `deadline` (`Date.now()` ms);
   * `timeoutMs` only names the caller's budget in that error.
   */
  async #whenLive(deadline: number, timeoutMs: number): Promise<void> {
    await this.#whenReady(deadline, timeoutMs);
    if (Date.now() - this.#lastInboundAt <= this.#staleAfterMs) return;
    this.#probe ??= this.#runProbe().finally(() => {
      this.#probe = undefined;
    });
    await this.#byDeadline(this.#probe, deadline, timeoutMs);
    await this.#whenReady(deadline, timeoutMs);
  }

  /**
   * Sends `kadi.session.ping {}` on the current socket. Any answer, an error included, proves the
   * broker is there; no answer within `probeTimeoutMs` (or a failed send) abandons the socket,
   * which starts the normal reconnect. Never rejects: callers learn the outcome from the state.
   */
  #runProbe(): Promise<void> {
    const ws = this.#ws;
    const silentMs = Date.now() - this.#lastInboundAt;
    this.#logger.info("KADI session silent; probing before use", { silentMs });
    return new Promise<void>((resolve) => {
      this.#call(KADI_METHODS.ping, {}, this.#probeTimeoutMs, (outcome) => {
        const dead =
          !outcome.ok && (outcome.error.kind === "timeout" || outcome.error.kind === "network");
        if (dead && ws !== undefined && ws === this.#ws) {
          this.#logger.warn("KADI probe unanswered; reconnecting", {
            silentMs,
            probeTimeoutMs: this.#probeTimeoutMs,
          });
          this.#abandon(
            ws,
            new KadiError(
              "network",
              `KADI broker did not answer a probe within ${this.#probeTimeoutMs} ms`,
              { cause: outcome.error },
            ),
          );
        }
        resolve();
      });
    });
  }

  /** Resolves with `work`, or rejects with kind `"timeout"` at `deadline` (`Date.now()` ms). */
  #byDeadline(work: Promise<void>, deadline: number, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          reject(
            new KadiError(
              "timeout",
              `KADI session not confirmed alive within ${timeoutMs} ms (probing a silent connection)`,
            ),
          );
        },
        Math.max(0, deadline - Date.now()),
      );
      void work.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Resolves once `ready`; rejects with kind `"timeout"` at `deadline` (`Date.now()` ms). */
  #whenReady(deadline: number, timeoutMs: number): Promise<void> {
    if (this.#state === "ready") return Promise.resolve();
    if (this.#closed) return Promise.reject(new KadiError("closed", "KADI client closed"));
    return new Promise<void>((resolve, reject) => {
      const waiter: ReadyWaiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(
        () => {
          this.#readyWaiters.delete(waiter);
          reject(
            new KadiError(
              "timeout",
              `KADI session not ready within ${timeoutMs} ms (state ${this.#state})`,
            ),
          );
        },
        Math.max(0, deadline - Date.now()),
      );
      this.#readyWaiters.add(waiter);
    });
  }

  #rejectReadyWaiters(error: KadiError): void {
    const waiters = [...this.#readyWaiters];
    this.#readyWaiters.clear();
    for (const waiter of waiters) waiter.reject(error);
  }

  #request(method: string, params: unknown, timeoutMs = this.#requestTimeoutMs): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      this.#call(method, params, timeoutMs, (outcome) => {
        if (outcome.ok) resolve(outcome.result);
        else reject(outcome.error);
      });
    });
  }

  /** Sends a request; `settle` runs exactly once, synchronously with the answering frame. */
  #call(method: string, params: unknown, timeoutMs: number, settle: Settle): void {
    const id = this.#nextId++;
    const key = String(id);
    let done = false;
    const finish: Settle = (outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.#pending.delete(key);
      settle(outcome);
    };
    const timer = setTimeout(() => {
      finish({
        ok: false,
        error: new KadiError("timeout", `${method} got no answer within ${timeoutMs} ms`),
      });
    }, timeoutMs);
    this.#pending.set(key, finish);
    const ws = this.#ws;
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) {
      finish({ ok: false, error: new KadiError("network", "not connected to the KADI broker") });
      return;
    }
    this.#sendOn(ws, encodeRequest(method, params, id));
  }

  #sendOn(ws: WebSocket, text: string): void {
    if (ws.readyState !== WebSocket.OPEN) {
      this.#logger.warn("KADI frame not sent: socket not open");
      return;
    }
    ws.send(text, (error) => {
      // A failed write means the socket is going down; its close event fails what is pending.
      if (error) this.#logger.warn("KADI send failed", { error });
    });
  }

  // --- Inbound frames ----------------------------------------------------------------------

  #onFrame(ws: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
    if (ws !== this.#ws) return;
    this.#lastInboundAt = Date.now();
    this.#deadPeerTimer?.refresh();
    if (isBinary) {
      this.#logger.warn("KADI binary frame ignored");
      return;
    }
    const message = parseJsonRpcMessage(rawDataToString(data));
    switch (message.kind) {
      case "success":
        this.#pending.get(String(message.id))?.({ ok: true, result: message.result });
        return;
      case "failure": {
        const settle = message.id === null ? undefined : this.#pending.get(String(message.id));
        if (settle === undefined) {
          this.#logger.warn("KADI error without a matching request", { error: message.error });
          return;
        }
        settle({ ok: false, error: errorFromWire(message.error) });
        return;
      }
      case "request":
        this.#onRequest(ws, message.id, message.method, message.params);
        return;
      case "notification":
        this.#onNotification(message.method, message.params);
        return;
      case "invalid": {
        this.#logger.warn("KADI malformed frame", { reason: message.reason });
        if (message.id === null) return;
        if (message.hadMethod) {
          this.#sendOn(
            ws,
            encodeError(message.id, {
              code: JSON_RPC_ERRORS.invalidRequest,
              message: `invalid request: ${message.reason}`,
            }),
          );
          return;
        }
        this.#pending.get(String(message.id))?.({
          ok: false,
          error: new KadiError("protocol", `malformed answer: ${message.reason}`),
        });
        return;
      }
    }
  }

  #onRequest(ws: WebSocket, id: JsonRpcId, method: string, params: unknown): void {
    if (method === KADI_METHODS.ping) {
      this.#sendOn(ws, encodeResult(id, "pong"));
      return;
    }
    if (method === KADI_METHODS.abilityRequest) {
      void this.#serveTool(ws, id, params);
      return;
    }
    if (method === KADI_METHODS.delivery || method === KADI_METHODS.abilityResponse) {
      // design.md shows these as notifications; a broker that sends them with an id gets the
      // same handling plus the acknowledgement JSON-RPC owes a request, instead of losing them.
      this.#onNotification(method, params);
      this.#sendOn(ws, encodeResult(id, null));
      return;
    }
    this.#sendOn(
      ws,
      encodeError(id, {
        code: JSON_RPC_ERRORS.methodNotFound,
        message: `unknown method ${method}`,
      }),
    );
  }

  async #serveTool(ws: WebSocket, id: JsonRpcId, params: unknown): Promise<void> {
    const parsed = AbilityRequestParamsSchema.safeParse(params);
    if (!parsed.success) {
      this.#sendOn(
        ws,
        encodeError(id, {
          code: JSON_RPC_ERRORS.invalidParams,
          message: `invalid params: ${describe(parsed.error)}`,
        }),
      );
      return;
    }
    const { toolName, toolInput } = parsed.data;
    const tool = this.#tools.get(toolName);
    if (tool === undefined) {
      this.#sendOn(
        ws,
        encodeError(id, {
          code: JSON_RPC_ERRORS.methodNotFound,
          message: `unknown tool ${toolName}`,
        }),
      );
      return;
    }
    let reply: string;
    try {
      const result = await tool.handler(toolInput, { requestId: id });
      reply = encodeResult(id, result);
    } catch (error) {
      const invalidParams = isKadiError(error) && error.kind === "invalid_params";
      this.#logger.warn("KADI tool failed", { toolName, requestId: id, error });
      reply = encodeError(id, {
        code: invalidParams ? JSON_RPC_ERRORS.invalidParams : JSON_RPC_ERRORS.toolFailed,
        message: error instanceof Error ? error.message : String(error),
      });
    }
    this.#sendOn(ws, reply);
  }

  #onNotification(method: string, params: unknown): void {
    if (method === KADI_METHODS.abilityResponse) {
      const parsed = AbilityResponseParamsSchema.safeParse(params);
      if (!parsed.success) {
        this.#logger.warn("KADI malformed ability response", { reason: describe(parsed.error) });
        return;
      }
      const { requestId, result, error } = parsed.data;
      const settle = this.#abilityWaiters.get(String(requestId));
      if (settle === undefined) {
        // Typically the answer to a call that already timed out on our side.
        this.#logger.info("KADI ability response without a waiting call", { requestId });
        return;
      }
      if (error === undefined || error === null) {
        settle({ ok: true, result: result ?? null });
      } else {
        settle({
          ok: false,
          error:
            typeof error === "string" ? new KadiError("tool_error", error) : errorFromWire(error),
        });
      }
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
    this.#logger.debug("KADI notification ignored", { method });
  }

  #dispatchDelivery(delivery: KadiDelivery): void {
    const handlers = new Set<(delivery: KadiDelivery) => void>();
    for (const sub of this.#subscriptions) {
      if (sub.channels.includes(delivery.channel)) handlers.add(sub.onDelivery);
    }
    if (handlers.size === 0) {
      this.#logger.info("KADI delivery on a channel with no subscriber", {
        channel: delivery.channel,
      });
    }
    for (const handler of handlers) {
      try {
        handler(delivery);
      } catch (error) {
        this.#logger.error("KADI delivery handler threw", { channel: delivery.channel, error });
      }
    }
  }

  #setState(state: KadiClientState): void {
    if (this.#state === state) return;
    this.#state = state;
    for (const listener of [...this.#stateListeners]) {
      try {
        listener(state);
      } catch (error) {
        this.#logger.error("KADI state listener threw", { state, error });
      }
    }
  }
}

function errorFromWire(error: JsonRpcErrorObject): KadiError {
  return new KadiError("tool_error", error.message, {
    code: error.code,
    ...(error.data === undefined ? {} : { data: error.data }),
  });
}

function asKadiError(error: unknown): KadiError {
  return isKadiError(error)
    ? error
    : new KadiError("protocol", error instanceof Error ? error.message : String(error), {
        cause: error,
      });
}

function parseResult<T>(schema: z.ZodType<T>, value: unknown, method: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new KadiError("protocol", `malformed ${method} result: ${describe(parsed.error)}`);
  }
  return parsed.data;
}

function rawDataToString(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}

function closeSocket(ws: WebSocket): Promise<void> {
  return new Promise<void>((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) {
      resolve();
      return;
    }
    const fallback = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    ws.once("close", () => {
      clearTimeout(fallback);
      resolve();
    });
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else if (ws.readyState === WebSocket.OPEN) ws.close(1000, "client closing");
  });
}
