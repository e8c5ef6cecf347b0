import { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it } from "vitest";
import {
  BOUND_NOTE,
  type LoopBounds,
  type LoopRun,
  resumeAgentLoop,
  runAgentLoop,
} from "../../../core/agent/loop";
import { type AgentTool, ToolError } from "../../../core/agent/types";
import type {
  CompleteInput,
  Completion,
  Streamer,
  StreamResult,
  ToolCall,
} from "../../../core/llm/types";
import type { ToolStep } from "../../../core/reply/live-reply";

const logger = new Logger({ serviceName: "test", logLevel: "SILENT" });

/** A streamer answering from a script, one entry per call; records every input. */
function scripted(
  script: ((input: CompleteInput) => { text?: string; toolCalls?: ToolCall[] } | StreamResult)[],
) {
  const inputs: CompleteInput[] = [];
  const llm: Streamer = {
    async stream(input, onText) {
      inputs.push(structuredClone(input));
      const step = script[Math.min(inputs.length - 1, script.length - 1)];
      if (!step) throw new Error("script is empty");
      const answer = step(input);
      if ("ok" in answer) return answer;
      if (answer.text) onText(answer.text);
      const completion: Completion = {
        text: answer.text ?? "",
        model: input.model ?? "claude-test",
        provider: "anthropic",
        inputTokens: 10,
        outputTokens: 5,
        ...(answer.toolCalls ? { toolCalls: answer.toolCalls } : {}),
      };
      return { ok: true, completion };
    },
  };
  return { llm, inputs };
}

function tool(name: string, run: AgentTool["run"], needsApproval = false): AgentTool {
  return {
    name,
    description: `${name} tool`,
    inputSchema: { type: "object", properties: {} },
    source: "kadi",
    needsApproval,
    label: name.replace(/_/g, " "),
    run,
  };
}

function harness(tools: AgentTool[], bounds: Partial<LoopBounds> = {}, clock = { t: 0 }) {
  const text: string[] = [];
  const steps: ToolStep[] = [];
  const run: LoopRun = {
    context: { conversation: { platform: "slack", channelId: "C1", userId: "U1" }, jobId: "j1" },
    system: "sys",
    messages: [{ role: "user", content: "share build.tar" }],
    tools,
    onText: (d) => text.push(d),
    onStep: (s) => steps.push(s),
  };
  const deps = (llm: Streamer) => ({
    llm,
    logger,
    now: () => clock.t,
    bounds: { maxRounds: 8, budgetMs: 60_000, resultMaxBytes: 8_192, ...bounds },
  });
  return { run, deps, text, steps, clock };
}

const call = (
  name: string,
  input: Record<string, unknown> = {},
  id = `call_${name}`,
): ToolCall => ({
  id,
  name,
  input,
});

describe("runAgentLoop", () => {
  it("runs a tool call and sends its result back, then answers with all the text shown", async () => {
    const ran: unknown[] = [];
    const link = tool("local_remote_create_temporary_url", async (input) => {
      ran.push(input);
      return { url: "https://files.test/d/abc" };
    });
    const { llm, inputs } = scripted([
      () => ({ text: "Making a link.", toolCalls: [call(link.name, { filePath: "build.tar" })] }),
      (input) => {
        const result = input.messages.at(-1);
        return { text: `Here: ${result?.role === "tool" ? JSON.parse(result.content).url : "?"}` };
      },
    ]);
    const h = harness([link]);
    const outcome = await runAgentLoop(h.deps(llm), h.run);
    expect(ran).toEqual([{ filePath: "build.tar" }]);
    expect(outcome.kind).toBe("answered");
    if (outcome.kind !== "answered") return;
    expect(outcome.completion.text).toBe("Making a link.\n\nHere: https://files.test/d/abc");
    expect(h.text.join("")).toBe(outcome.completion.text);
    expect(outcome.completion.inputTokens).toBe(20);
    expect(outcome.actions).toHaveLength(1);
    expect(outcome.actions[0]).toMatchObject({ tool: link.name, outcome: "ok" });
    expect(outcome.actions[0]?.result).toContain("https://files.test/d/abc");
    // The second round stays on the model asked for (no fallback) and sends the call and its result.
    expect(inputs[1]?.fallback).toBe(false);
    expect(inputs[1]?.model).toBeUndefined();
    expect(inputs[1]?.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool"]);
    expect(h.steps.map((s) => s.state)).toEqual(["running", "done"]);
  });

  it("reports a failing tool to the model as an error result and still answers", async () => {
    const slow = tool("cloud_upload_file", async () => {
      throw new ToolError("timeout", "no answer within 8000 ms");
    });
    const { llm, inputs } = scripted([
      () => ({ toolCalls: [call(slow.name)] }),
      () => ({ text: "The upload timed out." }),
    ]);
    const h = harness([slow]);
    const outcome = await runAgentLoop(h.deps(llm), h.run);
    const sent = inputs[1]?.messages.at(-1);
    expect(sent).toMatchObject({ role: "tool", isError: true });
    expect(sent?.content).toContain("timeout");
    expect(outcome.kind === "answered" && outcome.actions[0]?.outcome).toBe("timeout");
    expect(h.steps.at(-1)).toMatchObject({ state: "failed", detail: "timeout" });
  });

  it("stops offering tools after maxRounds and asks for a final answer without them", async () => {
    let calls = 0;
    const again = tool("list_files", async () => ({ files: [++calls] }));
    const { llm, inputs } = scripted([
      (input) =>
        input.toolChoice === "none" ? { text: "Enough." } : { toolCalls: [call(again.name)] },
    ]);
    const h = harness([again], { maxRounds: 3 });
    const outcome = await runAgentLoop(h.deps(llm), h.run);
    expect(calls).toBe(3);
    expect(inputs).toHaveLength(4);
    expect(inputs[3]?.toolChoice).toBe("none");
    expect(inputs[3]?.system).toContain(BOUND_NOTE);
    expect(outcome.kind === "answered" && outcome.bounded).toBe("rounds");
  });

  it("stops at the wall-clock budget", async () => {
    const clock = { t: 0 };
    const slow = tool("ssh_upload", async () => {
      clock.t += 40_000;
      return { ok: true };
    });
    const { llm, inputs } = scripted([
      (input) =>
        input.toolChoice === "none" ? { text: "Out of time." } : { toolCalls: [call(slow.name)] },
    ]);
    const h = harness([slow], { budgetMs: 60_000 }, clock);
    const outcome = await runAgentLoop(h.deps(llm), h.run);
    expect(inputs.map((i) => i.toolChoice)).toEqual(["auto", "auto", "none"]);
    expect(outcome.kind === "answered" && outcome.bounded).toBe("budget");
  });

  it("pauses at a call that needs approval, and resumes: approve runs it, deny does not", async () => {
    let executed = 0;
    const exec = tool(
      "ssh_execute",
      async () => ({ stdout: `run ${++executed}`, exitCode: 0 }),
      true,
    );
    const script = [
      () => ({ text: "I'll run it.", toolCalls: [call(exec.name, { command: "ls" })] }),
      (input: CompleteInput) => ({ text: `Result: ${input.messages.at(-1)?.content}` }),
    ];
    const first = scripted(script);
    const h = harness([exec]);
    const paused = await runAgentLoop(h.deps(first.llm), h.run);
    expect(paused.kind).toBe("paused");
    expect(executed).toBe(0);
    if (paused.kind !== "paused") return;
    expect(paused.paused.pending.name).toBe("ssh_execute");
    expect(paused.text).toBe("I'll run it.");
    const stored = JSON.parse(JSON.stringify(paused.paused));

    const approved = scripted([script[1] as (typeof script)[1]]);
    const yes = await resumeAgentLoop(h.deps(approved.llm), h.run, stored, "approve");
    expect(executed).toBe(1);
    expect(yes.kind === "answered" && yes.completion.text).toContain("run 1");
    expect(approved.inputs[0]?.fallback).toBe(false);

    const denied = scripted([script[1] as (typeof script)[1]]);
    const no = await resumeAgentLoop(h.deps(denied.llm), h.run, stored, "deny");
    expect(executed).toBe(1);
    expect(denied.inputs[0]?.messages.at(-1)).toMatchObject({ role: "tool", isError: true });
    expect(no.kind === "answered" && no.actions.at(-1)?.outcome).toBe("denied");
  });

  it("answers an unknown tool with an error result instead of failing", async () => {
    const { llm, inputs } = scripted([
      () => ({ toolCalls: [call("made_up")] }),
      () => ({ text: "Sorry." }),
    ]);
    const h = harness([]);
    const outcome = await runAgentLoop(h.deps(llm), h.run);
    expect(inputs[1]?.messages.at(-1)?.content).toContain("unknown tool");
    expect(outcome.kind).toBe("answered");
  });

  it("returns a failed round after tools ran as cut off, with what was done", async () => {
    const ok = tool("cloud_list_files", async () => ({ files: [] }));
    const { llm } = scripted([
      () => ({ toolCalls: [call(ok.name)] }),
      () => ({
        ok: false,
        error: Object.assign(new Error("overloaded"), { kind: "server" as const }),
        cutOff: false,
        partialText: "",
      }),
    ]);
    const h = harness([ok]);
    const outcome = await runAgentLoop(h.deps(llm), h.run);
    expect(outcome.kind).toBe("failed");
    if (outcome.kind !== "failed") return;
    expect(outcome.cutOff).toBe(true);
    expect(outcome.actions).toHaveLength(1);
  });

  it("declares no tools when the turn has none (one plain round, as before)", async () => {
    const { llm, inputs } = scripted([() => ({ text: "Hi." })]);
    const h = harness([]);
    await runAgentLoop(h.deps(llm), h.run);
    expect(inputs[0]?.tools).toBeUndefined();
    expect(inputs[0]?.fallback).toBeUndefined();
  });
});
