/**
 * Wire-level fakes of the model gateway's admin API in both dialects, sharing one state (keys,
 * models, health, injected failures):
 *
 * - LiteLLM proxy, following https://docs.litellm.ai/docs/proxy/virtual_keys,
 *   https://docs.litellm.ai/docs/proxy/model_management and
 *   https://docs.litellm.ai/docs/proxy/health: `GET /health/liveliness` → `"I'm alive!"`,
 *   `POST /key/generate`, `POST /key/delete`, `GET /model/info`, `POST /model/new`,
 *   `POST /model/delete`; errors `{error: {message, type, param, code}}`; body validation
 *   errors as FastAPI's 422 `{detail: [...]}`.
 * - KĀDI model manager, in the shapes assumed by `core/ops/gateway/model-manager.ts` (no public
 *   reference exists): `GET /health`, `GET /admin/models`, `POST /admin/api-keys`,
 *   `DELETE /admin/api-keys/{id}`, `POST /admin/models/openai`, `DELETE /admin/models/{id}`;
 *   errors `{error: {message}}`.
 *
 * Both also serve `GET /v1/models` (OpenAI list format) to bearer tokens they generated, so a
 * test can prove a stored key works with the official `openai` client.
 */
import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  fakeId,
  parseJsonObject,
  type RecordedRequest,
  sendJson,
  startHttpFake,
} from "./http-fake";

/** Admin operations whose next calls can be made to fail. */
export type FakeAdminOperation =
  | "listModels"
  | "createKey"
  | "deleteKey"
  | "registerModel"
  | "deleteModel";

/** A key the fake generated. */
export interface FakeGatewayKey {
  /** Model-manager id, or LiteLLM's hashed token. */
  id: string;
  key: string;
  alias: string;
  /** Public model names the key may call; empty means all. */
  models: string[];
}

/** A model deployment the fake serves. */
export interface FakeGatewayModel {
  id: string;
  name: string;
  /** LiteLLM `litellm_params`, or the model-manager registration body. */
  params: Record<string, unknown>;
}

/** Options of {@link FakeGatewayAdmin.failNext}. */
export interface FakeAdminFailure {
  /** HTTP status of the failure; default 500. */
  status?: number;
  /** Let this many calls of the operation succeed first; default 0. */
  afterSuccesses?: number;
  /** Consecutive calls that fail; default 1. */
  times?: number;
  /**
   * Apply the change, then answer with the error anyway: the "answer lost after commit" case a
   * client cannot tell from a plain failure.
   */
  commit?: boolean;
  /** Error message; default `Injected failure (<status>)`. */
  message?: string;
}

/** Options of {@link FakeGatewayAdmin.pauseNext}. */
export interface FakeAdminPause {
  /** Let this many calls of the operation pass first; default 0. */
  afterSuccesses?: number;
  /** Apply the change before holding the answer, instead of holding both; default `false`. */
  commit?: boolean;
}

/** A request held by {@link FakeGatewayAdmin.pauseNext}. */
export interface PausedRequest {
  /** Resolves once the request has arrived and is being held. */
  arrived: Promise<void>;
  /** Lets the request go on. */
  release(): void;
  /**
   * Resolves after release: `answered`, or `dropped` when its client disconnected while it was
   * held. A dropped request applies nothing it had not committed already, like a server that
   * checks the connection before writing.
   */
  settled: Promise<"answered" | "dropped">;
}

/** One admin or health request as received. */
export interface RecordedAdminRequest extends RecordedRequest {
  method: string;
  path: string;
}

/** A running fake gateway. */
export interface FakeGatewayAdmin {
  dialect: "litellm" | "model-manager";
  /** Origin without trailing slash (what `GATEWAY_URL` holds). */
  url: string;
  /** The only bearer token admin routes accept. */
  masterKey: string;
  /** Every request received, oldest first. */
  requests: RecordedAdminRequest[];
  /** Snapshot of the keys that exist now. */
  keys(): FakeGatewayKey[];
  /** Snapshot of the models served now. */
  models(): FakeGatewayModel[];
  /** Seeds a model as if registered earlier (not through the admin API). */
  addModel(name: string): FakeGatewayModel;
  /** While `false`, the health route and every admin route answer 503. Default `true`. */
  setHealthy(healthy: boolean): void;
  /** The next `probes` health probes answer 503, later ones follow {@link setHealthy}. */
  healthyAfter(probes: number): void;
  /** Health probes received so far. */
  healthProbes(): number;
  /** Makes calls of `operation` fail as described. Rules apply in the order added. */
  failNext(operation: FakeAdminOperation, failure?: FakeAdminFailure): void;
  /**
   * Holds the next call of `operation` (after validation) until released, so a test can act
   * while it is in flight. Pauses are checked before {@link failNext} rules.
   */
  pauseNext(operation: FakeAdminOperation, pause?: FakeAdminPause): PausedRequest;
  /** While `true`, connections are destroyed on arrival. */
  setDown(down: boolean): void;
  /**
   * Clears keys, models, requests, failures, pauses and probe counts (held requests are
   * released); healthy and up again.
   */
  reset(): void;
  close(): Promise<void>;
}

/** Options of both starters. */
export interface FakeGatewayOptions {
  /** Admin bearer token; default `sk-master-fake`. */
  masterKey?: string;
}

interface FailureRule extends Required<Omit<FakeAdminFailure, "message">> {
  kind: "fail";
  operation: FakeAdminOperation;
  message?: string;
}

interface PauseRule extends Required<FakeAdminPause> {
  kind: "pause";
  operation: FakeAdminOperation;
  arrived(): void;
  released: Promise<void>;
  release(): void;
  settle(outcome: "answered" | "dropped"): void;
}

/** What happens to one admin call instead of the plain success. */
type Interference = FailureRule | PauseRule;

/** What a route handler gets. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  body: Record<string, unknown> | undefined;
}

/** Shared state and control logic; the dialects only differ in routes and shapes. */
class GatewayState {
  keys = new Map<string, FakeGatewayKey>();
  models = new Map<string, FakeGatewayModel>();
  healthy = true;
  unhealthyProbesLeft = 0;
  probes = 0;
  rules: FailureRule[] = [];
  pauses: PauseRule[] = [];

  /** Counts a probe and says whether it passes. */
  probe(): boolean {
    this.probes += 1;
    if (this.unhealthyProbesLeft > 0) {
      this.unhealthyProbesLeft -= 1;
      return false;
    }
    return this.healthy;
  }

  /** The pause, else the failure, to apply to this call of `operation` (consumes the rule). */
  interfere(operation: FakeAdminOperation): Interference | undefined {
    const pause = this.pauses.find((p) => p.operation === operation);
    if (pause && pause.afterSuccesses > 0) pause.afterSuccesses -= 1;
    else if (pause) {
      this.pauses.splice(this.pauses.indexOf(pause), 1);
      return pause;
    }
    return this.takeFailure(operation);
  }

  /** The failure to apply to this call of `operation`, if any (consumes the rule). */
  takeFailure(operation: FakeAdminOperation): FailureRule | undefined {
    const rule = this.rules.find((r) => r.operation === operation);
    if (!rule) return undefined;
    if (rule.afterSuccesses > 0) {
      rule.afterSuccesses -= 1;
      return undefined;
    }
    rule.times -= 1;
    if (rule.times <= 0) this.rules.splice(this.rules.indexOf(rule), 1);
    return rule;
  }

  keyForBearer(authorization: string | undefined): FakeGatewayKey | undefined {
    const token = authorization?.replace(/^Bearer\s+/i, "");
    return [...this.keys.values()].find((k) => k.key === token);
  }

  reset(): void {
    this.keys.clear();
    this.models.clear();
    this.healthy = true;
    this.unhealthyProbesLeft = 0;
    this.probes = 0;
    this.rules = [];
    for (const pause of this.pauses) pause.release();
    this.pauses = [];
  }
}

/** Dialect-specific wire format on top of {@link GatewayState}. */
interface Dialect {
  healthPath: string;
  healthy(res: ServerResponse): void;
  unhealthy(res: ServerResponse): void;
  error(res: ServerResponse, status: number, message: string): void;
  /** Routes an authenticated admin request; returns `false` for unknown routes. */
  route(
    exchange: Exchange,
    state: GatewayState,
    failure: (operation: FakeAdminOperation) => Interference | undefined,
  ): boolean;
}

async function startFakeGateway(
  dialectName: FakeGatewayAdmin["dialect"],
  dialect: Dialect,
  options: FakeGatewayOptions,
): Promise<FakeGatewayAdmin> {
  const masterKey = options.masterKey ?? "sk-master-fake";
  const state = new GatewayState();
  const requests: RecordedAdminRequest[] = [];

  const http = await startHttpFake((req, res, raw) => {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const body = parseJsonObject(raw);
    requests.push({ method: req.method ?? "GET", path, headers: req.headers, body: body ?? {} });

    if (req.method === "GET" && path === dialect.healthPath) {
      return state.probe() ? dialect.healthy(res) : dialect.unhealthy(res);
    }
    if (!state.healthy || state.unhealthyProbesLeft > 0) {
      return dialect.error(res, 503, "gateway is starting");
    }
    if (req.method === "GET" && path === "/v1/models") {
      const key = state.keyForBearer(req.headers.authorization);
      if (!key) return dialect.error(res, 401, "invalid API key");
      const data = [...state.models.values()]
        .filter((m) => key.models.length === 0 || key.models.includes(m.name))
        .map((m) => ({ id: m.name, object: "model", created: 0, owned_by: "openai" }));
      return sendJson(res, 200, { object: "list", data });
    }
    if (req.headers.authorization !== `Bearer ${masterKey}`) {
      return dialect.error(res, 401, "Authentication Error, invalid admin key");
    }
    const handled = dialect.route({ req, res, path, body }, state, (operation) =>
      state.interfere(operation),
    );
    if (!handled) dialect.error(res, 404, `Not Found (${req.method} ${path})`);
  });

  return {
    dialect: dialectName,
    url: http.url,
    masterKey,
    requests,
    keys: () => [...state.keys.values()].map((k) => ({ ...k, models: [...k.models] })),
    models: () => [...state.models.values()].map((m) => ({ ...m, params: { ...m.params } })),
    addModel: (name) => {
      const model = { id: randomUUID(), name, params: { model: `openai/${name}` } };
      state.models.set(model.id, model);
      return { ...model };
    },
    setHealthy: (healthy) => {
      state.healthy = healthy;
    },
    healthyAfter: (probes) => {
      state.unhealthyProbesLeft = probes;
    },
    healthProbes: () => state.probes,
    failNext: (operation, failure = {}) => {
      state.rules.push({
        kind: "fail",
        operation,
        status: failure.status ?? 500,
        afterSuccesses: failure.afterSuccesses ?? 0,
        times: failure.times ?? 1,
        commit: failure.commit ?? false,
        message: failure.message,
      });
    },
    pauseNext: (operation, pause = {}) => {
      let arrived = () => {};
      let release = () => {};
      let settle: (outcome: "answered" | "dropped") => void = () => {};
      const handle: PausedRequest = {
        arrived: new Promise((resolve) => {
          arrived = resolve;
        }),
        release: () => release(),
        settled: new Promise((resolve) => {
          settle = resolve;
        }),
      };
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      state.pauses.push({
        kind: "pause",
        operation,
        afterSuccesses: pause.afterSuccesses ?? 0,
        commit: pause.commit ?? false,
        arrived,
        released,
        release,
        settle,
      });
      return handle;
    },
    setDown: http.setDown,
    reset: () => {
      state.reset();
      requests.length = 0;
      http.setDown(false);
    },
    close: http.close,
  };
}

/**
 * Runs `apply` unless the injected failure says otherwise, then answers: the failure's error,
 * or `success(result)`. With `commit`, the change is applied before the error is sent. A pause
 * holds the call (see {@link hold}).
 */
function withFailure<T>(
  dialect: Dialect,
  res: ServerResponse,
  rule: Interference | undefined,
  apply: () => T,
  success: (result: T) => void,
): void {
  if (rule?.kind === "pause") {
    void hold(rule, res, apply, success);
    return;
  }
  if (rule) {
    if (rule.commit) apply();
    dialect.error(res, rule.status, rule.message ?? `Injected failure (${rule.status})`);
    return;
  }
  success(apply());
}

/**
 * Holds a call until its pause is released (applying the change first with `commit`), then
 * answers it, or drops it when the client disconnected meanwhile.
 */
async function hold<T>(
  rule: PauseRule,
  res: ServerResponse,
  apply: () => T,
  success: (result: T) => void,
): Promise<void> {
  let clientGone = false;
  res.once("close", () => {
    clientGone = true;
  });
  const committed = rule.commit ? { result: apply() } : undefined;
  rule.arrived();
  await rule.released;
  if (clientGone || res.destroyed) {
    rule.settle("dropped");
    return;
  }
  success(committed ? committed.result : apply());
  rule.settle("answered");
}

const LITELLM_ERROR_TYPES: Record<number, string> = {
  400: "bad_request_error",
  401: "auth_error",
  404: "not_found_error",
};

const litellm: Dialect = {
  healthPath: "/health/liveliness",
  healthy: (res) => sendJson(res, 200, "I'm alive!"),
  unhealthy: (res) => sendJson(res, 503, { detail: "Service Unavailable" }),
  error: (res, status, message) =>
    sendJson(res, status, {
      error: {
        message,
        type: LITELLM_ERROR_TYPES[status] ?? "internal_server_error",
        param: "None",
        code: String(status),
      },
    }),

  route({ req, res, path, body }, state, failure) {
    const invalid = (loc: string, msg: string): true => {
      sendJson(res, 422, { detail: [{ loc: ["body", loc], msg, type: "value_error" }] });
      return true;
    };

    if (req.method === "GET" && path === "/model/info") {
      withFailure(
        litellm,
        res,
        failure("listModels"),
        () => [...state.models.values()],
        (all) =>
          sendJson(res, 200, {
            data: all.map((m) => ({
              model_name: m.name,
              litellm_params: { ...m.params, api_key: undefined },
              model_info: { id: m.id, db_model: true },
            })),
          }),
      );
      return true;
    }
    if (req.method !== "POST") return false;

    if (path === "/key/generate") {
      if (!body) return invalid("body", "Input should be a valid dictionary");
      const models = body.models ?? [];
      if (!Array.isArray(models) || models.some((m) => typeof m !== "string")) {
        return invalid("models", "Input should be a valid list of strings");
      }
      const alias = typeof body.key_alias === "string" ? body.key_alias : "";
      if (alias && [...state.keys.values()].some((k) => k.alias === alias)) {
        litellm.error(res, 400, `Unique key aliases across all keys are required, got ${alias}`);
        return true;
      }
      const create = () => {
        const key = `sk-${fakeId("").slice(0, 22)}`;
        const token = createHash("sha256").update(key).digest("hex");
        const record = { id: token, key, alias, models: models as string[] };
        state.keys.set(token, record);
        return record;
      };
      withFailure(litellm, res, failure("createKey"), create, (record) =>
        sendJson(res, 200, {
          key: record.key,
          key_name: `sk-...${record.key.slice(-4)}`,
          key_alias: record.alias || null,
          token: record.id,
          token_id: record.id,
          models: record.models,
          expires: null,
          user_id: null,
          metadata: body.metadata ?? {},
        }),
      );
      return true;
    }

    if (path === "/key/delete") {
      const keys = Array.isArray(body?.keys) ? (body.keys as unknown[]) : [];
      const aliases = Array.isArray(body?.key_aliases) ? (body.key_aliases as unknown[]) : [];
      const matches = [...state.keys.values()].filter(
        (k) => keys.includes(k.key) || (k.alias !== "" && aliases.includes(k.alias)),
      );
      if (matches.length === 0) {
        litellm.error(res, 404, "Failed to delete all keys. Keys passed in were not found.");
        return true;
      }
      const remove = () => {
        for (const k of matches) state.keys.delete(k.id);
        return matches;
      };
      withFailure(litellm, res, failure("deleteKey"), remove, (removed) =>
        sendJson(res, 200, { deleted_keys: removed.map((k) => k.key) }),
      );
      return true;
    }

    if (path === "/model/new") {
      const params = body?.litellm_params as Record<string, unknown> | undefined;
      if (typeof body?.model_name !== "string") return invalid("model_name", "Field required");
      if (typeof params?.model !== "string") return invalid("litellm_params", "Field required");
      const info = (body.model_info ?? {}) as Record<string, unknown>;
      const id = typeof info.id === "string" ? info.id : randomUUID();
      if (state.models.has(id)) {
        litellm.error(res, 400, `Model with id=${id} already exists`);
        return true;
      }
      const name = body.model_name;
      const create = () => {
        const model = { id, name, params: { ...params } };
        state.models.set(id, model);
        return model;
      };
      withFailure(litellm, res, failure("registerModel"), create, (model) => {
        const now = new Date().toISOString();
        sendJson(res, 200, {
          model_id: model.id,
          model_name: model.name,
          litellm_params: model.params,
          model_info: { ...info, id: model.id },
          created_at: now,
          created_by: "default_user_id",
          updated_at: now,
          updated_by: "default_user_id",
        });
      });
      return true;
    }

    if (path === "/model/delete") {
      const id = typeof body?.id === "string" ? body.id : "";
      if (!state.models.has(id)) {
        litellm.error(res, 404, `Model with id=${id} not found in db`);
        return true;
      }
      withFailure(
        litellm,
        res,
        failure("deleteModel"),
        () => state.models.delete(id),
        () => sendJson(res, 200, { message: `Model: ${id} deleted successfully` }),
      );
      return true;
    }
    return false;
  },
};

const modelManager: Dialect = {
  healthPath: "/health",
  healthy: (res) => sendJson(res, 200, { status: "ok" }),
  unhealthy: (res) => sendJson(res, 503, { status: "starting" }),
  error: (res, status, message) => sendJson(res, status, { error: { message } }),

  route({ req, res, path, body }, state, failure) {
    const bad = (message: string): true => {
      modelManager.error(res, 400, message);
      return true;
    };

    if (req.method === "GET" && path === "/admin/models") {
      withFailure(
        modelManager,
        res,
        failure("listModels"),
        () => [...state.models.values()],
        (all) =>
          sendJson(res, 200, {
            data: all.map((m) => ({ id: m.id, name: m.name, model: m.params.model })),
          }),
      );
      return true;
    }

    if (req.method === "POST" && path === "/admin/api-keys") {
      if (typeof body?.name !== "string" || !body.name) return bad("name is required");
      const models = body.models ?? [];
      if (!Array.isArray(models) || models.some((m) => typeof m !== "string")) {
        return bad("models must be an array of strings");
      }
      const name = body.name;
      const create = () => {
        const record = { id: fakeId("key_"), key: fakeId("mm-"), alias: name, models };
        state.keys.set(record.id, record);
        return record;
      };
      withFailure(modelManager, res, failure("createKey"), create, (record) =>
        sendJson(res, 201, {
          id: record.id,
          key: record.key,
          name: record.alias,
          models: record.models,
          createdAt: new Date().toISOString(),
        }),
      );
      return true;
    }

    if (req.method === "POST" && path === "/admin/models/openai") {
      if (typeof body?.name !== "string" || !body.name) return bad("name is required");
      if (typeof body.model !== "string" || !body.model) return bad("model is required");
      const name = body.name;
      if ([...state.models.values()].some((m) => m.name === name)) {
        modelManager.error(res, 409, `model ${name} already exists`);
        return true;
      }
      const create = () => {
        const model = { id: fakeId("mdl_"), name, params: { ...body } };
        state.models.set(model.id, model);
        return model;
      };
      withFailure(modelManager, res, failure("registerModel"), create, (model) =>
        sendJson(res, 201, { id: model.id, name: model.name, model: model.params.model }),
      );
      return true;
    }

    const match = /^\/admin\/(api-keys|models)\/([^/]+)$/.exec(path);
    if (req.method === "DELETE" && match) {
      const [, collection, rawId] = match;
      const id = decodeURIComponent(rawId ?? "");
      const isKey = collection === "api-keys";
      const store: Map<string, unknown> = isKey ? state.keys : state.models;
      if (!store.has(id)) {
        modelManager.error(res, 404, `${isKey ? "api key" : "model"} ${id} not found`);
        return true;
      }
      const operation = isKey ? "deleteKey" : "deleteModel";
      withFailure(
        modelManager,
        res,
        failure(operation),
        () => store.delete(id),
        () => {
          res.writeHead(204).end();
        },
      );
      return true;
    }
    return false;
  },
};

/** Starts a fake LiteLLM proxy on 127.0.0.1. */
export function startFakeLiteLLM(options: FakeGatewayOptions = {}): Promise<FakeGatewayAdmin> {
  return startFakeGateway("litellm", litellm, options);
}

/** Starts a fake KĀDI model manager on 127.0.0.1 (assumed admin API, see the module comment). */
export function startFakeModelManager(options: FakeGatewayOptions = {}): Promise<FakeGatewayAdmin> {
  return startFakeGateway("model-manager", modelManager, options);
}
