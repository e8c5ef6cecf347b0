/**
 * A scripted in-process LLM provider and a provider manager around it with a fake clock, for
 * unit tests of the manager and of its consumers.
 */
import { InMemoryBreakerStore } from "../../core/llm/breaker-store";
import { kindForStatus, LlmError } from "../../core/llm/errors";
import { createProviderManager, type ProviderManagerOptions } from "../../core/llm/manager";
import type {
  CompletionRequest,
  LlmProvider,
  ProviderId,
  StreamRequest,
  ToolCall,
} from "../../core/llm/types";

/**
 * A step of a fake provider's script: answer, fail with this HTTP status / error, (streams
 * only; `complete` sends no deltas and just fails) stream some text and then fail, or answer
 * with these tool calls and no text (no deltas).
 */
export type Failure = number | { status: number; retryAfterMs: number } | LlmError;
export type Step =
  | "ok"
  | Failure
  | { deltas: string[]; thenFail: Failure }
  | { toolCalls: ToolCall[] };

function errorOf(id: ProviderId, step: Failure): LlmError {
  if (step instanceof LlmError) return step;
  const status = typeof step === "number" ? step : step.status;
  const init = { kind: kindForStatus(status), provider: id, status, message: `HTTP ${status}` };
  return new LlmError(
    typeof step === "number" ? init : { ...init, retryAfterMs: step.retryAfterMs },
  );
}

/**
 * An in-process provider that plays a script, then answers "ok" forever. `complete` and
 * `stream` share the script; a streamed "ok" sends the answer in two deltas.
 */
export function fakeProvider(id: ProviderId, script: Step[] = []) {
  const calls: (CompletionRequest | StreamRequest)[] = [];
  const answer = (req: CompletionRequest) => ({
    text: `${id}:${req.model}`,
    model: req.model,
    provider: id,
    inputTokens: 1,
    outputTokens: 1,
  });
  const provider: LlmProvider = {
    id,
    async complete(req) {
      calls.push(req);
      const step = script.shift() ?? "ok";
      if (step === "ok") return answer(req);
      if (typeof step === "object" && "toolCalls" in step) {
        return { ...answer(req), text: "", toolCalls: step.toolCalls };
      }
      throw errorOf(id, typeof step === "object" && "deltas" in step ? step.thenFail : step);
    },
    async stream(req, onText) {
      calls.push(req);
      const step = script.shift() ?? "ok";
      if (step === "ok") {
        onText(`${id}:`);
        onText(req.model);
        return answer(req);
      }
      if (typeof step === "object" && "toolCalls" in step) {
        return { ...answer(req), text: "", toolCalls: step.toolCalls };
      }
      if (typeof step === "object" && "deltas" in step) {
        for (const delta of step.deltas) onText(delta);
        throw errorOf(id, step.thenFail);
      }
      throw errorOf(id, step);
    },
  };
  return { provider, calls, script };
}

/** Manager with a fake clock that the fake sleep advances, and pinned jitter. */
export function setup(
  providers: ProviderManagerOptions["providers"],
  extra: Partial<ProviderManagerOptions> = {},
) {
  const clock = { now: 1_700_000_000_000 };
  const sleeps: number[] = [];
  const store = new InMemoryBreakerStore();
  const manager = createProviderManager({
    providers,
    breakerStore: store,
    now: () => clock.now,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.now += ms;
    },
    random: () => 0.5,
    baseDelayMs: 100,
    maxDelayMs: 1_000,
    ...extra,
  });
  return { manager, clock, sleeps, store };
}

export const turn = { system: "be brief", messages: [{ role: "user" as const, content: "hi" }] };
