/**
 * Shared shapes of the LLM layer: what the agent turn asks for, what a provider answers,
 * and the typed errors every provider maps its failures to.
 */

import { PROVIDER_IDS, type ProviderId } from "../constants/models";

/** Provider identifiers, declared with the model table (`core/constants/models.ts`). */
export { PROVIDER_IDS, type ProviderId };

/** One turn of conversation as sent to a model. `system` text travels separately. */
export interface ChatMessage {
  role: "user" | "assistant";
  content: string;
}

/** A completion request after model resolution. */
export interface CompletionRequest {
  /** Concrete model id (aliases already resolved), e.g. `claude-sonnet-5-5`. */
  model: string;
  /** System prompt; may be empty. */
  system: string;
  /** Oldest first; the last one is the new user message. */
  messages: ChatMessage[];
  /** Upper bound on generated tokens. */
  maxTokens: number;
  /** Abort the HTTP call after this many milliseconds. */
  timeoutMs: number;
}

/** A successful completion. Token counts are as reported by the provider (0 when absent). */
export interface Completion {
  text: string;
  model: string;
  provider: ProviderId;
  inputTokens: number;
  outputTokens: number;
}

/** What a turn asks the provider manager for (see {@link Completer}). */
export interface CompleteInput {
  /** Id or alias from a `[model]` directive or user preference; absent = the default model. */
  model?: string;
  /** System prompt; may be empty. */
  system: string;
  /** Oldest first; the last one is the new user message. */
  messages: ChatMessage[];
  /** Output token limit; default {@link DEFAULT_MAX_TOKENS}. */
  maxTokens?: number;
}

/** Output token limit of a {@link CompleteInput} that names none, in tokens. */
export const DEFAULT_MAX_TOKENS = 1024;

/**
 * The slice of the provider manager (`createProviderManager`) its consumers (the chat turn,
 * the archiver) depend on, so they can be tested with a fake. Never rejects: a failed turn is
 * an expected state, returned as `{ ok: false }` with the failure kind.
 */
export interface Completer {
  complete(
    input: CompleteInput,
  ): Promise<
    { ok: true; completion: Completion } | { ok: false; error: Error & { kind: LlmErrorKind } }
  >;
}

/**
 * Failure categories. `auth`, `invalid_request` and `model_not_found` are permanent
 * (never retried); `rate_limit`, `server` (5xx, including Anthropic's 529 overloaded),
 * `timeout` and `network` are transient; `unconfigured` means the provider has no
 * credentials/endpoint at all; `circuit_open` means the breaker refused the call untried.
 */
export type LlmErrorKind =
  | "auth"
  | "rate_limit"
  | "server"
  | "timeout"
  | "network"
  | "invalid_request"
  | "model_not_found"
  | "unconfigured"
  | "circuit_open"
  | "unknown";

/**
 * One model backend. `complete` sends exactly one HTTP request (no retries of its own: the
 * provider manager owns the retry, fallback and breaker policy) and either resolves with the
 * completion or rejects with an `LlmError` (see `./errors`) whose `kind` classifies the failure.
 */
export interface LlmProvider {
  readonly id: ProviderId;
  complete(req: CompletionRequest): Promise<Completion>;
}
