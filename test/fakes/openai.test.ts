import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { rejection } from "../support/rejection";
import type { RecordedRequest } from "./http-fake";
import { lastToolResult, toolResults } from "./llm-tools";
import { type FakeOpenAI, startFakeOpenAI } from "./openai";

const API_KEY = "sk-fake-openai";
const MODEL = "gpt-4o-mini";

let fake: FakeOpenAI;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: API_KEY });
  client = new OpenAI({ apiKey: API_KEY, baseURL: fake.url, maxRetries: 0 });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const params = (text: string) => ({
  model: MODEL,
  messages: [
    { role: "system" as const, content: "be brief" },
    { role: "user" as const, content: text },
  ],
});

describe("fake OpenAI chat completions", () => {
  it("exposes a base URL ending in /v1", () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  });

  it("answers a non-streaming request with a deterministic reply and usage", async () => {
    const completion = await client.chat.completions.create(params("hello there"));

    expect(completion).toMatchObject({
      object: "chat.completion",
      model: MODEL,
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: `fake-openai(${MODEL}): hello there`,
            refusal: null,
          },
          finish_reason: "stop",
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 },
    });
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion._request_id).toMatch(/^req_/);
  });

  it("records the headers and body the SDK sent", async () => {
    await client.chat.completions.create({ ...params("record me"), max_tokens: 32 });

    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(fake.requests[0]?.body).toEqual({ ...params("record me"), max_tokens: 32 });
  });

  it("replies to the last user message, including content-part arrays", async () => {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: "user", content: "first" },
        { role: "assistant", content: "ok" },
        { role: "user", content: [{ type: "text", text: "second" }] },
      ],
    });

    expect(completion.choices[0]?.message.content).toBe(`fake-openai(${MODEL}): second`);
  });

  it("streams chunks that reassemble to the same text, with usage when asked", async () => {
    const stream = await client.chat.completions.create({
      ...params("stream this please"),
      stream: true,
      stream_options: { include_usage: true },
    });
    const pieces: string[] = [];
    const finishReasons: (string | null)[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      for (const choice of chunk.choices) {
        pieces.push(choice.delta.content ?? "");
        finishReasons.push(choice.finish_reason);
      }
      if (chunk.usage) usage = chunk.usage;
    }

    expect(pieces.filter(Boolean).length).toBeGreaterThan(1);
    expect(pieces.join("")).toBe(`fake-openai(${MODEL}): stream this please`);
    expect(finishReasons.at(-1)).toBe("stop");
    expect(finishReasons.slice(0, -1).every((r) => r === null)).toBe(true);
    expect(usage).toEqual({ prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 });
  });

  it("terminates the wire stream with data: [DONE]", async () => {
    const res = await fetch(`${fake.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ ...params("hi"), stream: true }),
    });
    const events = (await res.text()).split("\n\n").filter(Boolean);

    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(events.at(-1)).toBe("data: [DONE]");
    expect(events.slice(0, -1).every((e) => e.startsWith("data: {"))).toBe(true);
  });

  it("lists the served models", async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);

    expect(ids).toEqual(fake.models);
  });

  it.each([
    [429, OpenAI.RateLimitError, "rate_limit_exceeded"],
    [500, OpenAI.InternalServerError, null],
    [503, OpenAI.InternalServerError, null],
  ])("injected %i surfaces as the SDK's typed error", async (status, ErrorClass, code) => {
    fake.failNext(status);

    const err = await rejection(client.chat.completions.create(params("boom")));

    expect(err).toBeInstanceOf(ErrorClass);
    const apiError = err as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(status);
    expect(apiError.code).toBe(code);
    expect(apiError.requestID).toMatch(/^req_/);
  });

  it("exposes retry-after on a 429 and fails exactly `times` requests", async () => {
    fake.failNext(429, { times: 2, retryAfterSeconds: 9 });

    for (let i = 0; i < 2; i++) {
      const err = await rejection(client.chat.completions.create(params("again")));
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect((err as InstanceType<typeof OpenAI.APIError>).headers?.get("retry-after")).toBe("9");
    }
    await expect(client.chat.completions.create(params("again"))).resolves.toBeTruthy();
    expect(fake.requests).toHaveLength(3);
  });

  it("fails a stream when a failure is injected", async () => {
    fake.failNext(503);

    const err = await rejection(
      client.chat.completions.create({ ...params("stream"), stream: true }),
    );

    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
  });

  it("is retried by an SDK with retries enabled", async () => {
    const retrying = new OpenAI({ apiKey: API_KEY, baseURL: fake.url, maxRetries: 2 });
    fake.failNext(503, { times: 2, retryAfterSeconds: 0.01 });

    const completion = await retrying.chat.completions.create(params("eventually"));

    expect(completion.choices[0]?.message.content).toBe(`fake-openai(${MODEL}): eventually`);
    expect(fake.requests).toHaveLength(3);
  });

  it("rejects a wrong key with 401 invalid_api_key", async () => {
    const wrong = new OpenAI({ apiKey: "sk-wrong", baseURL: fake.url, maxRetries: 0 });

    const err = await rejection(wrong.chat.completions.create(params("let me in")));

    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err).toMatchObject({ status: 401, code: "invalid_api_key" });
    expect(await rejection(wrong.models.list())).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("rejects an unknown model with 404 model_not_found", async () => {
    const err = await rejection(client.chat.completions.create({ ...params("x"), model: "nope" }));

    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err).toMatchObject({
      status: 404,
      code: "model_not_found",
      type: "invalid_request_error",
    });
  });

  it("rejects a body without messages with 400", async () => {
    const res = await fetch(`${fake.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL }),
    });

    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: {
        type: "invalid_request_error",
        param: null,
        message: expect.stringContaining("messages"),
      },
    });
  });

  it("accepts any key when none is configured", async () => {
    const open = await startFakeOpenAI({ models: ["local-model"] });
    try {
      const c = new OpenAI({ apiKey: "anything", baseURL: open.url, maxRetries: 0 });
      const completion = await c.chat.completions.create({ ...params("x"), model: "local-model" });
      expect(completion.choices[0]?.message.content).toBe("fake-openai(local-model): x");
    } finally {
      await open.close();
    }
  });

  it("gives a connection error while down, and recovers", async () => {
    fake.setDown(true);
    expect(await rejection(client.chat.completions.create(params("anyone?")))).toBeInstanceOf(
      OpenAI.APIConnectionError,
    );

    fake.setDown(false);
    await expect(client.chat.completions.create(params("back"))).resolves.toBeTruthy();
  });

  it("uses setReply until reset", async () => {
    fake.setReply(async ({ body }) => `custom for ${String(body.model)}`);
    const custom = await client.chat.completions.create(params("x"));
    expect(custom.choices[0]?.message.content).toBe(`custom for ${MODEL}`);

    fake.reset();
    expect(fake.requests).toHaveLength(0);
    const normal = await client.chat.completions.create(params("x"));
    expect(normal.choices[0]?.message.content).toBe(`fake-openai(${MODEL}): x`);
  });
});

describe("fake OpenAI streaming: pacing and failures", () => {
  const TEN_WORDS = "one two three four five six seven eight nine ten";

  /** Streams through the SDK, timing each content delta from the call; rejects as the SDK does. */
  async function timedStream(deltas: { text: string; at: number }[], signal?: AbortSignal) {
    const started = Date.now();
    const stream = await client.chat.completions.create(
      { ...params("go"), stream: true, stream_options: { include_usage: true } },
      signal ? { signal } : {},
    );
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content)
        deltas.push({ text: choice.delta.content, at: Date.now() - started });
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    return { usage, finish, total: Date.now() - started };
  }

  it("waits firstTokenMs, then sends about tokensPerSecond deltas, then usage", async () => {
    fake.setReply(() => TEN_WORDS);
    fake.setStream({ firstTokenMs: 150, tokensPerSecond: 50 });
    const deltas: { text: string; at: number }[] = [];
    const { usage, finish, total } = await timedStream(deltas);

    expect(deltas.map((d) => d.text).join("")).toBe(TEN_WORDS);
    expect(deltas).toHaveLength(10);
    expect(deltas[0]?.at).toBeGreaterThanOrEqual(140);
    expect(deltas[9]?.at).toBeGreaterThanOrEqual(310);
    expect(total).toBeGreaterThanOrEqual(310);
    expect(finish).toBe("stop");
    expect(usage).toMatchObject({ completion_tokens: 10 });
  });

  it("fails mid-stream with an error chunk that the SDK raises as an APIError", async () => {
    fake.setReply(() => TEN_WORDS);
    fake.streamNext({ failAfterTokens: 3 });
    const deltas: { text: string; at: number }[] = [];

    const err = await rejection(timedStream(deltas));

    expect(deltas.map((d) => d.text).join("")).toBe("one two three ");
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const apiError = err as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBeUndefined();
    expect(apiError.type).toBe("server_error");
  });

  it("drops the connection mid-stream with failWith drop", async () => {
    fake.setReply(() => TEN_WORDS);
    fake.streamNext({ failAfterTokens: 2, failWith: "drop" });
    const deltas: { text: string; at: number }[] = [];

    const err = await rejection(timedStream(deltas));

    expect(deltas).toHaveLength(2);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(OpenAI.APIError);
  });

  it("stalls after N tokens until the client gives up", async () => {
    fake.setReply(() => TEN_WORDS);
    fake.streamNext({ stallAfterTokens: 2 });
    const deltas: { text: string; at: number }[] = [];
    const started = Date.now();

    // The SDK ends an aborted stream quietly: no finish_reason, no usage.
    const result = await timedStream(deltas, AbortSignal.timeout(300));

    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(deltas.map((d) => d.text)).toEqual(["one ", "two "]);
    expect(result.finish).toBeUndefined();
    expect(result.usage).toBeUndefined();
  });

  it("streamNext applies once, then the default returns; reset clears it", async () => {
    fake.streamNext({ failAfterTokens: 0 }, 2);
    await expect(timedStream([])).rejects.toBeInstanceOf(OpenAI.APIError);
    fake.reset();
    await expect(timedStream([])).resolves.toMatchObject({ finish: "stop" });
  });
});

describe("fake OpenAI tool calls", () => {
  const LINK_TOOL = {
    type: "function" as const,
    function: {
      name: "file_share",
      description: "Share a file as a temporary download link",
      parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
    },
  };
  const withTools = (text: string) => ({ ...params(text), tools: [LINK_TOOL] });
  /** An assistant turn that called `file_share` as `call_1`. */
  const CALLED_FILE_SHARE: OpenAI.ChatCompletionAssistantMessageParam = {
    role: "assistant",
    content: null,
    tool_calls: [
      { id: "call_1", type: "function", function: { name: "file_share", arguments: "{}" } },
    ],
  };
  const INPUT = { path: "/srv/build.tar", hours: 1 };

  it("answers with the scripted tool_calls, content null, finish_reason tool_calls", async () => {
    fake.script({ toolCalls: [{ name: "file_share", input: INPUT, id: "call_fixed" }] });

    const completion = await client.chat.completions.create(withTools("share build.tar"));

    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe("tool_calls");
    expect(choice?.message.content).toBeNull();
    expect(choice?.message.tool_calls).toEqual([
      {
        id: "call_fixed",
        type: "function",
        function: { name: "file_share", arguments: JSON.stringify(INPUT) },
      },
    ]);
    expect(fake.requests[0]?.body.tools).toEqual([LINK_TOOL]);
  });

  it("streams tool calls in fragments that the SDK's ChatCompletionStream assembles", async () => {
    fake.script({
      text: "Sharing.",
      toolCalls: [
        { name: "file_share", input: INPUT },
        { name: "file_share", input: { path: "b" } },
      ],
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    const stream = client.chat.completions.stream({
      ...withTools("go"),
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) chunks.push(chunk);
    const final = await stream.finalChatCompletion();

    const fragments = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(fragments[0]).toMatchObject({
      index: 0,
      id: expect.stringMatching(/^call_/),
      type: "function",
      function: { name: "file_share", arguments: "" },
    });
    expect(fragments.filter((f) => f.index === 0).length).toBeGreaterThan(3);
    const message = final.choices[0]?.message;
    expect(final.choices[0]?.finish_reason).toBe("tool_calls");
    expect(message?.content).toBe("Sharing.");
    expect(message?.tool_calls?.map((c) => c.type === "function" && c.function)).toEqual([
      expect.objectContaining({ name: "file_share", arguments: JSON.stringify(INPUT) }),
      expect.objectContaining({ name: "file_share", arguments: '{"path":"b"}' }),
    ]);
    expect(final.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it("sends scripted raw arguments verbatim", async () => {
    fake.script({ toolCalls: [{ name: "file_share", input: {}, rawArguments: "{oops" }] });
    const completion = await client.chat.completions.create(withTools("go"));
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === "function" && call.function.arguments).toBe("{oops");
  });

  it("accepts role:tool results answering the previous tool_calls and answers from them", async () => {
    fake.setReply((req) => {
      const result = lastToolResult(req);
      return result
        ? `Here is your link: ${result.content}`
        : { toolCalls: [{ name: "file_share", input: INPUT }] };
    });
    const first = await client.chat.completions.create(withTools("share"));
    const assistant = first.choices[0]?.message;
    const id = assistant?.tool_calls?.[0]?.id ?? "";

    const second = await client.chat.completions.create({
      ...withTools("share"),
      messages: [
        ...params("share").messages,
        assistant as OpenAI.ChatCompletionMessageParam,
        { role: "tool", tool_call_id: id, content: "https://f.example/x" },
      ],
    });

    expect(second.choices[0]?.message.content).toBe("Here is your link: https://f.example/x");
    expect(toolResults(fake.requests[1] as RecordedRequest)).toEqual([
      { toolCallId: id, content: "https://f.example/x", isError: false },
    ]);
  });

  it("rejects a role:tool message not preceded by tool_calls with its id", async () => {
    const err = await rejection(
      client.chat.completions.create({
        ...withTools("x"),
        messages: [
          { role: "user", content: "share" },
          CALLED_FILE_SHARE,
          { role: "tool", tool_call_id: "call_other", content: "ok" },
        ],
      }),
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const apiError = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(apiError.message).toMatch(/role 'tool' must be a response to a preceeding message/);
    expect(apiError.param).toBe("messages.[2].role");
  });

  it("rejects tool_calls that the following messages leave unanswered", async () => {
    const err = await rejection(
      client.chat.completions.create({
        ...withTools("x"),
        messages: [
          { role: "user", content: "share" },
          CALLED_FILE_SHARE,
          { role: "user", content: "well?" },
        ],
      }),
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as Error).message).toMatch(/did not have response messages: call_1/);
  });

  it("rejects tool_choice without tools", async () => {
    const err = await rejection(
      client.chat.completions.create({ ...params("x"), tool_choice: "auto" }),
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it("drops scripted tool calls under tool_choice none, answering with the default text", async () => {
    fake.script({ toolCalls: [{ name: "file_share", input: INPUT }] });
    const completion = await client.chat.completions.create({
      ...withTools("go"),
      tool_choice: "none",
    });
    expect(completion.choices[0]).toMatchObject({
      finish_reason: "stop",
      message: { content: `fake-openai(${MODEL}): go` },
    });
    expect(completion.choices[0]?.message.tool_calls).toBeUndefined();
  });
});
