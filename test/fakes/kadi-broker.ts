/**
 * Wire-level fake of a KĀDI broker (docs/architecture.md, "KĀDI wire protocol"): a `ws` server on
 * 127.0.0.1 at path `/kadi` speaking JSON-RPC 2.0. It issues a random nonce on hello, checks the
 * Ed25519 signature over the nonce's UTF-8 bytes against the base64 SPKI DER public key, assigns
 * agent ids, keeps a per-connection registry of tools and subscriptions, routes
 * `kadi.ability.request` between connected agents with the pending → `kadi.ability.response`
 * two-step, lists abilities (`kadi.ability.list`), serves the template's file abilities itself
 * when asked to (`fileAbilities`, with scriptable failures), delivers events, and answers pings. Like the real broker, it forwards a call to its
 * provider as `{toolName, toolInput}` alone: no caller agent id or key, and nothing else a caller
 * put in its params (so a caller cannot claim an identity either). Connections can be made a black hole (open but
 * mute both ways) to stand for a TCP connection that died without a FIN. Like the real broker it uses string ids in its
 * own requests and leaves `"jsonrpc"` out of every other frame, to keep clients tolerant.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import WebSocket, { WebSocketServer } from "ws";
import type * as z from "zod";
import { verifyNonceSignature } from "../../core/kadi/keys";
import {
  AbilityListParamsSchema,
  AbilityRequestParamsSchema,
  AuthenticateParamsSchema,
  describe,
  HelloParamsSchema,
  type JsonRpcErrorObject,
  type JsonRpcId,
  KADI_METHODS,
  PublishParamsSchema,
  parseJsonRpcMessage,
  RegisterParamsSchema,
  SubscribeParamsSchema,
  type ToolDescriptor,
} from "../../core/kadi/protocol";
import { FAKE_FILE_ABILITIES, type FakeAbility } from "./kadi-file-abilities";

/** JSON-RPC error codes the fake answers with (the -320xx range is "server error", §5.1). */
export const FAKE_KADI_ERRORS = {
  authFailed: -32001,
  notAuthenticated: -32002,
  noProvider: -32601,
  invalidParams: -32602,
  methodNotFound: -32601,
  toolTimeout: -32003,
  providerGone: -32004,
  toolFailed: -32000,
} as const;

/** Provider name the fake lists for the abilities it serves itself. */
export const FAKE_FILE_ABILITY_PROVIDER = "fake-file-abilities";

/**
 * How one of the fake's own abilities answers its next calls ({@link FakeKadiBroker.scriptAbility}):
 * - `error`: `kadi.ability.response` with a JSON-RPC error (default -32000, "tool failed");
 * - `timeout`: never answers (the caller's deadline decides);
 * - `slow`: the normal answer after `delayMs`;
 * - `result`: answers `value` instead of the normal answer.
 */
export type FakeAbilityScript =
  | { kind: "error"; code?: number; message?: string }
  | { kind: "timeout" }
  | { kind: "slow"; delayMs: number }
  | { kind: "result"; value: unknown };

/** One call of one of the fake's own abilities. */
export interface FakeAbilityCall {
  name: string;
  /** `toolInput` as the caller sent it. */
  input: unknown;
  /** The caller's agent id. */
  agentId: string | undefined;
  /** `timeout` the caller sent, ms. */
  timeout: number | undefined;
}

/** Options of {@link startFakeKadiBroker}. */
export interface FakeKadiBrokerOptions {
  /** Port to listen on; default 0 (OS-assigned, then kept across `stop()`/`restart()`). */
  port?: number;
  /** Deadline of a routed tool call when the caller sent no `timeout`, in ms (default 30000). */
  defaultToolTimeoutMs?: number;
  /**
   * When set, only these base64 SPKI public keys may authenticate (a broker with registered
   * agents); others get `authFailed` even with a valid signature.
   */
  allowedPublicKeys?: string[];
  /**
   * Serve the KĀDI template's file abilities itself (`./kadi-file-abilities`): listed by
   * `kadi.ability.list` (provider {@link FAKE_FILE_ABILITY_PROVIDER}) and answered through the
   * pending → `kadi.ability.response` two-step when no connected agent registered the name.
   * Default false.
   */
  fileAbilities?: boolean;
}

/** One authenticated, connected agent as the fake sees it. */
export interface FakeKadiAgent {
  /** Internal number of the WebSocket connection. */
  connectionId: number;
  agentId: string;
  /** Base64 SPKI DER public key the agent authenticated with. */
  publicKey: string;
  /** From `kadi.agent.register`; undefined before registration. */
  displayName: string | undefined;
  tools: ToolDescriptor[];
  networks: string[];
  subscriptions: { channel: string; networkId: string }[];
}

/** One request frame received from a client. */
export interface FakeKadiRequestRecord {
  connectionId: number;
  /** Agent id at the time of the request; undefined before authentication. */
  agentId: string | undefined;
  id: JsonRpcId;
  method: string;
  params: unknown;
}

/** Answer of a client to a request the fake sent ({@link FakeKadiBroker.callAgent}). */
export type FakeKadiAnswer = { result: unknown } | { error: JsonRpcErrorObject };

/** A running fake broker. */
export interface FakeKadiBroker {
  /** `ws://127.0.0.1:{port}/kadi`, stable across `stop()`/`restart()`. */
  readonly url: string;
  readonly port: number;
  /** Authenticated agents on open connections (snapshot copies). */
  agents(): FakeKadiAgent[];
  /**
   * Pushes `kadi.event.delivery {channel, data}` to every connection subscribed to `channel`
   * on `networkId`. Returns how many connections it was sent to.
   */
  deliver(channel: string, data: unknown, networkId: string): number;
  /**
   * Sends a request (string id) to the agent and resolves with its answer; rejects after
   * `timeoutMs` (default 5000) or when the agent disconnects.
   */
  callAgent(
    agentId: string,
    method: string,
    params: unknown,
    timeoutMs?: number,
  ): Promise<FakeKadiAnswer>;
  /** Sends a raw text frame to the agent (for malformed-frame tests). */
  sendRaw(agentId: string, text: string): void;
  /** While false, `kadi.session.ping` gets no answer (for dead-peer tests). Default true. */
  setAnswerPings(answer: boolean): void;
  /** Terminates every open socket without a close frame; the server keeps listening. */
  dropConnections(): void;
  /**
   * Turns the open connections (only `agentId`'s when given) into black holes, like a TCP
   * connection whose peer vanished without a FIN: the socket stays open and its agent stays in
   * {@link FakeKadiBroker.agents} (routing and deliveries still pick it), but every inbound frame
   * is ignored and nothing is sent on it. Connections opened later work normally. Returns how
   * many connections were turned.
   */
  blackholeConnections(agentId?: string): number;
  /** Request frames that arrived on black-holed connections and were ignored, oldest first. */
  blackholed(): FakeKadiRequestRecord[];
  /** Stops listening and terminates every socket, forgetting all state (a broker crash). */
  stop(): Promise<void>;
  /** Listens again on the same port after {@link FakeKadiBroker.stop}. */
  restart(): Promise<void>;
  /** Log of every request frame received, oldest first, across restarts. */
  requests(): FakeKadiRequestRecord[];
  /** How the fake's own ability `name` answers from now on; `undefined` restores the normal answer. */
  scriptAbility(name: string, script: FakeAbilityScript | undefined): void;
  /** Calls of the fake's own abilities (only `name`'s when given), oldest first. */
  abilityCalls(name?: string): FakeAbilityCall[];
  /** While set, `kadi.ability.list` is answered with this JSON-RPC error. */
  setAbilityListError(error: JsonRpcErrorObject | undefined): void;
  /** Stops the broker for good. */
  close(): Promise<void>;
}

interface Connection {
  id: number;
  ws: WebSocket;
  nonce: string | undefined;
  agentId: string | undefined;
  publicKey: string | undefined;
  displayName: string | undefined;
  tools: ToolDescriptor[];
  networks: string[];
  subscriptions: { channel: string; networkId: string }[];
  /** Requests the fake sent to this client, keyed by id. */
  outbound: Map<string, (answer: FakeKadiAnswer | Error) => void>;
  /** Set by `blackholeConnections`: inbound frames are ignored, outbound ones never sent. */
  blackholed: boolean;
}

/** Starts a fake broker on 127.0.0.1. */
export async function startFakeKadiBroker(
  options: FakeKadiBrokerOptions = {},
): Promise<FakeKadiBroker> {
  const defaultToolTimeoutMs = options.defaultToolTimeoutMs ?? 30_000;
  const connections = new Map<number, Connection>();
  const log: FakeKadiRequestRecord[] = [];
  const swallowed: FakeKadiRequestRecord[] = [];
  let answerPings = true;
  const ownAbilities = new Map<string, FakeAbility>(
    options.fileAbilities ? FAKE_FILE_ABILITIES.map((a) => [a.name, a]) : [],
  );
  const scripts = new Map<string, FakeAbilityScript>();
  const abilityCalls: FakeAbilityCall[] = [];
  const abilityTimers = new Set<NodeJS.Timeout>();
  let abilityListError: JsonRpcErrorObject | undefined;
  let nextConnectionId = 1;
  let nextOutboundId = 1;
  let frameCount = 0;
  let http: Server | undefined;
  let wss: WebSocketServer | undefined;
  let port = options.port ?? 0;

  const send = (conn: Connection, message: Record<string, unknown>): void => {
    if (conn.ws.readyState !== WebSocket.OPEN || conn.blackholed) return;
    frameCount += 1;
    // The real broker is inconsistent about "jsonrpc"; clients must accept both forms.
    const frame = frameCount % 2 === 0 ? message : { jsonrpc: "2.0", ...message };
    conn.ws.send(JSON.stringify(frame));
  };
  const result = (conn: Connection, id: JsonRpcId, value: unknown) =>
    send(conn, { id, result: value });
  const fail = (conn: Connection, id: JsonRpcId | null, code: number, message: string) =>
    send(conn, { id, error: { code, message } });

  /** The params as `schema` parses them, or `undefined` after answering -32602. */
  const parseParams = <T>(
    conn: Connection,
    id: JsonRpcId,
    schema: z.ZodType<T>,
    params: unknown,
  ): T | undefined => {
    const parsed = schema.safeParse(params);
    if (parsed.success) return parsed.data;
    fail(conn, id, FAKE_KADI_ERRORS.invalidParams, `invalid params: ${describe(parsed.error)}`);
    return undefined;
  };

  const byAgentId = (agentId: string): Connection | undefined =>
    [...connections.values()].find((c) => c.agentId === agentId);

  const callConnection = (
    conn: Connection,
    method: string,
    params: unknown,
    timeoutMs: number,
  ): Promise<FakeKadiAnswer> =>
    new Promise<FakeKadiAnswer>((resolve, reject) => {
      const id = `broker-${nextOutboundId++}-${randomBytes(3).toString("hex")}`;
      const timer = setTimeout(() => {
        conn.outbound.delete(id);
        reject(
          new Error(`agent ${conn.agentId ?? conn.id} did not answer ${method} in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      conn.outbound.set(id, (answer) => {
        clearTimeout(timer);
        conn.outbound.delete(id);
        if (answer instanceof Error) reject(answer);
        else resolve(answer);
      });
      send(conn, { id, method, params });
    });

  const routeAbility = (caller: Connection, id: JsonRpcId, params: unknown): void => {
    const parsed = parseParams(caller, id, AbilityRequestParamsSchema, params);
    if (!parsed) return;
    const { targetAgent, toolName, toolInput, timeout } = parsed;
    const provider = [...connections.values()].find(
      (c) =>
        c.agentId !== undefined &&
        c.tools.some((t) => t.name === toolName) &&
        (targetAgent === undefined || c.agentId === targetAgent || c.displayName === targetAgent),
    );
    if (provider === undefined) {
      const own = targetAgent === undefined ? ownAbilities.get(toolName) : undefined;
      if (own) {
        serveOwnAbility(caller, id, own, toolInput, timeout);
        return;
      }
      fail(caller, id, FAKE_KADI_ERRORS.noProvider, `no agent provides tool ${toolName}`);
      return;
    }
    const requestId = randomUUID();
    result(caller, id, { status: "pending", requestId });
    callConnection(
      provider,
      KADI_METHODS.abilityRequest,
      { toolName, toolInput },
      timeout ?? defaultToolTimeoutMs,
    ).then(
      (answer) =>
        send(caller, { method: KADI_METHODS.abilityResponse, params: { requestId, ...answer } }),
      (error: Error) => {
        const gone = provider.ws.readyState !== WebSocket.OPEN;
        send(caller, {
          method: KADI_METHODS.abilityResponse,
          params: {
            requestId,
            error: {
              code: gone ? FAKE_KADI_ERRORS.providerGone : FAKE_KADI_ERRORS.toolTimeout,
              message: error.message,
            },
          },
        });
      },
    );
  };

  /** Answers a call of one of the fake's own abilities as scripted (see {@link FakeAbilityScript}). */
  const serveOwnAbility = (
    caller: Connection,
    id: JsonRpcId,
    ability: FakeAbility,
    toolInput: unknown,
    timeout: number | undefined,
  ): void => {
    abilityCalls.push({ name: ability.name, input: toolInput, agentId: caller.agentId, timeout });
    const requestId = randomUUID();
    result(caller, id, { status: "pending", requestId });
    const respond = (params: Record<string, unknown>) =>
      send(caller, { method: KADI_METHODS.abilityResponse, params: { requestId, ...params } });
    const input =
      typeof toolInput === "object" && toolInput !== null && !Array.isArray(toolInput)
        ? (toolInput as Record<string, unknown>)
        : {};
    const script = scripts.get(ability.name);
    switch (script?.kind) {
      case "timeout":
        return;
      case "error":
        respond({
          error: {
            code: script.code ?? FAKE_KADI_ERRORS.toolFailed,
            message: script.message ?? "tool failed",
          },
        });
        return;
      case "result":
        respond({ result: script.value });
        return;
      case "slow": {
        const timer = setTimeout(() => {
          abilityTimers.delete(timer);
          respond({ result: ability.answer(input, Date.now()) });
        }, script.delayMs);
        abilityTimers.add(timer);
        return;
      }
      default:
        respond({ result: ability.answer(input, Date.now()) });
    }
  };

  /** `kadi.ability.list`: the fake's own abilities and those registered on the networks asked. */
  const listAbilities = (conn: Connection, id: JsonRpcId, params: unknown): void => {
    const parsed = parseParams(conn, id, AbilityListParamsSchema, params);
    if (!parsed) return;
    if (abilityListError) {
      fail(conn, id, abilityListError.code, abilityListError.message);
      return;
    }
    const { networks, includeProviders } = parsed;
    const entries: Record<string, unknown>[] = [...ownAbilities.values()].map((a) => ({
      name: a.name,
      description: a.description,
      inputSchema: a.inputSchema,
      // Fields clients do not use, as a real broker sends more than the three they read.
      networks,
      version: "1.0.0",
      ...(includeProviders ? { providers: [FAKE_FILE_ABILITY_PROVIDER] } : {}),
    }));
    for (const agent of connections.values()) {
      if (agent.agentId === undefined || !agent.networks.some((n) => networks.includes(n))) {
        continue;
      }
      for (const tool of agent.tools) {
        entries.push({
          ...tool,
          ...(includeProviders ? { providers: [agent.agentId] } : {}),
        });
      }
    }
    result(conn, id, { tools: entries });
  };

  const deliverTo = (channel: string, data: unknown, networkId: string): number => {
    let count = 0;
    for (const conn of connections.values()) {
      if (conn.subscriptions.some((s) => s.channel === channel && s.networkId === networkId)) {
        send(conn, { method: KADI_METHODS.delivery, params: { channel, data } });
        count += 1;
      }
    }
    return count;
  };

  const onRequest = (conn: Connection, id: JsonRpcId, method: string, params: unknown): void => {
    log.push({ connectionId: conn.id, agentId: conn.agentId, id, method, params });
    switch (method) {
      case KADI_METHODS.hello: {
        const parsed = parseParams(conn, id, HelloParamsSchema, params);
        if (!parsed) return;
        conn.nonce = randomBytes(24).toString("base64url");
        result(conn, id, { nonce: conn.nonce });
        return;
      }
      case KADI_METHODS.authenticate: {
        const parsed = parseParams(conn, id, AuthenticateParamsSchema, params);
        if (!parsed) return;
        const { publicKey, signature, nonce, wantNewId } = parsed;
        const issued = conn.nonce;
        conn.nonce = undefined;
        if (issued === undefined || nonce !== issued) {
          fail(conn, id, FAKE_KADI_ERRORS.authFailed, "unknown or reused nonce");
          return;
        }
        if (!verifyNonceSignature(publicKey, nonce, signature)) {
          fail(conn, id, FAKE_KADI_ERRORS.authFailed, "invalid signature");
          return;
        }
        if (options.allowedPublicKeys && !options.allowedPublicKeys.includes(publicKey)) {
          fail(conn, id, FAKE_KADI_ERRORS.authFailed, "public key not allowed");
          return;
        }
        conn.publicKey = publicKey;
        conn.agentId =
          wantNewId === true
            ? `agent-${randomUUID()}`
            : createHash("sha256").update(publicKey).digest("hex").slice(0, 32);
        result(conn, id, { agentId: conn.agentId });
        return;
      }
      case KADI_METHODS.ping:
        if (answerPings) result(conn, id, "pong");
        return;
    }
    if (conn.agentId === undefined) {
      fail(conn, id, FAKE_KADI_ERRORS.notAuthenticated, `${method} requires authentication`);
      return;
    }
    switch (method) {
      case KADI_METHODS.register: {
        const parsed = parseParams(conn, id, RegisterParamsSchema, params);
        if (!parsed) return;
        conn.tools = parsed.tools;
        conn.networks = parsed.networks;
        conn.displayName = parsed.displayName;
        result(conn, id, { status: "registered", agentId: conn.agentId });
        return;
      }
      case KADI_METHODS.subscribe: {
        const parsed = parseParams(conn, id, SubscribeParamsSchema, params);
        if (!parsed) return;
        const { channels, networkId } = parsed;
        for (const channel of channels) {
          if (!conn.subscriptions.some((s) => s.channel === channel && s.networkId === networkId)) {
            conn.subscriptions.push({ channel, networkId });
          }
        }
        result(conn, id, { subscribed: channels, networkId });
        return;
      }
      case KADI_METHODS.publish: {
        const parsed = parseParams(conn, id, PublishParamsSchema, params);
        if (!parsed) return;
        const { channel, data, networkId } = parsed;
        result(conn, id, { published: true, delivered: deliverTo(channel, data, networkId) });
        return;
      }
      case KADI_METHODS.abilityRequest:
        routeAbility(conn, id, params);
        return;
      case KADI_METHODS.abilityList:
        listAbilities(conn, id, params);
        return;
      default:
        fail(conn, id, FAKE_KADI_ERRORS.methodNotFound, `method not found: ${method}`);
    }
  };

  const onConnection = (ws: WebSocket): void => {
    const conn: Connection = {
      id: nextConnectionId++,
      ws,
      nonce: undefined,
      agentId: undefined,
      publicKey: undefined,
      displayName: undefined,
      tools: [],
      networks: [],
      subscriptions: [],
      outbound: new Map(),
      blackholed: false,
    };
    connections.set(conn.id, conn);
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      const message = parseJsonRpcMessage(data.toString());
      if (conn.blackholed) {
        if (message.kind === "request") {
          const { id, method, params } = message;
          swallowed.push({ connectionId: conn.id, agentId: conn.agentId, id, method, params });
        }
        return;
      }
      switch (message.kind) {
        case "request":
          onRequest(conn, message.id, message.method, message.params);
          return;
        case "success":
          conn.outbound.get(String(message.id))?.({ result: message.result });
          return;
        case "failure":
          if (message.id !== null)
            conn.outbound.get(String(message.id))?.({ error: message.error });
          return;
        case "notification":
          return;
        case "invalid":
          if (message.hadMethod)
            fail(conn, message.id, -32600, `invalid request: ${message.reason}`);
      }
    });
    ws.on("error", () => {
      // A socket error is always followed by "close", which does the clean-up.
    });
    ws.on("close", () => {
      connections.delete(conn.id);
      const pending = [...conn.outbound.values()];
      conn.outbound.clear();
      for (const settle of pending)
        settle(new Error(`agent ${conn.agentId ?? conn.id} disconnected`));
    });
  };

  const listen = async (): Promise<void> => {
    const server = createServer((_req, res) => {
      res.writeHead(426, { "content-type": "text/plain" }).end("WebSocket upgrade required");
    });
    const socketServer = new WebSocketServer({ server, path: "/kadi" });
    socketServer.on("connection", onConnection);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    port = (server.address() as AddressInfo).port;
    http = server;
    wss = socketServer;
  };

  const terminateAll = (): void => {
    for (const conn of connections.values()) conn.ws.terminate();
  };

  const stop = async (): Promise<void> => {
    const server = http;
    const socketServer = wss;
    http = undefined;
    wss = undefined;
    for (const timer of abilityTimers) clearTimeout(timer);
    abilityTimers.clear();
    terminateAll();
    connections.clear();
    if (socketServer !== undefined) {
      await new Promise<void>((resolve) => socketServer.close(() => resolve()));
    }
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    }
  };

  await listen();
  const boundPort = port;

  return {
    url: `ws://127.0.0.1:${boundPort}/kadi`,
    port: boundPort,
    agents: () =>
      [...connections.values()].flatMap((c) =>
        c.agentId === undefined || c.publicKey === undefined
          ? []
          : [
              {
                connectionId: c.id,
                agentId: c.agentId,
                publicKey: c.publicKey,
                displayName: c.displayName,
                tools: c.tools.map((t) => ({ ...t })),
                networks: [...c.networks],
                subscriptions: c.subscriptions.map((s) => ({ ...s })),
              },
            ],
      ),
    deliver: deliverTo,
    callAgent: (agentId, method, params, timeoutMs = 5_000) => {
      const conn = byAgentId(agentId);
      if (conn === undefined) return Promise.reject(new Error(`no connected agent ${agentId}`));
      return callConnection(conn, method, params, timeoutMs);
    },
    sendRaw: (agentId, text) => {
      const conn = byAgentId(agentId);
      if (conn === undefined) throw new Error(`no connected agent ${agentId}`);
      if (!conn.blackholed) conn.ws.send(text);
    },
    setAnswerPings: (answer) => {
      answerPings = answer;
    },
    dropConnections: terminateAll,
    blackholeConnections: (agentId) => {
      let count = 0;
      for (const conn of connections.values()) {
        if (agentId !== undefined && conn.agentId !== agentId) continue;
        conn.blackholed = true;
        count += 1;
      }
      return count;
    },
    blackholed: () => swallowed.map((r) => ({ ...r })),
    stop,
    restart: async () => {
      if (http !== undefined) throw new Error("fake KADI broker is already running");
      await listen();
    },
    requests: () => log.map((r) => ({ ...r })),
    scriptAbility: (name, script) => {
      if (script === undefined) scripts.delete(name);
      else scripts.set(name, script);
    },
    abilityCalls: (name) =>
      abilityCalls.filter((c) => name === undefined || c.name === name).map((c) => ({ ...c })),
    setAbilityListError: (error) => {
      abilityListError = error;
    },
    close: stop,
  };
}
