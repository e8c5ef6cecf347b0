/**
 * Both wire-level LLM fakes (`test/fakes/anthropic.ts`, `test/fakes/openai.ts`) with the real
 * provider classes (official SDKs, real HTTP) pointed at them, for the `llm-*` integration
 * tests: started once per file, reset before each test, closed after the file.
 */
import { afterAll, beforeAll, beforeEach } from "vitest";
import { createAnthropicProvider } from "../../core/llm/anthropic";
import { InMemoryBreakerStore } from "../../core/llm/breaker-store";
import {
  createProviderManager,
  type ProviderManager,
  type ProviderManagerOptions,
} from "../../core/llm/manager";
import { createOpenAICompatibleProvider } from "../../core/llm/openai";
import type { LlmProvider } from "../../core/llm/types";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { type FakeOpenAI, startFakeOpenAI } from "../fakes/openai";

/** Models the OpenAI-compatible fake serves here (the routing table's OpenAI models). */
export const FAKE_OPENAI_MODELS = ["gpt-5.4", "gpt-5.4-mini"];

/** What {@link useLlmFakes} returns; the fields are set once the file's `beforeAll` ran. */
export interface LlmFakes {
  anthropicFake: FakeAnthropic;
  openaiFake: FakeOpenAI;
  /** The Anthropic provider, pointed at {@link LlmFakes.anthropicFake}. */
  anthropic: LlmProvider;
  /** The OpenAI-compatible provider, pointed at {@link LlmFakes.openaiFake}. */
  openAICompatible: LlmProvider;
  /**
   * A provider manager over both providers: a fresh in-memory breaker, backoff skipped
   * (`sleep` resolves at once), a 5 000-ms call timeout; `extra` overrides any of these.
   */
  manager(extra?: Partial<ProviderManagerOptions>): ProviderManager;
}

/**
 * Registers the file's hooks: start both fakes and their providers (`beforeAll`), reset the
 * fakes (`beforeEach`, before the file's own `beforeEach`), close them (`afterAll`).
 *
 * @param keys - the API key each fake requires and its provider sends.
 */
export function useLlmFakes(keys: { anthropic: string; openai: string }): LlmFakes {
  const fakes = {
    manager: (extra: Partial<ProviderManagerOptions> = {}) =>
      createProviderManager({
        providers: { anthropic: fakes.anthropic, "openai-compatible": fakes.openAICompatible },
        breakerStore: new InMemoryBreakerStore(),
        sleep: async () => {},
        timeoutMs: 5_000,
        ...extra,
      }),
  } as LlmFakes;

  beforeAll(async () => {
    fakes.anthropicFake = await startFakeAnthropic({ apiKey: keys.anthropic });
    fakes.openaiFake = await startFakeOpenAI({ apiKey: keys.openai, models: FAKE_OPENAI_MODELS });
    fakes.anthropic = createAnthropicProvider({
      apiKey: keys.anthropic,
      baseURL: fakes.anthropicFake.url,
    });
    fakes.openAICompatible = createOpenAICompatibleProvider({
      baseURL: fakes.openaiFake.url,
      apiKey: keys.openai,
    });
  });

  afterAll(async () => {
    await Promise.all([fakes.anthropicFake?.close(), fakes.openaiFake?.close()]);
  });

  beforeEach(() => {
    fakes.anthropicFake.reset();
    fakes.openaiFake.reset();
  });

  return fakes;
}
