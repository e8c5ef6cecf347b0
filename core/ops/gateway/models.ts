/**
 * Which models the bootstrap registers: the model manager's default and its small sibling,
 * taken from the one model table (`core/constants/models.ts`) so the gateway serves exactly the ids
 * the provider manager routes to it.
 */
import {
  DEFAULT_OPENAI_COMPATIBLE_MODEL,
  MODEL_ALIASES,
  resolveModel,
} from "../../constants/models";
import type { ModelSpec } from "./admin";

/** `gpt-5.4` and `gpt-5.4-mini` (the `mini` alias). */
export const DEFAULT_GATEWAY_MODELS: readonly string[] = [
  DEFAULT_OPENAI_COMPATIBLE_MODEL,
  MODEL_ALIASES.mini ?? `${DEFAULT_OPENAI_COMPATIBLE_MODEL}-mini`,
];

/** Variable on the gateway host holding the upstream OpenAI key, unless told otherwise. */
export const DEFAULT_UPSTREAM_KEY_ENV = "OPENAI_API_KEY";

/** Upstream settings shared by every model of one bootstrap run. */
export interface UpstreamOptions {
  /** OpenAI-compatible base URL ending in `/v1`; unset means OpenAI itself. */
  apiBase?: string;
  /** Environment variable on the gateway host with the upstream key. */
  apiKeyEnv?: string;
}

/** Result of {@link modelSpecs}: specs, or every name that cannot be served. */
export type ModelSpecsResult = { ok: true; specs: ModelSpec[] } | { ok: false; problems: string[] };

/**
 * Turns model names or aliases (e.g. from `--models gpt-5.4,mini`) into specs. Aliases resolve
 * through `resolveModel`; names the provider manager would not route to the model manager
 * (`claude*`, unknown families) are rejected, since the agent would never call them there.
 * Duplicates collapse to one.
 */
export function modelSpecs(names: readonly string[], upstream: UpstreamOptions): ModelSpecsResult {
  const problems: string[] = [];
  const seen = new Set<string>();
  const specs: ModelSpec[] = [];
  for (const raw of names) {
    const resolved = resolveModel(raw);
    if (resolved?.provider !== "openai-compatible") {
      problems.push(
        `${raw.trim() || "(empty)"}: not a gpt*/o* model the agent routes to the gateway`,
      );
      continue;
    }
    if (seen.has(resolved.model)) continue;
    seen.add(resolved.model);
    specs.push({
      name: resolved.model,
      upstreamModel: resolved.model,
      ...(upstream.apiBase ? { apiBase: upstream.apiBase } : {}),
      ...(upstream.apiKeyEnv ? { apiKeyEnv: upstream.apiKeyEnv } : {}),
    });
  }
  if (specs.length === 0 && problems.length === 0) problems.push("no models given");
  return problems.length > 0 ? { ok: false, problems } : { ok: true, specs };
}
