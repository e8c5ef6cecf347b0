/**
 * Builds the configured providers from settings shaped like `Config.anthropic` and
 * `Config.modelManager` (see `core/config.ts`), so every composition root (Lambda handlers,
 * local stack, tests) decides "configured or not, and why" the same way.
 */
import { createAnthropicProvider } from "./anthropic";
import { configuredProviders, type ProviderSettings, UNCONFIGURED_REASONS } from "./configured";
import { createModelManagerProvider } from "./openai";
import type { LlmProvider, ProviderId } from "./types";

export type { ProviderSettings };

/** What `createProviderManager` takes as `providers` and `unconfiguredReasons`. */
export interface ConfiguredProviders {
  providers: Partial<Record<ProviderId, LlmProvider>>;
  unconfiguredReasons: Partial<Record<ProviderId, string>>;
}

/**
 * Anthropic is configured by `ANTHROPIC_API_KEY` (base URL optional); the model manager by
 * `MODEL_MANAGER_BASE_URL` (key optional, since local Ollama/LiteLLM may need none). SDK
 * clients are created here, once; call this once per container.
 *
 * @param timeoutMs - client-wide HTTP timeout in ms; each request still passes its own.
 */
export function createConfiguredProviders(
  settings: ProviderSettings,
  timeoutMs?: number,
): ConfiguredProviders {
  const out: ConfiguredProviders = { providers: {}, unconfiguredReasons: {} };
  const configured = configuredProviders(settings);
  const { apiKey, baseUrl } = settings.anthropic;
  if (configured.anthropic && apiKey) {
    out.providers.anthropic = createAnthropicProvider({
      apiKey,
      ...(baseUrl ? { baseURL: baseUrl } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
  } else {
    out.unconfiguredReasons.anthropic = UNCONFIGURED_REASONS.anthropic;
  }
  const mm = settings.modelManager;
  if (configured["model-manager"] && mm.baseUrl) {
    out.providers["model-manager"] = createModelManagerProvider({
      baseURL: mm.baseUrl,
      ...(mm.apiKey ? { apiKey: mm.apiKey } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
  } else {
    out.unconfiguredReasons["model-manager"] = UNCONFIGURED_REASONS["model-manager"];
  }
  return out;
}
