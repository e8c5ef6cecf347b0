/**
 * The one table of model ids, aliases and defaults, and the pure routing of a name to its
 * provider. A leaf: it imports nothing, so configuration (`core/config.ts`) can validate
 * `DEFAULT_MODEL` with it while the LLM layer builds on it (`core/llm/models.ts` re-exports it
 * and adds `[model]` directive parsing).
 *
 * Ids come from the installed SDKs' model lists: `Model` in
 * `@anthropic-ai/sdk/resources/messages/messages.d.ts` (SDK 1.12.0) and `ChatModel` in
 * `openai/resources/shared.d.ts` (SDK 6.49.0). The Anthropic SDK warns at run time about the ids
 * in its `DEPRECATED_MODELS` (`claude-sonnet-4-5`, `claude-sonnet-4-5-20250929` in 1.12.0), so
 * none of those appear here. When an SDK upgrade brings newer ids, change this table only.
 */

/**
 * Every provider: `anthropic` is the Anthropic Messages API; `openai-compatible` is any endpoint
 * serving OpenAI's chat-completions API (the deployed gateway, LiteLLM, vLLM, Ollama),
 * configured by the `MODEL_MANAGER_*` variables.
 */
export const PROVIDER_IDS = ["anthropic", "openai-compatible"] as const;

/** A provider identifier; also the key of its breaker and health records and log fields. */
export type ProviderId = (typeof PROVIDER_IDS)[number];

/** Current Claude Sonnet: the default for chat turns when Anthropic is configured. */
export const DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-5-5";

/**
 * Current general GPT: the OpenAI-compatible provider's default. `gpt-5.4` is the newest
 * `ChatModel` entry with a plain name and a `-mini` sibling, and the id the OpenAI SDK's own
 * examples use.
 */
export const DEFAULT_OPENAI_COMPATIBLE_MODEL = "gpt-5.4";

/** Summaries are short and frequent, so the small fast Claude is enough. */
export const DEFAULT_SUMMARY_MODEL = "claude-haiku-5-5";

/** Per-provider default model: the target of a fallback to that provider. */
export const DEFAULT_MODELS: Readonly<Record<ProviderId, string>> = {
  anthropic: DEFAULT_ANTHROPIC_MODEL,
  "openai-compatible": DEFAULT_OPENAI_COMPATIBLE_MODEL,
};

/**
 * Short names people type in `[name]` directives and preferences (lower case). `claude` and
 * `gpt` are included so that `[claude]`/`[gpt]` mean "that family's default" instead of being
 * sent to the API verbatim as a model that does not exist.
 */
export const MODEL_ALIASES: Readonly<Record<string, string>> = {
  sonnet: DEFAULT_ANTHROPIC_MODEL,
  haiku: "claude-haiku-5-5",
  opus: "claude-opus-5-5",
  claude: DEFAULT_ANTHROPIC_MODEL,
  mini: "gpt-5.4-mini",
  gpt: DEFAULT_OPENAI_COMPATIBLE_MODEL,
};

/**
 * What {@link resolveModel} accepts, for error messages: "an alias (sonnet, haiku, …) or a
 * claude*, gpt* or o<digit>* id", the aliases read from {@link MODEL_ALIASES}.
 */
export function describeModelNames(): string {
  return `an alias (${Object.keys(MODEL_ALIASES).join(", ")}) or a claude*, gpt* or o<digit>* id`;
}

/** A model id together with the provider that serves it. */
export interface ResolvedModel {
  /** Concrete model id as sent to the provider, lower case, e.g. `claude-sonnet-5-5`. */
  model: string;
  provider: ProviderId;
}

/**
 * Which provider serves a concrete id, by family prefix: `claude…` → `anthropic`; `gpt…` and
 * the OpenAI reasoning series (`o` followed by a digit: `o1`, `o3-mini`, `o4-mini`, …) →
 * `openai-compatible`. Anything else → `undefined`. Expects a trimmed, lower-case id.
 */
export function routeModel(id: string): ProviderId | undefined {
  if (id.startsWith("claude")) return "anthropic";
  if (id.startsWith("gpt") || /^o\d/.test(id)) return "openai-compatible";
  return undefined;
}

/**
 * Resolves an alias or model id (case-insensitive, surrounding whitespace ignored) to a
 * concrete id and its provider. Unknown ids with a routable prefix pass through unchanged, so
 * a model released after this table still works. Returns `undefined` for empty or unroutable
 * names (e.g. `llama3`, `TODO`, `1`).
 */
export function resolveModel(nameOrAlias: string): ResolvedModel | undefined {
  const name = nameOrAlias.trim().toLowerCase();
  if (!name) return undefined;
  const model = MODEL_ALIASES[name] ?? name;
  const provider = routeModel(model);
  return provider ? { model, provider } : undefined;
}
