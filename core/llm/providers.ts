/**
 * Builds the configured providers from settings shaped like `Config.anthropic` and
 * `Config.modelManager` (see `core/config.ts`), so every composition root (Lambda handlers,
 * local stack, tests) decides "configured or not, and why" the same way.
 */
import { createAnthropicProvider } from "./anthropic";
import { configuredProviders, type ProviderSettings, UNCONFIGURED_REASONS } from "./configured";
import { createOpenAICompatibleProvider } from "./openai";
import type { LlmProvider, ProviderId } from "./types";

export type { ProviderSettings };

/** What `createProviderManager` takes as `providers` and `unconfiguredReasons`. */
export interface ConfiguredProviders {
  providers: Partial<Record<ProviderId, LlmProvider>>;
  unconfiguredReasons: Partial<Record<ProviderId, string>>;
}

/**
 * Anthropic is configured by `ANTHROPIC_API_KEY` (base URL optional); the OpenAI-compatible
 * provider by `MODEL_MANAGER_BASE_URL` (key optional, since local Ollama/LiteLLM may need
 * none). SDK clients are created here, once, with the providers' default client-wide timeouts (each
 * request passes its own); call this once per container.
 */
export function createConfiguredProviders(settings: ProviderSettings): ConfiguredProviders {
  const out: ConfiguredProviders = { providers: {}, unconfiguredReasons: {} };
  const configured = configuredProviders(settings);
  const { apiKey, baseUrl } = settings.anthropic;
  if (configured.anthropic && apiKey) {
    out.providers.anthropic = createAnthropicProvider({
      apiKey,
      ...(baseUrl ? { baseURL: baseUrl } : {}),
    });
  } else {
    out.unconfiguredReasons.anthropic = UNCONFIGURED_REASONS.anthropic;
  }
  const endpoint = settings.modelManager;
  if (configured["openai-compatible"] && endpoint.baseUrl) {
    out.providers["openai-compatible"] = createOpenAICompatibleProvider({
      baseURL: endpoint.baseUrl,
      ...(endpoint.apiKey ? { apiKey: endpoint.apiKey } : {}),
    });
  } else {
    out.unconfiguredReasons["openai-compatible"] = UNCONFIGURED_REASONS["openai-compatible"];
  }
  return out;
}
