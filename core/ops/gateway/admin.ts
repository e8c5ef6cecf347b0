/**
 * The one interface the gateway bootstrap talks to, whichever admin dialect the gateway speaks
 * (`./litellm` or `./model-manager`; pick one with `createGatewayAdmin` in `./dialects`).
 */

import type { GatewayDialect } from "../../constants/gateway";

/** Admin operations, named in errors so a failure says which step broke. */
export type AdminOperation =
  | "health"
  | "listModels"
  | "createKey"
  | "deleteKey"
  | "registerModel"
  | "deleteModel";

/** One OpenAI-compatible model to expose through the gateway. */
export interface ModelSpec {
  /** Name clients send as `model`, e.g. `gpt-5.4` (what the agent's provider manager uses). */
  name: string;
  /** Model id at the upstream OpenAI-compatible API, e.g. `gpt-5.4`. */
  upstreamModel: string;
  /** Upstream base URL ending in `/v1`; unset means the provider default (OpenAI). */
  apiBase?: string;
  /**
   * Name of the environment variable, on the gateway host, that holds the upstream API key,
   * e.g. `OPENAI_API_KEY`. Only the name crosses the wire; the gateway resolves the value.
   */
  apiKeyEnv?: string;
}

/** An API key the gateway generated. */
export interface CreatedKey {
  /** Identifier accepted by the dialect's delete call (LiteLLM: the alias; model manager: id). */
  id: string;
  /** Human-readable label we chose, e.g. `chat-agent-production-20260101T000000Z`. */
  alias: string;
  /** The secret bearer token; empty when only the alias is known (see `possiblyCreated`). */
  key: string;
}

/** A model deployment registered on the gateway. */
export interface RegisteredModel {
  /** Gateway-side id of this deployment (LiteLLM `model_info.id`, model manager `id`). */
  id: string;
  /** Public model name, as in {@link ModelSpec.name}. */
  name: string;
}

/** Outcome of one health probe; unreachable gateways are unhealthy, not errors. */
export type HealthProbe = { healthy: true } | { healthy: false; reason: string };

/** Something the bootstrap may have created and must undo on failure. */
export type Created = { kind: "key"; key: CreatedKey } | { kind: "model"; model: RegisteredModel };

/**
 * Admin client of one gateway. Every method rejects with {@link GatewayAdminError} only.
 *
 * The optional `signal` cancels a call (the bootstrap passes its interrupt signal); a cancelled
 * call rejects like a lost connection, with `interrupted` in the message. The deletes take no
 * signal: they undo an interrupted run and must not be cancelled by the same interrupt.
 */
export interface GatewayAdmin {
  readonly dialect: GatewayDialect;
  /** Gateway origin without trailing slash, e.g. `https://gw.example.com`. */
  readonly url: string;
  /**
   * One unauthenticated health probe; never rejects (a cancelled probe is unhealthy).
   * @param timeoutMs - abort the probe after this many ms.
   */
  health(timeoutMs: number, signal?: AbortSignal): Promise<HealthProbe>;
  /** Public names of the models the gateway already serves, with their deployment ids. */
  listModels(signal?: AbortSignal): Promise<RegisteredModel[]>;
  /** Generates an API key labelled `alias`, allowed to call `models` (public names). */
  createKey(
    request: { alias: string; models: string[] },
    signal?: AbortSignal,
  ): Promise<CreatedKey>;
  /** Deletes a key. Resolves `true` if it existed, `false` if it was already gone. */
  deleteKey(key: CreatedKey): Promise<boolean>;
  /** Registers one OpenAI-compatible model. */
  registerModel(spec: ModelSpec, signal?: AbortSignal): Promise<RegisteredModel>;
  /** Deletes a model deployment. Resolves `true` if it existed, `false` if already gone. */
  deleteModel(model: RegisteredModel): Promise<boolean>;
}

/** Constructor fields of {@link GatewayAdminError}. */
export interface GatewayAdminErrorInit {
  dialect: GatewayDialect;
  operation: AdminOperation;
  message: string;
  /** HTTP status of the gateway's answer; absent for network errors and timeouts. */
  status?: number;
  /**
   * What the failed call may have created anyway: the request may have been applied before the
   * connection broke or the gateway answered 5xx. Set only when the client knows its id in
   * advance (LiteLLM pins model ids and key aliases), so the caller can still undo it.
   */
  possiblyCreated?: Created;
  cause?: unknown;
}

/**
 * A failed admin call. Messages carry the gateway's error text (truncated) and never the admin
 * key or a generated key.
 */
export class GatewayAdminError extends Error {
  override readonly name = "GatewayAdminError";
  readonly dialect: GatewayDialect;
  readonly operation: AdminOperation;
  readonly status?: number;
  readonly possiblyCreated?: Created;

  constructor(init: GatewayAdminErrorInit) {
    super(init.message, { cause: init.cause });
    this.dialect = init.dialect;
    this.operation = init.operation;
    this.status = init.status;
    this.possiblyCreated = init.possiblyCreated;
  }
}

/** The last 4 characters of a secret, as `…abcd`; shorter secrets print as `…`. */
export function lastFour(secret: string): string {
  return secret.length > 8 ? `…${secret.slice(-4)}` : "…";
}
