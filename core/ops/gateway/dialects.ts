import type { GatewayDialect } from "../../constants/gateway";
import type { GatewayAdmin } from "./admin";
import { createLiteLlmAdmin } from "./litellm";
import { createModelManagerAdmin } from "./model-manager";

/** Default per-request timeout of admin calls, ms. */
export const DEFAULT_ADMIN_TIMEOUT_MS = 15_000;

/** Options of {@link createGatewayAdmin}, as read from `Config.gateway`. */
export interface GatewayAdminOptions {
  dialect: GatewayDialect;
  /** `GATEWAY_URL`: the gateway origin; a trailing slash is removed. */
  url: string;
  /** `GATEWAY_ADMIN_KEY`: LiteLLM master key or model-manager admin key. */
  adminKey: string;
  /** Per-request timeout, ms; default {@link DEFAULT_ADMIN_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/**
 * The admin client for `dialect`: LiteLLM (`./litellm`) or the KĀDI model manager
 * (`./model-manager`), both behind {@link GatewayAdmin}.
 */
export function createGatewayAdmin(options: GatewayAdminOptions): GatewayAdmin {
  const common = {
    url: options.url.replace(/\/+$/, ""),
    adminKey: options.adminKey,
    timeoutMs: options.timeoutMs ?? DEFAULT_ADMIN_TIMEOUT_MS,
  };
  return options.dialect === "litellm"
    ? createLiteLlmAdmin(common)
    : createModelManagerAdmin(common);
}
