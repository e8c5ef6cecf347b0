/**
 * `[model]` directive parsing, built on the model table. The table itself (ids, aliases,
 * defaults, `routeModel`, `resolveModel`) lives in the leaf `core/constants/models.ts`, so
 * configuration can validate model names without importing the LLM layer; it is re-exported
 * here for the LLM layer's callers.
 */
import { resolveModel } from "../constants/models";

export {
  DEFAULT_ANTHROPIC_MODEL,
  DEFAULT_MODELS,
  DEFAULT_OPENAI_COMPATIBLE_MODEL,
  DEFAULT_SUMMARY_MODEL,
  describeModelNames,
  MODEL_ALIASES,
  type ResolvedModel,
  resolveModel,
  routeModel,
} from "../constants/models";

/** Result of {@link parseModelDirective}. */
export interface ModelDirective {
  /** Concrete model id the directive named (alias resolved); absent when there was none. */
  model?: string;
  /** The message with the directive removed; the original text when there was none. */
  text: string;
}

/**
 * `[name]` preceded by start/whitespace/`>` (so `<@U123>[haiku]` works and `arr[mini]` does
 * not) and followed by end, whitespace or sentence punctuation, never by `(` (a Markdown masked
 * link `[gpt-5](https://…)` as Discord renders it is not a directive). Names are model-id
 * characters only: letters, digits, `. _ : / -`, up to 64.
 */
const DIRECTIVE = /(^|[\s>])\[([\w.:/-]{1,64})\](?=$|[\s.,!?;:])/g;

/**
 * Finds the first `[model-name]` token in a chat message, anywhere in the text, and strips
 * it. Only names that {@link resolveModel} can route count, so `[1]`, `[link]` and `[TODO]`
 * stay in the text untouched. Whitespace around the removed token collapses to one space (or
 * none at either end of the message); other whitespace, including newlines, is preserved.
 * A leading Slack mention (`<@U123> [haiku] hi` → `<@U123> hi`) is left in place.
 */
export function parseModelDirective(text: string): ModelDirective {
  for (const match of text.matchAll(DIRECTIVE)) {
    const lead = match[1] ?? "";
    const name = match[2] ?? "";
    const resolved = resolveModel(name);
    if (!resolved) continue;
    const start = match.index + lead.length;
    const end = start + name.length + 2;
    const before = text.slice(0, start).replace(/[ \t]+$/, "");
    const after = text.slice(end).replace(/^[ \t]+/, "");
    const needsSpace =
      before !== "" && after !== "" && !/\n$/.test(before) && !/^[\n.,!?;:]/.test(after);
    return { model: resolved.model, text: (before + (needsSpace ? " " : "") + after).trim() };
  }
  return { text };
}
