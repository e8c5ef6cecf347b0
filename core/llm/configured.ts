import type { ProviderId } from "./types";

/**
 * Which LLM providers the configuration enables, decided from settings alone (no SDK import),
 * so the ingress's `/health` and the worker's provider manager agree without the ingress
 * bundling either SDK.
 */

/** The configuration slice that decides it (fields of `Config`). */
export interface ProviderSettings {
  anthropic: { apiKey?: string; baseUrl?: string };
  /** The `openai-compatible` endpoint: `MODEL_MANAGER_BASE_URL`, `MODEL_MANAGER_API_KEY`. */
  modelManager: { baseUrl?: string; apiKey?: string };
}

/** Why a provider is unconfigured, naming the variable to set. */
export const UNCONFIGURED_REASONS: Readonly<Record<ProviderId, string>> = {
  anthropic: "ANTHROPIC_API_KEY is not set",
  "openai-compatible": "MODEL_MANAGER_BASE_URL is not set",
};

/** `true` per provider whose required variables are set. */
export function configuredProviders(settings: ProviderSettings): Record<ProviderId, boolean> {
  return {
    anthropic: Boolean(settings.anthropic.apiKey),
    "openai-compatible": Boolean(settings.modelManager.baseUrl),
  };
}
