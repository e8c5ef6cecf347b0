/**
 * Tool use through the real provider classes (official SDKs, real HTTP) and the provider
 * manager, against the wire-level fakes in `test/fakes/`, scripted to call tools: tools
 * declared on the wire, calls parsed (plain and streamed, arguments in fragments), a second
 * round with the results accepted by the fakes' API checks, `tool_choice: none`, malformed
 * arguments, and `fallback: false`.
 */
import { describe, expect, it } from "vitest";
import { createOpenAICompatibleProvider } from "../../core/llm/openai";
import type {
  ChatMessage,
  Completion,
  CompletionRequest,
  LlmProvider,
  ToolSpec,
} from "../../core/llm/types";
import { lastToolResult, toolResults } from "../fakes/llm-tools";
import { useLlmFakes } from "../support/llm-fakes";
import { rejection } from "../support/rejection";

const MM_KEY = "mm-tools-key";
const llm = useLlmFakes({ anthropic: "sk-ant-tools", openai: MM_KEY });

const SHARE: ToolSpec = {
  name: "file_share",
  description: "Share a file from the file server as a temporary download link",
  inputSchema: {
    type: "object",
    properties: { path: { type: "string" }, hours: { type: "number" } },
    required: ["path"],
  },
};
const SEARCH: ToolSpec = {
  name: "search_memory",
  description: "Search this user's archived conversation summaries",
  inputSchema: { type: "object", properties: { query: { type: "string" } } },
};
const INPUT = { path: "/srv/build.tar", hours: 1, note: "a longer value, so it spans fragments" };
const ASK: ChatMessage = { role: "user", content: "share build.tar as a link for 1 hour" };

const request = (model: string, extra: Partial<CompletionRequest> = {}): CompletionRequest => ({
  model,
  system: "You are helpful.",
  messages: [ASK],
  maxTokens: 256,
  timeoutMs: 5_000,
  tools: [SHARE, SEARCH],
  ...extra,
});

type Mode = "complete" | "stream";

/** One call in `mode`, collecting the text deltas a stream passes on. */
async function call(provider: LlmProvider, mode: Mode, req: CompletionRequest) {
  const deltas: string[] = [];
  const completion: Completion =
    mode === "complete"
      ? await provider.complete(req)
      : await provider.stream({ ...req, idleTimeoutMs: 2_000 }, (d) => deltas.push(d));
  return { completion, deltas };
}

const cases = [
  ["anthropic", () => llm.anthropic, () => llm.anthropicFake, "claude-haiku-5-5"],
  ["openai-compatible", () => llm.openAICompatible, () => llm.openaiFake, "gpt-5.4-mini"],
] as const;

describe.each(cases)("%s provider tool use against its fake", (id, provider, fake, model) => {
  it("declares the tools on the wire in the provider's format, tool_choice auto", async () => {
    await provider().complete(request(model));
    const body = fake().requests[0]?.body;
    if (id === "anthropic") {
      expect(body?.tools).toEqual([
        { name: SHARE.name, description: SHARE.description, input_schema: SHARE.inputSchema },
        { name: SEARCH.name, description: SEARCH.description, input_schema: SEARCH.inputSchema },
      ]);
      expect(body?.tool_choice).toEqual({ type: "auto" });
    } else {
      expect(body?.tools).toEqual(
        [SHARE, SEARCH].map((s) => ({
          type: "function",
          function: { name: s.name, description: s.description, parameters: s.inputSchema },
        })),
      );
      expect(body?.tool_choice).toBe("auto");
    }
  });

  it("sends neither tools nor tool_choice when no tools are given", async () => {
    await provider().complete(request(model, { tools: [] }));
    const body = fake().requests[0]?.body;
    expect(body).not.toHaveProperty("tools");
    expect(body).not.toHaveProperty("tool_choice");
  });

  for (const mode of ["complete", "stream"] as const) {
    it(`${mode}: reads the calls, in order, with the text said before them`, async () => {
      fake().script({
        text: "Let me share that.",
        toolCalls: [
          { name: "search_memory", input: { query: "build" }, id: "call-a" },
          { name: "file_share", input: INPUT, id: "call-b" },
        ],
      });

      const { completion, deltas } = await call(provider(), mode, request(model));

      expect(completion).toMatchObject({ text: "Let me share that.", provider: id, model });
      expect(completion.toolCalls).toEqual([
        { id: "call-a", name: "search_memory", input: { query: "build" } },
        { id: "call-b", name: "file_share", input: INPUT },
      ]);
      if (mode === "stream") expect(deltas.join("")).toBe("Let me share that.");
      expect(completion.outputTokens).toBeGreaterThan(0);
    });

    it(`${mode}: a round of tool calls only is a completion with empty text`, async () => {
      fake().script({ toolCalls: [{ name: "file_share", input: INPUT }] });
      const { completion, deltas } = await call(provider(), mode, request(model));
      expect(completion.text).toBe("");
      expect(deltas).toEqual([]);
      expect(completion.toolCalls).toEqual([
        { id: expect.stringMatching(/^(toolu|call)_/), name: "file_share", input: INPUT },
      ]);
    });

    it(`${mode}: sends the results back in a second round that the API accepts`, async () => {
      fake().setReply((req) => {
        const result = lastToolResult(req);
        return result
          ? `Here is your link: ${result.content}`
          : { toolCalls: [{ name: "file_share", input: INPUT }] };
      });
      const first = await call(provider(), mode, request(model));
      const calls = first.completion.toolCalls ?? [];
      const [shared] = calls;
      if (!shared) throw new Error("no tool call");

      const second = await call(
        provider(),
        mode,
        request(model, {
          messages: [
            ASK,
            { role: "assistant", content: first.completion.text, toolCalls: calls },
            { role: "tool", toolCallId: shared.id, content: "https://files.example/t/abc" },
          ],
        }),
      );

      expect(second.completion.text).toBe("Here is your link: https://files.example/t/abc");
      expect(second.completion.toolCalls).toBeUndefined();
      const sent = fake().requests[1];
      if (!sent) throw new Error("no second request");
      expect(toolResults(sent)).toEqual([
        { toolCallId: shared.id, content: "https://files.example/t/abc", isError: false },
      ]);
    });
  }

  it("sends a refused call's result with is_error (Anthropic) or as plain text", async () => {
    const callMade = { id: "toolu_x1", name: "file_share", input: INPUT };
    await provider().complete(
      request(model, {
        messages: [
          ASK,
          { role: "assistant", content: "", toolCalls: [callMade] },
          { role: "tool", toolCallId: callMade.id, content: "refused by the user", isError: true },
        ],
      }),
    );
    const sent = fake().requests[0];
    if (!sent) throw new Error("no request");
    expect(toolResults(sent)).toEqual([
      {
        toolCallId: "toolu_x1",
        content: "refused by the user",
        isError: id === "anthropic",
      },
    ]);
  });

  it("rejects a tool result that answers no call with an invalid_request LlmError", async () => {
    const err = await rejection(
      provider().complete(
        request(model, {
          messages: [
            ASK,
            { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "x", input: {} }] },
            { role: "tool", toolCallId: "c2", content: "?" },
          ],
        }),
      ),
    );
    expect(err).toMatchObject({ kind: "invalid_request", status: 400, provider: id });
  });

  it("sends tool_choice none and gets text only", async () => {
    fake().script({ text: "Final answer.", toolCalls: [{ name: "file_share", input: INPUT }] });
    const { completion } = await call(provider(), "stream", request(model, { toolChoice: "none" }));
    expect(fake().requests[0]?.body.tool_choice).toEqual(
      id === "anthropic" ? { type: "none" } : "none",
    );
    expect(completion.text).toBe("Final answer.");
    expect(completion.toolCalls).toBeUndefined();
  });

  it("streams the arguments in several fragments and passes no tool text to onText", async () => {
    fake().script({ toolCalls: [{ name: "file_share", input: INPUT }] });
    fake().setStream({ tokensPerSecond: 500 });
    const { completion, deltas } = await call(provider(), "stream", request(model));
    expect(deltas).toEqual([]);
    expect(completion.toolCalls?.[0]?.input).toEqual(INPUT);
  });

  for (const mode of ["complete", "stream"] as const) {
    // A non-streamed Anthropic tool_use carries an object: only its streamed JSON can break.
    if (id === "anthropic" && mode === "complete") continue;
    it(`${mode}: reads cut-off or non-object arguments as {}`, async () => {
      fake().script({
        toolCalls: [
          { name: "file_share", input: {}, rawArguments: '{"path": "/srv/b' },
          { name: "search_memory", input: {}, rawArguments: "[1, 2]" },
        ],
      });
      const { completion } = await call(provider(), mode, request(model));
      expect(completion.toolCalls?.map((c) => [c.name, c.input])).toEqual([
        ["file_share", {}],
        ["search_memory", {}],
      ]);
    });
  }
});

describe("arguments that are not JSON", () => {
  const script = { toolCalls: [{ name: "file_share", input: {}, rawArguments: "{oops" }] };

  for (const mode of ["complete", "stream"] as const) {
    it(`openai-compatible ${mode}: read as {}`, async () => {
      llm.openaiFake.script(script);
      const { completion } = await call(llm.openAICompatible, mode, request("gpt-5.4"));
      expect(completion.toolCalls?.[0]?.input).toEqual({});
    });
  }

  it("anthropic stream: fail the call, as the SDK's MessageStream rejects them", async () => {
    // The API's tool input is always valid JSON; the SDK parses each block at its stop event.
    llm.anthropicFake.script(script);
    const err = await rejection(call(llm.anthropic, "stream", request("claude-haiku-5-5")));
    expect(err).toMatchObject({ kind: "unknown", provider: "anthropic" });
  });
});

describe("OpenAI-compatible stream that ends without a finish_reason", () => {
  it("is a network failure, tool calls or not", async () => {
    // A server that closes the body cleanly but early: every chunk carrying a finish_reason is cut.
    const cutFinish: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const text = await res.text();
      const kept = text
        .split("\n\n")
        .filter((event) => !/"finish_reason":"(stop|tool_calls)"/.test(event))
        .join("\n\n");
      return new Response(kept, { status: res.status, headers: res.headers });
    };
    const provider = createOpenAICompatibleProvider({
      baseURL: llm.openaiFake.url,
      apiKey: MM_KEY,
      fetch: cutFinish,
    });
    llm.openaiFake.script("plain text", { toolCalls: [{ name: "file_share", input: INPUT }] });
    for (let i = 0; i < 2; i++) {
      const err = await rejection(call(provider, "stream", request("gpt-5.4")));
      expect(err).toMatchObject({ kind: "network", provider: "openai-compatible" });
    }
  });
});

describe("provider manager with tools", () => {
  const input = {
    model: "claude-haiku-5-5",
    system: "",
    messages: [ASK],
    tools: [SHARE],
  };

  it("streams a tool-only round as a success and passes the tools through", async () => {
    llm.anthropicFake.script({ toolCalls: [{ name: "file_share", input: INPUT }] });
    const deltas: string[] = [];
    const outcome = await llm.manager().stream(input, (d) => deltas.push(d));
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(deltas).toEqual([]);
    expect(outcome.completion.toolCalls?.[0]).toMatchObject({ name: "file_share", input: INPUT });
    expect(llm.anthropicFake.requests[0]?.body.tools).toHaveLength(1);
  });

  it("with fallback false, retries the named model and never calls the other provider", async () => {
    llm.anthropicFake.failNext(529, { times: 3 });
    const outcome = await llm.manager().stream({ ...input, fallback: false }, () => {});
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error).toMatchObject({ kind: "server", provider: "anthropic" });
    expect(llm.anthropicFake.requests).toHaveLength(3);
    expect(llm.openaiFake.requests).toHaveLength(0);
  });

  it("by default still falls back to the other provider before the first token", async () => {
    llm.anthropicFake.failNext(529, { times: 3 });
    llm.openaiFake.script({ toolCalls: [{ name: "file_share", input: INPUT }] });
    const outcome = await llm.manager().stream(input, () => {});
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.completion.provider).toBe("openai-compatible");
    expect(outcome.completion.toolCalls?.[0]?.name).toBe("file_share");
    expect(llm.openaiFake.requests[0]?.body.tools).toHaveLength(1);
  });
});
