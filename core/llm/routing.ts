/**
 * Which model answers a turn and where a failed turn falls back to: pure decisions over the
 * model table (`./models`), kept apart from the call loop in `./manager` so routing can change
 * without touching retries, breakers or I/O.
 */
import { DEFAULT_MODELS, describeModelNames, type ResolvedModel, resolveModel } from "./models";
import type { ProviderId } from "./types";

/** The provider a failed or skipped primary falls back to (there are exactly two). */
export function otherProvider(id: ProviderId): ProviderId {
  return id === "anthropic" ? "openai-compatible" : "anthropic";
}

/**
 * The default model: `configured` (from `DEFAULT_MODEL`) when given, else Anthropic's default
 * when Anthropic is configured, else the OpenAI-compatible provider's.
 *
 * @throws {Error} when `configured` names no routable model: a bad `DEFAULT_MODEL` should stop
 *   the container at start-up rather than degrade every turn.
 */
export function chooseDefaultModel(
  configured: string | undefined,
  anthropicConfigured: boolean,
): ResolvedModel {
  if (configured !== undefined && configured.trim() !== "") {
    const resolved = resolveModel(configured);
    if (!resolved) {
      throw new Error(`DEFAULT_MODEL "${configured}" is not ${describeModelNames()}`);
    }
    return resolved;
  }
  const provider: ProviderId = anthropicConfigured ? "anthropic" : "openai-compatible";
  return { model: DEFAULT_MODELS[provider], provider };
}

/**
 * The model a fallback to each provider uses: the table's default, except that the default
 * model's provider uses the default model itself (`DEFAULT_MODEL` is the operator's choice for
 * its provider, so a fallback there honours it too).
 */
export function fallbackModels(defaultModel: ResolvedModel): Record<ProviderId, string> {
  return { ...DEFAULT_MODELS, [defaultModel.provider]: defaultModel.model };
}

/** Result of {@link planRoute}. */
export interface RoutePlan {
  /**
   * The primary, then (unless the caller ruled it out) the fallback: the other provider with
   * its fallback model.
   */
  steps: [primary: ResolvedModel, ...fallback: ResolvedModel[]];
  /** Why the requested model was not used, when it was not. */
  notes: string[];
}

/**
 * The providers and models to try for one turn, in order. `requested` (an id or alias, from a
 * `[model]` directive or a preference) picks the primary; an unroutable name is replaced by
 * `defaultModel`, with a note saying so. `fallback: false` (`CompleteInput.fallback`) plans the
 * primary alone.
 */
export function planRoute(
  requested: string | undefined,
  defaultModel: ResolvedModel,
  fallbacks: Readonly<Record<ProviderId, string>>,
  fallback = true,
): RoutePlan {
  const notes: string[] = [];
  let primary = defaultModel;
  const name = requested?.trim();
  if (name) {
    const resolved = resolveModel(name);
    if (resolved) primary = resolved;
    else notes.push(`model "${name}" is not ${describeModelNames()}; using ${primary.model}`);
  }
  if (!fallback) return { steps: [primary], notes };
  const other = otherProvider(primary.provider);
  return { steps: [primary, { provider: other, model: fallbacks[other] }], notes };
}
