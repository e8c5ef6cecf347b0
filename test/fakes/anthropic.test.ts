import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { rejection } from "../support/rejection";
import {
  DEFAULT_LISTED_ANTHROPIC_MODELS,
  type FakeAnthropic,
  startFakeAnthropic,
} from "./anthropic";
import type { RecordedRequest } from "./http-fake";
import { declaredToolNames, lastToolResult, toolResults } from "./llm-tools";

const MODEL = "claude-test-1";

let fake: FakeAnthropic;
let client: Anthropic;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  client = new Anthropic({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries: 0 });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const params = (text: string) => ({
  model: MODEL,
  max_tokens: 64,
  messages: [{ role: "user" as const, content: text }],
});

describe("fake Anthropic Messages API", () => {
  it("answers a non-streaming request with a deterministic reply and usage", async () => {
    const message = await client.messages.create({ ...params("hello there"), system: "be brief" });

    expect(message).toMatchObject({
      type: "message",
      role: "assistant",
      model: MODEL,
      content: [{ type: "text", text: `fake-anthropic(${MODEL}): hello there` }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 4, output_tokens: 3 },
    });
    expect(message.id).toMatch(/^msg_/);
    expect(message._request_id).toMatch(/^req_/);
  });

  it("reports usage with every field the SDK's Usage type declares as always present", async () => {
    const message = await client.messages.create(params("count these three"));
    expect(message.usage).toEqual({
      input_tokens: 3,
      output_tokens: 4,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      server_tool_use: null,
      service_tier: "standard",
    });
  });

  it("records the headers and body the SDK sent", async () => {
    await client.messages.create(params("record me"));

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    const headers = request?.headers;
    const presentedKey = headers?.["x-api-key"] ?? headers?.authorization?.replace(/^Bearer /, "");
    expect(presentedKey).toBe(fake.apiKey);
    expect(request?.headers["anthropic-version"]).toBeTruthy();
    expect(request?.body).toEqual(params("record me"));
  });

  it("replies to the last user message, including content-block arrays", async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 64,
      messages: [
        { role: "user", content: "first" },
        { role: "assistant", content: "ok" },
        { role: "user", content: [{ type: "text", text: "second" }] },
      ],
    });

    expect(message.content).toEqual([{ type: "text", text: `fake-anthropic(${MODEL}): second` }]);
  });

  it("streams the same text through messages.stream().finalMessage()", async () => {
    const deltas: string[] = [];
    const stream = client.messages.stream(params("stream this please")).on("text", (t) => {
      deltas.push(t);
    });
    const message = await stream.finalMessage();

    const expected = `fake-anthropic(${MODEL}): stream this please`;
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join("")).toBe(expected);
    expect(message.content).toEqual([{ type: "text", text: expected }]);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage).toMatchObject({ input_tokens: 3, output_tokens: 4 });
    expect(fake.requests[0]?.body.stream).toBe(true);
  });

  it("emits the documented SSE event sequence on the wire", async () => {
    const res = await rawStreamRequest();
    const raw = await res.text();
    const events = [...raw.matchAll(/^event: (\w+)\ndata: (.*)\n\n/gm)].map((m) => {
      const data = JSON.parse(m[2] ?? "") as { type: string };
      expect(data.type).toBe(m[1]);
      return m[1];
    });

    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("request-id")).toMatch(/^req_/);
    expect(events[0]).toBe("message_start");
    expect(events.slice(1, 3)).toEqual(["content_block_start", "ping"]);
    expect(events.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    expect(events.slice(3, -3).every((e) => e === "content_block_delta")).toBe(true);
  });

  it.each([
    [400, Anthropic.BadRequestError, "invalid_request_error"],
    [401, Anthropic.AuthenticationError, "authentication_error"],
    [404, Anthropic.NotFoundError, "not_found_error"],
    [429, Anthropic.RateLimitError, "rate_limit_error"],
    [500, Anthropic.InternalServerError, "api_error"],
    [529, Anthropic.InternalServerError, "overloaded_error"],
  ])("injected %i surfaces as the SDK's typed error", async (status, ErrorClass, type) => {
    fake.failNext(status);

    const err = await rejection(client.messages.create(params("boom")));

    expect(err).toBeInstanceOf(ErrorClass);
    const apiError = err as InstanceType<typeof Anthropic.APIError>;
    expect(apiError.status).toBe(status);
    expect(apiError.error).toMatchObject({ type: "error", error: { type } });
    expect(apiError.requestID).toMatch(/^req_/);
    expect(apiError.requestID).toBe((apiError.error as { request_id?: string }).request_id);
  });

  it("exposes retry-after on a 429 and fails exactly `times` requests", async () => {
    fake.failNext(429, { times: 2, retryAfterSeconds: 7 });

    for (let i = 0; i < 2; i++) {
      const err = await rejection(client.messages.create(params("again")));
      expect(err).toBeInstanceOf(Anthropic.RateLimitError);
      expect((err as InstanceType<typeof Anthropic.APIError>).headers?.get("retry-after")).toBe(
        "7",
      );
    }
    await expect(client.messages.create(params("again"))).resolves.toMatchObject({
      stop_reason: "end_turn",
    });
    expect(fake.requests).toHaveLength(3);
  });

  it("marks 529 overloaded so callers can tell it from a plain 500", async () => {
    fake.failNext(529);

    const err = await rejection(client.messages.create(params("busy")));

    expect(err).toBeInstanceOf(Anthropic.OverloadedError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
  });

  it("fails a stream before any event when a failure is injected", async () => {
    fake.failNext(529);

    const err = await rejection(client.messages.stream(params("stream")).finalMessage());

    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
  });

  it("is retried by an SDK with retries enabled", async () => {
    const retrying = new Anthropic({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries: 2 });
    fake.failNext(529, { retryAfterSeconds: 0.01 });
    fake.failNext(500, { retryAfterSeconds: 0.01 });

    const message = await retrying.messages.create(params("eventually"));

    expect(message.content[0]).toMatchObject({ text: `fake-anthropic(${MODEL}): eventually` });
    expect(fake.requests).toHaveLength(3);
  });

  it("rejects a wrong API key with authentication_error", async () => {
    const wrong = new Anthropic({ apiKey: "sk-ant-wrong", baseURL: fake.url, maxRetries: 0 });

    const err = await rejection(wrong.messages.create(params("let me in")));

    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((err as InstanceType<typeof Anthropic.APIError>).type).toBe("authentication_error");
  });

  it("answers a request without a key with the documented 401 body", async () => {
    const res = await fetch(`${fake.url}/v1/messages`, {
      method: "POST",
      headers: { "anthropic-version": "2023-06-01" },
      body: JSON.stringify(params("x")),
    });

    expect(res.status).toBe(401);
    const requestId = res.headers.get("request-id");
    expect(requestId).toMatch(/^req_/);
    expect(await res.json()).toEqual({
      type: "error",
      error: { type: "authentication_error", message: "invalid x-api-key" },
      request_id: requestId,
    });
  });

  it("rejects an unknown model with not_found_error", async () => {
    const err = await rejection(client.messages.create({ ...params("x"), model: "gpt-4o" }));

    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect((err as InstanceType<typeof Anthropic.APIError>).type).toBe("not_found_error");
  });

  it("restricts models to the configured list", async () => {
    const strict = await startFakeAnthropic({ models: ["only-this"] });
    try {
      const c = new Anthropic({ apiKey: strict.apiKey, baseURL: strict.url, maxRetries: 0 });
      await expect(c.messages.create({ ...params("x"), model: "only-this" })).resolves.toBeTruthy();
      expect(await rejection(c.messages.create(params("x")))).toBeInstanceOf(
        Anthropic.NotFoundError,
      );
    } finally {
      await strict.close();
    }
  });

  it.each([
    ["model", { max_tokens: 8, messages: [{ role: "user", content: "x" }] }],
    ["messages", { model: MODEL, max_tokens: 8 }],
    ["max_tokens", { model: MODEL, messages: [{ role: "user", content: "x" }] }],
  ])("rejects a body without %s with invalid_request_error", async (field, body) => {
    const res = await fetch(`${fake.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": fake.apiKey, "anthropic-version": "2023-06-01" },
      body: JSON.stringify(body),
    });

    expect(res.status).toBe(400);
    expect(res.headers.get("request-id")).toMatch(/^req_/);
    const json = (await res.json()) as { error: { type: string; message: string } };
    expect(json).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(json.error.message).toContain(field);
  });

  it("gives a connection error while down, and recovers", async () => {
    fake.setDown(true);
    expect(await rejection(client.messages.create(params("anyone?")))).toBeInstanceOf(
      Anthropic.APIConnectionError,
    );

    fake.setDown(false);
    await expect(client.messages.create(params("back"))).resolves.toBeTruthy();
  });

  it("uses setReply until reset", async () => {
    fake.setReply(({ body }) => `custom for ${String(body.model)}`);
    const custom = await client.messages.create(params("x"));
    expect(custom.content).toEqual([{ type: "text", text: `custom for ${MODEL}` }]);
    expect(custom.usage.output_tokens).toBe(3);

    fake.reset();
    expect(fake.requests).toHaveLength(0);
    const normal = await client.messages.create(params("x"));
    expect(normal.content).toEqual([{ type: "text", text: `fake-anthropic(${MODEL}): x` }]);
  });
});

describe("fake Anthropic Models API", () => {
  it("lists models one page at a time through the SDK and records the call", async () => {
    const page = await client.models.list({ limit: 1 });
    expect(page.data).toHaveLength(1);
    expect(page.data[0]).toMatchObject({ type: "model", id: DEFAULT_LISTED_ANTHROPIC_MODELS[0] });
    expect(page.has_more).toBe(true);

    const all: string[] = [];
    for await (const model of client.models.list({ limit: 2 })) all.push(model.id);
    expect(all).toEqual(DEFAULT_LISTED_ANTHROPIC_MODELS);

    expect(fake.listRequests.length).toBeGreaterThanOrEqual(3);
    expect(fake.requests).toHaveLength(0);
  });

  it("lists the configured models", async () => {
    const strict = await startFakeAnthropic({ models: ["only-this"] });
    try {
      const c = new Anthropic({ apiKey: strict.apiKey, baseURL: strict.url, maxRetries: 0 });
      const page = await c.models.list();
      expect(page.data.map((m) => m.id)).toEqual(["only-this"]);
      expect(page.has_more).toBe(false);
    } finally {
      await strict.close();
    }
  });

  it("rejects a wrong key with authentication_error and a bad limit with 400", async () => {
    const wrong = new Anthropic({ apiKey: "sk-ant-wrong", baseURL: fake.url, maxRetries: 0 });
    expect(await rejection(wrong.models.list({ limit: 1 }))).toBeInstanceOf(
      Anthropic.AuthenticationError,
    );
    const res = await fetch(`${fake.url}/v1/models?limit=0`, {
      headers: { "x-api-key": fake.apiKey, "anthropic-version": "2023-06-01" },
    });
    expect(res.status).toBe(400);
  });

  it("is not affected by injected message failures", async () => {
    fake.failNext(500);
    await expect(client.models.list({ limit: 1 })).resolves.toBeTruthy();
    expect(await rejection(client.messages.create(params("x")))).toBeInstanceOf(
      Anthropic.InternalServerError,
    );
  });
});

describe("fake Anthropic restart", () => {
  it("listens again on the same port after close, so clients pointed at it recover", async () => {
    const first = await startFakeAnthropic();
    const c = new Anthropic({ apiKey: first.apiKey, baseURL: first.url, maxRetries: 0 });
    await expect(c.models.list({ limit: 1 })).resolves.toBeTruthy();
    await first.close();
    expect(await rejection(c.models.list({ limit: 1 }))).toBeInstanceOf(
      Anthropic.APIConnectionError,
    );
    const port = Number(new URL(first.url).port);
    const second = await startFakeAnthropic({ port });
    try {
      expect(second.url).toBe(first.url);
      await expect(c.messages.create(params("back"))).resolves.toBeTruthy();
    } finally {
      await second.close();
    }
  });
});

describe("fake Anthropic streaming: pacing and failures", () => {
  const TEN_WORDS = "one two three four five six seven eight nine ten";

  /** Streams through the SDK, timing each text delta from the call. */
  function timedStream(text = "go") {
    const started = Date.now();
    const deltas: { text: string; at: number }[] = [];
    const stream = client.messages.stream(params(text)).on("text", (delta) => {
      deltas.push({ text: delta, at: Date.now() - started });
    });
    return { stream, deltas, started };
  }

  it("waits firstTokenMs, then sends about tokensPerSecond deltas", async () => {
    fake.setReply(() => TEN_WORDS);
    fake.setStream({ firstTokenMs: 150, tokensPerSecond: 50 });
    const { stream, deltas, started } = timedStream();
    const message = await stream.finalMessage();
    const total = Date.now() - started;

    expect(deltas.map((d) => d.text).join("")).toBe(TEN_WORDS);
    expect(deltas).toHaveLength(10);
    // Lower bounds only: the first delta not before 150 ms, the tenth 9 × 20 ms later.
    expect(deltas[0]?.at).toBeGreaterThanOrEqual(140);
    expect(deltas[9]?.at).toBeGreaterThanOrEqual(310);
    expect(total).toBeGreaterThanOrEqual(310);
    expect(message.usage).toMatchObject({ output_tokens: 10 });
  });

  it("streamNext applies to the next streamed request only, over the default", async () => {
    fake.setStream({ firstTokenMs: 100 });
    fake.streamNext({ failAfterTokens: 1 });
    await expect(timedStream().stream.finalMessage()).rejects.toBeInstanceOf(Anthropic.APIError);
    const { stream, deltas } = timedStream();
    await stream.finalMessage();
    expect(deltas[0]?.at).toBeGreaterThanOrEqual(90);
  });

  it("fails mid-stream with the documented overloaded_error event after N tokens", async () => {
    fake.setReply(() => TEN_WORDS);
    fake.streamNext({ failAfterTokens: 3 });
    const { stream, deltas } = timedStream();

    const err = await rejection(stream.finalMessage());

    expect(deltas.map((d) => d.text).join("")).toBe("one two three ");
    expect(err).toBeInstanceOf(Anthropic.APIError);
    const apiError = err as InstanceType<typeof Anthropic.APIError>;
    expect(apiError.status).toBeUndefined();
    expect(apiError.type).toBe("overloaded_error");
    expect(apiError.error).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
  });

  it("puts the error event on the wire as `event: error`", async () => {
    fake.streamNext({ failAfterTokens: 0 });
    const res = await rawStreamRequest();
    const events = [...(await res.text()).matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(res.status).toBe(200);
    expect(events).toEqual(["message_start", "content_block_start", "ping", "error"]);
  });

  it("drops the connection mid-stream with failWith drop", async () => {
    fake.setReply(() => TEN_WORDS);
    fake.streamNext({ failAfterTokens: 2, failWith: "drop" });
    const { stream, deltas } = timedStream();

    const err = await rejection(stream.finalMessage());

    expect(deltas).toHaveLength(2);
    expect(err).toBeInstanceOf(Anthropic.AnthropicError);
    expect(err).not.toBeInstanceOf(Anthropic.APIError);
  });

  it("stalls after N tokens and holds the connection until the client gives up", async () => {
    fake.setReply(() => TEN_WORDS);
    fake.streamNext({ stallAfterTokens: 2 });
    const { stream, deltas } = timedStream();
    setTimeout(() => stream.abort(), 300);

    const err = await rejection(stream.finalMessage());

    expect(err).toBeInstanceOf(Anthropic.APIUserAbortError);
    expect(deltas.map((d) => d.text)).toEqual(["one ", "two "]);
  });

  it("leaves non-streamed answers unpaced", async () => {
    fake.setStream({ firstTokenMs: 5_000 });
    const started = Date.now();
    await client.messages.create(params("quick"));
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

/** A streamed `POST /v1/messages` sent with plain `fetch`, so the test reads the SSE bytes. */
function rawStreamRequest(): Promise<Response> {
  return fetch(`${fake.url}/v1/messages`, {
    method: "POST",
    headers: {
      "x-api-key": fake.apiKey,
      "anthropic-version": "2023-06-01",
      "content-type": "application/json",
    },
    body: JSON.stringify({ ...params("hi"), stream: true }),
  });
}

describe("fake Anthropic tool use", () => {
  const LINK_TOOL = {
    name: "file_share",
    description: "Share a file as a temporary download link",
    input_schema: {
      type: "object" as const,
      properties: { path: { type: "string" }, hours: { type: "number" } },
      required: ["path"],
    },
  };
  const withTools = (text: string) => ({ ...params(text), tools: [LINK_TOOL] });
  const INPUT = { path: "/srv/build.tar", hours: 1 };
  /** An assistant turn that called `file_share` as `toolu_1`. */
  const CALLED_FILE_SHARE: Anthropic.MessageParam = {
    role: "assistant",
    content: [{ type: "tool_use", id: "toolu_1", name: "file_share", input: {} }],
  };

  it("answers with the scripted tool_use blocks after the text, stop_reason tool_use", async () => {
    fake.script({
      text: "Sharing it.",
      toolCalls: [{ name: "file_share", input: INPUT, id: "toolu_fixed" }],
    });

    const message = await client.messages.create(withTools("share build.tar"));

    expect(message.content).toEqual([
      { type: "text", text: "Sharing it." },
      { type: "tool_use", id: "toolu_fixed", name: "file_share", input: INPUT },
    ]);
    expect(message.stop_reason).toBe("tool_use");
    expect(fake.requests[0]?.body.tools).toEqual([LINK_TOOL]);
  });

  it("streams tool calls the SDK assembles from input_json_delta fragments", async () => {
    fake.script({ toolCalls: [{ name: "file_share", input: INPUT }] });
    const texts: string[] = [];
    const stream = client.messages.stream(withTools("share it")).on("text", (t) => {
      texts.push(t);
    });

    const message = await stream.finalMessage();

    expect(texts).toEqual([]);
    expect(message.stop_reason).toBe("tool_use");
    expect(message.content).toEqual([
      { type: "tool_use", id: expect.stringMatching(/^toolu_/), name: "file_share", input: INPUT },
    ]);
  });

  it("puts text, tool_use start, empty and fragmented input_json_delta on the wire", async () => {
    fake.script({ text: "One moment.", toolCalls: [{ name: "file_share", input: INPUT }] });
    const res = await fetch(`${fake.url}/v1/messages`, {
      method: "POST",
      headers: {
        "x-api-key": fake.apiKey,
        "anthropic-version": "2023-06-01",
        "content-type": "application/json",
      },
      body: JSON.stringify({ ...withTools("hi"), stream: true }),
    });
    const events = [...(await res.text()).matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map(
      (m) => JSON.parse(m[2] ?? "") as Record<string, never>,
    );

    const starts = events.filter((e) => e.type === "content_block_start");
    expect(starts.map((e) => e.content_block)).toEqual([
      { type: "text", text: "" },
      { type: "tool_use", id: expect.stringMatching(/^toolu_/), name: "file_share", input: {} },
    ]);
    const fragments = events
      .filter((e) => e.type === "content_block_delta" && e.index === 1)
      .map((e) => (e.delta as unknown as { partial_json: string }).partial_json);
    expect(fragments[0]).toBe("");
    expect(fragments.length).toBeGreaterThan(3);
    expect(JSON.parse(fragments.join(""))).toEqual(INPUT);
    expect(events.filter((e) => e.type === "content_block_stop").map((e) => e.index)).toEqual([
      0, 1,
    ]);
    const delta = events.find((e) => e.type === "message_delta");
    expect(delta?.delta).toMatchObject({ stop_reason: "tool_use" });
  });

  it("accepts the tool results of a second round and answers from them", async () => {
    fake.setReply((req) => {
      const result = lastToolResult(req);
      return result
        ? `Here is your link: ${result.content}`
        : { toolCalls: [{ name: "file_share", input: INPUT }] };
    });
    const first = await client.messages.create(withTools("share build.tar"));
    const use = first.content.find((b) => b.type === "tool_use");
    if (use?.type !== "tool_use") throw new Error("no tool_use");

    const second = await client.messages.create({
      ...withTools("share build.tar"),
      messages: [
        { role: "user", content: "share build.tar" },
        { role: "assistant", content: first.content },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: use.id, content: "https://f.example/x" }],
        },
      ],
    });

    expect(second.content).toEqual([
      { type: "text", text: "Here is your link: https://f.example/x" },
    ]);
    expect(toolResults(fake.requests[1] as RecordedRequest)).toEqual([
      { toolCallId: use.id, content: "https://f.example/x", isError: false },
    ]);
  });

  it.each([
    [
      "a tool_result whose tool_use_id matches no tool_use of the previous turn",
      [LINK_TOOL],
      "toolu_other",
      /unexpected `tool_use_id` found in `tool_result` blocks: toolu_other/,
    ],
    ["tool_use blocks without tools declared", undefined, "toolu_1", /must define tools/],
  ])("rejects %s with 400 invalid_request_error", async (_, tools, resultId, message) => {
    const err = await rejection(
      client.messages.create({
        ...params("x"),
        ...(tools ? { tools } : {}),
        messages: [
          { role: "user", content: "share" },
          CALLED_FILE_SHARE,
          {
            role: "user",
            content: [{ type: "tool_result", tool_use_id: resultId, content: "ok" }],
          },
        ],
      }),
    );

    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    const apiError = err as InstanceType<typeof Anthropic.BadRequestError>;
    expect(apiError.error).toMatchObject({ error: { type: "invalid_request_error" } });
    expect(apiError.message).toMatch(message);
  });

  it("rejects a tool_use that the next message does not answer", async () => {
    const err = await rejection(
      client.messages.create({
        ...withTools("x"),
        messages: [
          { role: "user", content: "share" },
          CALLED_FILE_SHARE,
          { role: "user", content: "well?" },
        ],
      }),
    );
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as Error).message).toMatch(/without `tool_result` blocks immediately after/);
  });

  it("drops scripted tool calls under tool_choice none", async () => {
    fake.script({ text: "Done.", toolCalls: [{ name: "file_share", input: INPUT }] });
    const message = await client.messages.create({
      ...withTools("x"),
      tool_choice: { type: "none" },
    });
    expect(message.content).toEqual([{ type: "text", text: "Done." }]);
    expect(message.stop_reason).toBe("end_turn");
  });

  it("answers script entries in order, then the reply function; reset drops the rest", async () => {
    fake.script("first", (req) => `second to ${declaredToolNames(req).join(",")}`, "third");
    const texts = [];
    for (let i = 0; i < 2; i++) {
      const message = await client.messages.create(withTools("go"));
      texts.push(message.content[0]?.type === "text" ? message.content[0].text : "");
    }
    fake.reset();
    const after = await client.messages.create(params("go"));

    expect(texts).toEqual(["first", "second to file_share"]);
    expect(after.content).toEqual([{ type: "text", text: `fake-anthropic(${MODEL}): go` }]);
  });

  it("does not spend a script entry on an injected failure", async () => {
    fake.failNext(529);
    fake.script({ toolCalls: [{ name: "file_share", input: INPUT }] });
    await rejection(client.messages.create(withTools("go")));
    const message = await client.messages.create(withTools("go"));
    expect(message.stop_reason).toBe("tool_use");
  });

  it("fails loudly when the script calls a tool the request does not declare", async () => {
    fake.script({ toolCalls: [{ name: "rm_rf", input: {} }] });
    const err = await rejection(client.messages.create(withTools("go")));
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect((err as Error).message).toMatch(/rm_rf/);
  });

  it("counts tool-call fragments as stream tokens, so a stream can fail mid-arguments", async () => {
    fake.script({ toolCalls: [{ name: "file_share", input: INPUT }] });
    fake.streamNext({ failAfterTokens: 2 });
    const err = await rejection(client.messages.stream(withTools("go")).finalMessage());
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBeUndefined();
  });
});
