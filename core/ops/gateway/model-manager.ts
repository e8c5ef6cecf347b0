/**
 * Admin client of the KĀDI model manager.
 *
 * The model manager publishes no API reference; the routes (`/health`, `/admin/api-keys`,
 * `/admin/models/openai`) and the shapes below are OUR ASSUMPTION, modelled on common admin
 * APIs. Change them here (and in `test/fakes/gateway-admin.ts`) once the real service documents
 * its format:
 *
 * - `GET /health` (no auth) → 200 `{status: "ok"}`; anything else means not ready.
 * - `GET /admin/models` → `{data: [{id, name, model, baseUrl?}]}`.
 * - `POST /admin/api-keys {name, models}` → 201 `{id, key, name}`.
 * - `DELETE /admin/api-keys/{id}` → 204; 404 when unknown.
 * - `POST /admin/models/openai {name, model, baseUrl?, apiKeyEnv?}` → 201 `{id, name}`, where
 *   `apiKeyEnv` names a variable in the manager's environment (no upstream secret on the wire).
 * - `DELETE /admin/models/{id}` → 204; 404 when unknown.
 * - Admin routes take `Authorization: Bearer <admin key>`; errors are `{error: {message}}`.
 *
 * Ids are chosen by the server, so a create whose answer is lost cannot be undone by id (the
 * bootstrap finds a lost model registration by name instead).
 */
import * as z from "zod";
import { GATEWAY_HEALTH_ROUTES } from "../../constants/gateway";
import { type GatewayAdmin, GatewayAdminError, type ModelSpec } from "./admin";
import { type AdminHttpOptions, createAdminHttp, probeHealth } from "./http";

/** Options of {@link createModelManagerAdmin}. */
export type ModelManagerAdminOptions = Omit<AdminHttpOptions, "dialect">;

const createdKeySchema = z.object({ id: z.string().min(1), key: z.string().min(1) });
const createdModelSchema = z.object({ id: z.string().min(1) });
const modelListSchema = z.object({
  data: z.array(z.object({ id: z.string(), name: z.string() })),
});

/** The `POST /admin/models/openai` body for a spec (assumed shape, see the module comment). */
export function openAiModelBody(spec: ModelSpec): Record<string, string> {
  const body: Record<string, string> = { name: spec.name, model: spec.upstreamModel };
  if (spec.apiBase) body.baseUrl = spec.apiBase;
  if (spec.apiKeyEnv) body.apiKeyEnv = spec.apiKeyEnv;
  return body;
}

/** A {@link GatewayAdmin} for the KĀDI model manager dialect. */
export function createModelManagerAdmin(options: ModelManagerAdminOptions): GatewayAdmin {
  const call = createAdminHttp({ ...options, dialect: "model-manager" });
  const malformed = (
    operation: "listModels" | "createKey" | "registerModel",
    where: string,
  ): GatewayAdminError =>
    new GatewayAdminError({
      dialect: "model-manager",
      operation,
      message: `unexpected response from ${where}`,
    });

  return {
    dialect: "model-manager",
    url: options.url,

    health: (timeoutMs, signal) =>
      probeHealth(call, GATEWAY_HEALTH_ROUTES["model-manager"], timeoutMs, signal),

    async listModels(signal) {
      const { body } = await call({
        operation: "listModels",
        method: "GET",
        path: "/admin/models",
        signal,
      });
      const parsed = modelListSchema.safeParse(body);
      if (!parsed.success) throw malformed("listModels", "GET /admin/models");
      return parsed.data.data.map(({ id, name }) => ({ id, name }));
    },

    async createKey({ alias, models }, signal) {
      const { body } = await call({
        operation: "createKey",
        method: "POST",
        path: "/admin/api-keys",
        body: { name: alias, models },
        signal,
      });
      const parsed = createdKeySchema.safeParse(body);
      if (!parsed.success) throw malformed("createKey", "POST /admin/api-keys");
      return { id: parsed.data.id, alias, key: parsed.data.key };
    },

    async deleteKey(key) {
      const { status } = await call({
        operation: "deleteKey",
        method: "DELETE",
        path: `/admin/api-keys/${encodeURIComponent(key.id)}`,
        accept: [404],
      });
      return status !== 404;
    },

    async registerModel(spec, signal) {
      const { body } = await call({
        operation: "registerModel",
        method: "POST",
        path: "/admin/models/openai",
        body: openAiModelBody(spec),
        signal,
      });
      const parsed = createdModelSchema.safeParse(body);
      if (!parsed.success) throw malformed("registerModel", "POST /admin/models/openai");
      return { id: parsed.data.id, name: spec.name };
    },

    async deleteModel(model) {
      const { status } = await call({
        operation: "deleteModel",
        method: "DELETE",
        path: `/admin/models/${encodeURIComponent(model.id)}`,
        accept: [404],
      });
      return status !== 404;
    },
  };
}
