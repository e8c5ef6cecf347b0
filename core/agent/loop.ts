/**
 * The agent loop (docs/architecture.md, "The agent turn"): the model streams text and may call
 * tools; each call runs (or waits for the person's approval) and its result goes back to the
 * model, round after round, until it answers in text or a bound is hit. Provider-neutral: the
 * provider manager maps tool calls to Anthropic `tool_use` / OpenAI `tool_calls`.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { AGENT_MAX_ROUNDS, TOOL_RESULT_MAX_BYTES } from "../constants/agent";
import { AGENT_LOOP } from "../constants/timings";
import type {
  ChatMessage,
  Completion,
  LlmErrorKind,
  Streamer,
  ToolCall,
  ToolSpec,
} from "../llm/types";
import type { ToolStep } from "../reply/live-reply";
import { type CallResult, runCall, settle } from "./calls";
import type { AgentTool, PausedLoop, ToolCallRecord, ToolContext } from "./types";

/** The loop's bounds (config `AGENT_MAX_ROUNDS`, `AGENT_BUDGET_MS`, `TOOL_RESULT_MAX_BYTES`). */
export interface LoopBounds {
  /** Model calls that may use tools; past them the model must answer in text. */
  maxRounds: number;
  /** Wall-clock ms for the model calls and tool calls of one turn (an approval wait excluded). */
  budgetMs: number;
  /** Largest tool result sent to the model or stored, bytes of UTF-8. */
  resultMaxBytes: number;
}

/**
 * The bounds a turn runs with when none are configured: 8 rounds, 60 s, 8 KB per result (the
 * config defaults of `AGENT_MAX_ROUNDS`, `AGENT_BUDGET_MS`, `TOOL_RESULT_MAX_BYTES`).
 */
export const DEFAULT_LOOP_BOUNDS: Readonly<LoopBounds> = {
  maxRounds: AGENT_MAX_ROUNDS.default,
  budgetMs: AGENT_LOOP.budgetMs,
  resultMaxBytes: TOOL_RESULT_MAX_BYTES.default,
};

/** Dependencies of {@link runAgentLoop}, built once per container. */
export interface AgentLoopDeps {
  /** The provider manager's streaming call. */
  llm: Streamer;
  bounds: LoopBounds;
  logger: Logger;
  /** Epoch-ms clock. */
  now: () => number;
}

/** One turn's run of the loop. */
export interface LoopRun {
  /** Whose turn: tool calls act for this user and are audited under this job. */
  context: Omit<ToolContext, "deadlineMs">;
  /** Model id or alias asked for; absent = the default. Ignored when resuming. */
  model?: string;
  system: string;
  /** The conversation so far, ending with the person's message. Ignored when resuming. */
  messages: ChatMessage[];
  /** The tools offered this turn (`Toolbox.toolsFor`). */
  tools: AgentTool[];
  /** Each text delta of the answer as it streams (never empty); must not throw. */
  onText: (delta: string) => void;
  /** Each change of a tool call's state; must not throw. */
  onStep: (step: ToolStep) => void;
  /** Each round's completion (its own tokens), e.g. for the daily token budget; must not throw. */
  onRound?: (completion: Completion) => Promise<void>;
}

/** What the person decided on a paused call (`expire`: nobody decided before its TTL). */
export type Decision = "approve" | "deny" | "expire";

/** How a run of the loop ended. */
export type LoopOutcome =
  | {
      kind: "answered";
      /** The last round's completion with `text` = everything shown and the turn's tokens. */
      completion: Completion;
      fellBackFrom?: string;
      actions: ToolCallRecord[];
      /** `rounds` or `budget` when a bound made the model answer without tools. */
      bounded?: "rounds" | "budget";
    }
  | {
      kind: "failed";
      error: Error & { kind: LlmErrorKind };
      /** Text shown before the failure ("" when none). */
      partialText: string;
      /** Whether anything was shown or done before the failure (then the answer is kept). */
      cutOff: boolean;
      actions: ToolCallRecord[];
      tokens: { input: number; output: number };
      model?: string;
    }
  | {
      kind: "paused";
      /** Everything needed to resume (stored with the pending approval). */
      paused: PausedLoop;
      /** The tool waiting for approval. */
      tool: AgentTool;
      /** Text shown so far. */
      text: string;
    };

/** Sent to the model with the final call once a bound is hit. */
export const BOUND_NOTE =
  "You have used this turn's tool budget. Answer now in text with what you have; do not call tools.";

interface LoopState {
  model: string | undefined;
  /** Once the first round answered, every later round stays on its model. */
  pinned: boolean;
  messages: ChatMessage[];
  rounds: number;
  actions: ToolCallRecord[];
  tokens: { input: number; output: number };
  /** Loop time used before this invocation, ms. */
  usedMs: number;
  fellBackFrom?: string;
  shown: string;
}

/**
 * Runs the agent loop from the person's message: up to `maxRounds` model calls with tools
 * (`toolChoice: auto`), each round's calls run one after another in the order the model gave
 * them, each result cut to `resultMaxBytes` and sent back. The first round may fall back to
 * the other provider before its first token; later rounds stay on the model that answered
 * (`fallback: false`). When the rounds or the wall-clock budget run out the model gets one more
 * call with `toolChoice: none` and {@link BOUND_NOTE}. A call to a tool that needs approval
 * pauses the loop (`paused`): the caller stores it and resumes it with {@link resumeAgentLoop}.
 * Never rejects: model failures are `failed` values, tool failures go back to the model.
 */
export async function runAgentLoop(deps: AgentLoopDeps, run: LoopRun): Promise<LoopOutcome> {
  const state: LoopState = {
    model: run.model,
    pinned: false,
    messages: [...run.messages],
    rounds: 0,
    actions: [],
    tokens: { input: 0, output: 0 },
    usedMs: 0,
    shown: "",
  };
  return loop(deps, run, state, []);
}

/**
 * Resumes a paused loop after the person's decision: an approved call runs (the caller makes
 * sure it runs once: `ApprovalStore.claimRun`), a denied or expired one is reported to the model
 * as refused; then the round's other calls run and the loop goes on as in
 * {@link runAgentLoop}. Text shown before the pause is not shown again. Never rejects, like
 * {@link runAgentLoop}.
 */
export async function resumeAgentLoop(
  deps: AgentLoopDeps,
  run: Omit<LoopRun, "model" | "messages" | "system">,
  paused: PausedLoop,
  decision: Decision,
): Promise<LoopOutcome> {
  const state: LoopState = {
    model: paused.model,
    pinned: true,
    messages: [...paused.messages],
    rounds: paused.rounds,
    actions: [...paused.actions],
    tokens: { ...paused.tokens },
    usedMs: paused.elapsedMs,
    shown: "",
  };
  const full: LoopRun = { ...run, system: paused.system, messages: [], model: paused.model };
  const started = deps.now();
  const tool = run.tools.find((t) => t.name === paused.pending.name);
  if (decision === "approve" && tool) {
    await runCall(
      callDeps(deps),
      full,
      state,
      paused.pending,
      tool,
      deadline(deps, state, started),
    );
  } else {
    const refusal: CallResult = !tool
      ? {
          ok: false,
          kind: "unavailable",
          message: "This tool is no longer offered; it did not run.",
        }
      : decision === "expire"
        ? {
            ok: false,
            kind: "expired",
            message: "Nobody approved this call in time; it did not run.",
          }
        : {
            ok: false,
            kind: "denied",
            message: "The person denied this call; it did not run. Do not try it again.",
          };
    if (tool && decision !== "approve") {
      full.onStep({
        id: paused.pending.id,
        label: tool.label,
        state: decision === "expire" ? "expired" : "denied",
      });
    }
    settle(callDeps(deps), full, state, paused.pending, refusal, 0, tool?.source);
  }
  return loop(deps, full, state, paused.queued, started);
}

async function loop(
  deps: AgentLoopDeps,
  run: LoopRun,
  state: LoopState,
  queued: ToolCall[],
  started = deps.now(),
): Promise<LoopOutcome> {
  const { bounds } = deps;
  const used = () => state.usedMs + (deps.now() - started);
  const byName = new Map(run.tools.map((tool) => [tool.name, tool]));
  let pendingCalls = queued;
  for (;;) {
    for (const [index, call] of pendingCalls.entries()) {
      const tool = byName.get(call.name);
      if (tool?.needsApproval) {
        return {
          kind: "paused",
          tool,
          text: state.shown,
          paused: {
            model: state.model ?? "",
            system: run.system,
            messages: state.messages,
            pending: call,
            pendingLabel: tool.label,
            queued: pendingCalls.slice(index + 1),
            rounds: state.rounds,
            actions: state.actions,
            elapsedMs: used(),
            tokens: state.tokens,
          },
        };
      }
      await runCall(callDeps(deps), run, state, call, tool, deadline(deps, state, started));
    }
    pendingCalls = [];

    const bounded: "rounds" | "budget" | undefined =
      state.rounds >= bounds.maxRounds
        ? "rounds"
        : used() >= bounds.budgetMs
          ? "budget"
          : undefined;
    const specs: ToolSpec[] = run.tools.map(({ name, description, inputSchema }) => ({
      name,
      description,
      inputSchema,
    }));
    const holdsToolCalls = state.messages.some((m) => m.role === "tool");
    const offer = specs.length > 0 && (!bounded || holdsToolCalls);
    let roundText = "";
    const separator = state.shown ? "\n\n" : "";
    const result = await deps.llm.stream(
      {
        ...(state.model ? { model: state.model } : {}),
        ...(state.pinned ? { fallback: false } : {}),
        system: bounded ? `${run.system}\n\n${BOUND_NOTE}`.trim() : run.system,
        messages: state.messages,
        ...(offer ? { tools: specs, toolChoice: bounded ? "none" : "auto" } : {}),
      },
      (delta) => {
        if (!roundText && separator) run.onText(separator);
        roundText += delta;
        run.onText(delta);
      },
    );
    state.rounds += 1;
    if (roundText) state.shown += separator + roundText;
    if (!result.ok) {
      return {
        kind: "failed",
        error: result.error,
        partialText: state.shown,
        cutOff: state.shown.length > 0 || state.actions.length > 0,
        actions: state.actions,
        tokens: state.tokens,
        ...(state.model ? { model: state.model } : {}),
      };
    }
    const { completion } = result;
    await run.onRound?.(completion);
    if (!state.pinned) {
      state.pinned = true;
      // The model as asked for routes the same way next round; the name a server reports for
      // itself (an Ollama `llama3`) might not. A fallback's model is a routable default.
      if (result.fellBackFrom) {
        state.model = completion.model;
        state.fellBackFrom = result.fellBackFrom;
      }
    }
    state.tokens.input += completion.inputTokens;
    state.tokens.output += completion.outputTokens;
    const calls = bounded ? [] : (completion.toolCalls ?? []);
    if (calls.length === 0) {
      return {
        kind: "answered",
        completion: {
          ...completion,
          text: state.shown,
          inputTokens: state.tokens.input,
          outputTokens: state.tokens.output,
        },
        ...(state.fellBackFrom ? { fellBackFrom: state.fellBackFrom } : {}),
        actions: state.actions,
        ...(bounded ? { bounded } : {}),
      };
    }
    state.messages.push({ role: "assistant", content: completion.text, toolCalls: calls });
    pendingCalls = calls;
  }
}

function callDeps(deps: AgentLoopDeps) {
  return { logger: deps.logger, now: deps.now, resultMaxBytes: deps.bounds.resultMaxBytes };
}

/** Epoch ms at which the loop's budget runs out (its time used before `started` counted). */
function deadline(deps: AgentLoopDeps, state: LoopState, started: number): number {
  return started + deps.bounds.budgetMs - state.usedMs;
}
