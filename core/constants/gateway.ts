/**
 * The model gateway's admin API dialects and their health routes, shared by configuration
 * (`GATEWAY_DIALECT`), the health check, the operator's bootstrap and `infra/gateway.ts`.
 * Plain data, so `infra/` may import it.
 */

/** Admin API dialects: the LiteLLM proxy, or the KĀDI model manager. */
export const GATEWAY_DIALECTS = ["litellm", "model-manager"] as const;

/** One of {@link GATEWAY_DIALECTS}. */
export type GatewayDialect = (typeof GATEWAY_DIALECTS)[number];

/** Unauthenticated health route per dialect (`docs/deployment.md`, the model gateway). */
export const GATEWAY_HEALTH_ROUTES = {
  /** LiteLLM's liveness probe, answering `"I'm alive!"`
   * (https://docs.litellm.ai/docs/proxy/health). */
  litellm: "/health/liveliness",
  /** The KĀDI model manager's health route. */
  "model-manager": "/health",
} as const satisfies Record<GatewayDialect, string>;
