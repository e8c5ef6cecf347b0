/**
 * Public contract of the KĀDI broker client (`./client`). It speaks JSON-RPC 2.0 over a WebSocket
 * (wire format: `./protocol`; behaviour: README.md, "Connecting to a KĀDI broker").
 */
import type { KeyObject } from "node:crypto";
import type { Logger } from "@aws-lambda-powertools/logger";

/**
 * A tool this agent serves to other agents through the broker. It is announced in
 * `kadi.agent.register {tools:[{name, description, inputSchema}]}` and invoked by inbound
 * `kadi.ability.request {toolName, toolInput}` requests.
 */
export interface KadiToolDefinition {
  /** Tool name, unique per agent, e.g. `"chat"`. */
  name: string;
  /** One-line description shown to other agents and their models. */
  description: string;
  /**
   * JSON Schema (draft 2020-12 subset, `type: "object"` at the top) of `toolInput`. The client
   * does not validate against it; handlers validate their own input (e.g. with zod) and throw
   * `KadiError` kind `"invalid_params"` to answer JSON-RPC `-32602`.
   */
  inputSchema: Record<string, unknown>;
  /**
   * Serves one call. The resolved value becomes the JSON-RPC `result` (must be JSON-serialisable).
   * A rejection becomes `{error:{code:-32000, message}}`, or `-32602` when the rejection is a
   * `KadiError` with kind `"invalid_params"`.
   *
   * @param input - `toolInput` exactly as received (unvalidated).
   * @param context - `requestId` is the JSON-RPC id of the inbound request (string or number).
   */
  handler: (input: unknown, context: { requestId: string | number }) => Promise<unknown>;
}

/**
 * One ability of a `kadi.ability.list` answer (`{tools:[{name, description, inputSchema, …}]}`):
 * optional fields are absent when the broker sent them null or not at all.
 */
export interface KadiAbility {
  name: string;
  description?: string;
  /** JSON Schema of the ability's input, as its provider registered it. */
  inputSchema?: Record<string, unknown>;
  /** Ids or names of the agents that serve it, when `includeProviders` was asked. */
  providers?: string[];
}

/** One `kadi.event.delivery {channel, data}` notification pushed by the broker. */
export interface KadiDelivery {
  /** Channel the event was published on, e.g. `slack.app_mention.U123`. */
  channel: string;
  /** Event payload exactly as published (unvalidated; consumers parse it with zod). */
  data: unknown;
}

/** Reconnect backoff window: delays double from `initialMs` up to `maxMs`. */
export interface KadiReconnectOptions {
  /** First delay after a lost connection, in ms (default 1000). */
  initialMs: number;
  /** Ceiling of any delay, in ms (default 60000). */
  maxMs: number;
}

/**
 * Timer seam of the client: production uses `setTimeout`/`clearTimeout`; tests pass a fake to
 * drive deadlines, heartbeat, dead-peer detection and reconnect backoff without waiting.
 */
export interface KadiTimers {
  /**
   * Runs `callback` once after `delayMs` ms. Returns a function that cancels it; cancelling a
   * timer that already ran or was cancelled does nothing.
   */
  schedule(callback: () => void, delayMs: number): () => void;
}

/** Construction options of {@link KadiClient} (see `createKadiClient` in `./client`). */
export interface KadiClientOptions {
  /** Broker WebSocket URL, `ws(s)://host:port/kadi` (`KADI_BROKER_URL`). */
  url: string;
  /** Ed25519 private key of this agent (see `loadPrivateKey` / `generateKeyPair` in `./keys`). */
  privateKey: KeyObject;
  /** `displayName` sent in `kadi.agent.register`. */
  agentName: string;
  /** Network ids sent in `kadi.agent.register` (`KADI_NETWORKS`). */
  networks: string[];
  /** Tools this agent serves; registered on every (re)connect. Default none. */
  tools?: KadiToolDefinition[];
  /** Structured logger; the client never logs keys, signatures or payload bodies. */
  logger: Logger;
  /** Deadline of each JSON-RPC request to the broker, in ms (default 10000). */
  requestTimeoutMs?: number;
  /** Interval between `kadi.session.ping` requests, in ms (default 30000). */
  pingIntervalMs?: number;
  /**
   * Silence after which the broker is taken for dead, in ms (default 90000): no message of any
   * kind (pong included) for this long terminates the socket and starts a reconnect.
   */
  deadPeerMs?: number;
  /**
   * Silence after which a ready connection is verified before use, in ms (default
   * `pingIntervalMs + 5000`, i.e. longer than one ping cycle). When `invokeTool`, `subscribe` or
   * `publish` finds that no frame came from the broker for longer than this, it first sends
   * `kadi.session.ping {}` and waits up to `probeTimeoutMs`: any answer lets the call proceed;
   * none terminates the socket and the call waits for the reconnect (re-authenticate,
   * re-register, re-subscribe) and then goes out on the new session, all within the call's own
   * deadline. Concurrent callers share one probe. In normal operation the pings keep the
   * connection fresh, so this only triggers after the process was frozen (an AWS Lambda container
   * between invocations), when the socket may have died without a FIN long before `deadPeerMs`
   * could notice.
   */
  staleAfterMs?: number;
  /** How long the liveness probe of a stale connection waits for an answer, in ms (default 2000). */
  probeTimeoutMs?: number;
  /** Reconnect backoff (default `{initialMs: 1000, maxMs: 60000}`: 1, 2, 4 … 60 s). */
  reconnect?: KadiReconnectOptions;
  /**
   * Uniform source in [0, 1) for reconnect jitter. When given, each delay is drawn uniformly from
   * `[d/2, d]` ("equal jitter"); when omitted, delays are exactly 1, 2, 4 … s.
   */
  random?: () => number;
  /**
   * Clock, epoch ms (default `Date.now`). Call deadlines and the silence of the connection
   * (`deadPeerMs`, `staleAfterMs`) are measured on it; pair it with `timers`.
   */
  now?: () => number;
  /** Timers of deadlines, heartbeat, dead-peer detection and backoff (default `setTimeout`). */
  timers?: KadiTimers;
}

/**
 * Lifecycle of a client. `connecting` → `authenticating` (hello + authenticate) → `registering`
 * → `ready`; a lost connection goes to `reconnecting` (and back through the same steps);
 * `close()` ends in `closed`, which is final.
 */
export type KadiClientState =
  | "connecting"
  | "authenticating"
  | "registering"
  | "ready"
  | "reconnecting"
  | "closed";

/**
 * A long-lived KĀDI broker session with automatic reconnect. All methods that talk to the broker
 * reject with `KadiError` (see `./errors`).
 */
export interface KadiClient {
  /**
   * Opens the socket and runs hello → authenticate → register. Resolves when `ready`. Rejects
   * with `KadiError` kind `"auth"` when the broker refuses the signature (no reconnect then),
   * `"network"` when the first connection cannot be made, `"closed"` if `close()` intervenes.
   * A failed first connect leaves the client `closed` (create a new one to retry). After the
   * first success, connection losses (including refused re-authentication) are retried in the
   * background with backoff until `close()`.
   */
  connect(): Promise<void>;
  /** Current lifecycle state. */
  readonly state: KadiClientState;
  /** Agent id assigned by the broker in the current session; `undefined` before auth. */
  readonly agentId: string | undefined;
  /**
   * Calls another agent's tool: `kadi.ability.request {targetAgent?, toolName, toolInput, timeout}`
   * is answered `{status:"pending", requestId}` and the outcome arrives later as the notification
   * `kadi.ability.response {requestId, result, error}` (a direct result is accepted too). Waits
   * for `ready` first, and probes a connection silent for longer than `staleAfterMs` (within
   * the same deadline).
   *
   * @param targetAgent - broker agent name/id to route to; `undefined` lets the broker pick the
   *   agent that registered `toolName`.
   * @param timeoutMs - overall deadline in ms; what is left of it after waiting for `ready` is
   *   sent to the broker as `timeout` (ms).
   * @returns the tool's `result`.
   * @throws KadiError kind `"timeout"` (deadline passed), `"tool_error"` (the tool or the broker
   *   answered an error; `code` carries the JSON-RPC code when given), `"network"` (connection
   *   lost mid-call), `"closed"` (`close()` called), `"protocol"` (malformed answer).
   */
  invokeTool(
    targetAgent: string | undefined,
    toolName: string,
    input: unknown,
    timeoutMs: number,
  ): Promise<unknown>;
  /**
   * `kadi.ability.list {networks, includeProviders}`: the abilities on those networks. Waits for
   * `ready` and probes a stale connection (`staleAfterMs`), like `invokeTool`. Entries are
   * validated one by one; a malformed one (no `name`) is skipped with a warning, fields not in
   * {@link KadiAbility} are ignored.
   *
   * @throws KadiError kind `"timeout"` (not ready or no answer within `requestTimeoutMs`),
   *   `"tool_error"` (the broker answered an error, e.g. -32601 when it has no such method),
   *   `"network"`, `"closed"`, `"protocol"` (the answer has no `tools` array).
   */
  listAbilities(networks: string[], includeProviders: boolean): Promise<KadiAbility[]>;
  /**
   * `kadi.event.subscribe {channels, networkId}`. Waits for `ready` (the broker rejects
   * subscriptions before authentication) and probes a stale connection (`staleAfterMs`). The
   * subscription is remembered and re-sent after every reconnect; `onDelivery` receives each
   * `kadi.event.delivery` whose channel is in `channels`.
   *
   * @throws KadiError kind `"tool_error"` when the broker rejects it (`code` set), `"timeout"`
   *   (not ready or no answer within `requestTimeoutMs`), `"network"` (connection lost before the
   *   answer; the subscription is then not remembered: call again), `"closed"`, `"protocol"`
   *   (empty `channels` or `networkId`, refused before sending).
   */
  subscribe(
    channels: string[],
    networkId: string,
    onDelivery: (delivery: KadiDelivery) => void,
  ): Promise<void>;
  /**
   * `kadi.event.publish {channel, data, networkId}`. Waits for `ready` and probes a stale
   * connection (`staleAfterMs`).
   *
   * @throws KadiError kind `"tool_error"` (broker refusal), `"timeout"`, `"network"`, `"closed"`,
   *   `"protocol"` (empty `channel` or `networkId`, refused before sending).
   */
  publish(channel: string, data: unknown, networkId: string): Promise<void>;
  /** Registers a state listener; returns a function that removes it. */
  onStateChange(listener: (state: KadiClientState) => void): () => void;
  /**
   * Closes cleanly: stops timers, cancels any reconnect, closes the socket, rejects all pending
   * calls with kind `"closed"`. Idempotent; resolves once the socket is closed.
   */
  close(): Promise<void>;
}
