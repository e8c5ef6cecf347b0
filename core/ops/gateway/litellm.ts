/**
 * Admin client of a LiteLLM proxy (https://docs.litellm.ai/docs/proxy/virtual_keys,
 * https://docs.litellm.ai/docs/proxy/model_management, https://docs.litellm.ai/docs/proxy/health):
 *
 * - `GET /health/liveliness` (no auth) → 200 `"I'm alive!"`.
 * - `GET /model/info` → `{data: [{model_name, litellm_params, model_info: {id, …}}]}`.
 * - `POST /key/generate {key_alias, models, metadata}` → `{key, key_alias, token, expires, …}`.
 * - `POST /key/delete {keys: [key]}` or `{key_aliases: [alias]}` → `{deleted_keys: […]}`.
 * - `POST /model/new {model_name, litellm_params: {model, api_base?, api_key?}, model_info: {id}}`
 *   → the stored deployment row (`{model_id, model_name, litellm_params, model_info: {id}}`).
 * - `POST /model/delete {id}` → `{message}`.
 *
 * Admin calls carry `Authorization: Bearer <LITELLM_MASTER_KEY>`. Errors come as
 * `{error: {message, type, param, code}}`.
 */
import { randomUUID } from "node:crypto";
import * as z from "zod";
import { GATEWAY_HEALTH_ROUTES } from "../../constants/gateway";
import {
  type CreatedKey,
  type GatewayAdmin,
  GatewayAdminError,
  type ModelSpec,
  type RegisteredModel,
} from "./admin";
import { type AdminHttpOptions, createAdminHttp, probeHealth } from "./http";

/** Options of {@link createLiteLlmAdmin}. */
export interface LiteLlmAdminOptions extends Omit<AdminHttpOptions, "dialect"> {
  /** Source of the deployment ids we pin in `model_info.id`; default `crypto.randomUUID`. */
  newId?: () => string;
}

const generatedKeySchema = z.object({ key: z.string().min(1) });

const modelRowSchema = z.object({
  model_name: z.string(),
  model_id: z.string().optional(),
  model_info: z.object({ id: z.string().optional() }).nullish(),
});

const modelInfoSchema = z.object({ data: z.array(modelRowSchema) });

/**
 * LiteLLM's reference to a variable in the proxy's own environment, resolved on the proxy when
 * the deployment is used (`os.environ/NAME`, as in the model-management docs), so the upstream
 * provider key never crosses the wire or lands in LiteLLM's database.
 */
export function environmentReference(name: string): string {
  return `os.environ/${name}`;
}

/**
 * The `/model/new` body for a spec. `openai/<model>` is LiteLLM's provider prefix for OpenAI
 * and any OpenAI-compatible upstream (with `api_base`). The deployment id is chosen here and
 * sent as `model_info.id`, which LiteLLM stores as the row's id, so a request whose answer was
 * lost can still be undone.
 */
export function modelNewBody(spec: ModelSpec, id: string): Record<string, unknown> {
  const params: Record<string, string> = { model: `openai/${spec.upstreamModel}` };
  if (spec.apiBase) params.api_base = spec.apiBase;
  if (spec.apiKeyEnv) params.api_key = environmentReference(spec.apiKeyEnv);
  return { model_name: spec.name, litellm_params: params, model_info: { id } };
}

/** A {@link GatewayAdmin} for the LiteLLM proxy dialect. */
export function createLiteLlmAdmin(options: LiteLlmAdminOptions): GatewayAdmin {
  const call = createAdminHttp({ ...options, dialect: "litellm" });
  const newId = options.newId ?? randomUUID;
  return {
    dialect: "litellm",
    url: options.url,

    health: (timeoutMs, signal) =>
      probeHealth(call, GATEWAY_HEALTH_ROUTES.litellm, timeoutMs, signal),

    async listModels(signal) {
      const { body } = await call({
        operation: "listModels",
        method: "GET",
        path: "/model/info",
        signal,
      });
      const parsed = modelInfoSchema.safeParse(body);
      if (!parsed.success) {
        throw new GatewayAdminError({
          dialect: "litellm",
          operation: "listModels",
          message: "unexpected response: GET /model/info without data[]",
        });
      }
      return parsed.data.data.map((row) => ({
        id: row.model_info?.id ?? row.model_id ?? "",
        name: row.model_name,
      }));
    },

    async createKey({ alias, models }, signal): Promise<CreatedKey> {
      const byAlias: CreatedKey = { id: alias, alias, key: "" };
      const { body } = await call({
        operation: "createKey",
        method: "POST",
        path: "/key/generate",
        body: { key_alias: alias, models, metadata: { created_by: "gateway-bootstrap" } },
        possiblyCreated: { kind: "key", key: byAlias },
        signal,
      });
      const parsed = generatedKeySchema.safeParse(body);
      if (!parsed.success) {
        throw new GatewayAdminError({
          dialect: "litellm",
          operation: "createKey",
          message: "unexpected response: POST /key/generate without a key",
          possiblyCreated: { kind: "key", key: byAlias },
        });
      }
      return { id: alias, alias, key: parsed.data.key };
    },

    async deleteKey(key) {
      const { status } = await call({
        operation: "deleteKey",
        method: "POST",
        path: "/key/delete",
        body: key.key ? { keys: [key.key] } : { key_aliases: [key.alias] },
        accept: [404],
      });
      return status !== 404;
    },

    async registerModel(spec, signal): Promise<RegisteredModel> {
      const pinned: RegisteredModel = { id: newId(), name: spec.name };
      const { body } = await call({
        operation: "registerModel",
        method: "POST",
        path: "/model/new",
        body: modelNewBody(spec, pinned.id),
        possiblyCreated: { kind: "model", model: pinned },
        signal,
      });
      const parsed = modelRowSchema.partial().safeParse(body);
      const id = parsed.success
        ? (parsed.data.model_info?.id ?? parsed.data.model_id ?? pinned.id)
        : pinned.id;
      return { id, name: spec.name };
    },

    async deleteModel(model) {
      const { status } = await call({
        operation: "deleteModel",
        method: "POST",
        path: "/model/delete",
        body: { id: model.id },
        accept: [404],
      });
      return status !== 404;
    },
  };
}
