import { ErrorCode, LogLevel, WebClient } from "@slack/web-api";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { rejection } from "../support/rejection";
import { type FakeSlack, startFakeSlack } from "./slack";

let fake: FakeSlack;
let client: WebClient;

const webClient = (token: string, extra: ConstructorParameters<typeof WebClient>[1] = {}) =>
  new WebClient(token, {
    slackApiUrl: fake.url,
    retryConfig: { retries: 0 },
    logLevel: LogLevel.ERROR,
    ...extra,
  });

beforeAll(async () => {
  fake = await startFakeSlack({ botUserId: "U0BOT", botId: "B0BOT", teamId: "T0TEAM" });
  client = webClient(fake.token);
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

describe("fake Slack Web API", () => {
  it("exposes a base URL ending in /api/", () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
  });

  it("answers auth.test with the bot identity", async () => {
    const result = await client.auth.test();

    expect(result).toMatchObject({
      ok: true,
      team_id: "T0TEAM",
      user_id: "U0BOT",
      bot_id: "B0BOT",
    });
    expect(typeof result.url).toBe("string");
  });

  it("posts a threaded reply and round-trips thread_ts", async () => {
    const result = await client.chat.postMessage({
      channel: "C123",
      text: "hello thread",
      thread_ts: "1700000000.000100",
    });

    expect(result.ok).toBe(true);
    expect(result.channel).toBe("C123");
    expect(result.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(result.message).toMatchObject({
      type: "message",
      text: "hello thread",
      user: "U0BOT",
      bot_id: "B0BOT",
      ts: result.ts,
      thread_ts: "1700000000.000100",
    });
    expect(fake.posted()).toEqual([
      { channel: "C123", text: "hello thread", thread_ts: "1700000000.000100" },
    ]);
  });

  it("records the form-encoded call WebClient made, with its bearer token", async () => {
    await client.chat.postMessage({ channel: "C1", text: "hi" });

    expect(fake.calls).toHaveLength(1);
    const [call] = fake.calls;
    expect(call?.method).toBe("chat.postMessage");
    expect(call?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(call?.headers.authorization).toBe(`Bearer ${fake.token}`);
    expect(call?.args).toEqual({ channel: "C1", text: "hi" });
  });

  it("gives unique, increasing message timestamps", async () => {
    const a = await client.chat.postMessage({ channel: "C1", text: "one" });
    const b = await client.chat.postMessage({ channel: "C1", text: "two" });

    expect(Number(b.ts)).toBeGreaterThan(Number(a.ts));
  });

  it("accepts blocks without text, decoding them from the form body", async () => {
    const blocks = [{ type: "section", text: { type: "mrkdwn", text: "*hi*" } }];

    const result = await client.chat.postMessage({ channel: "C1", blocks });

    expect(result.message?.blocks).toEqual(blocks);
    expect(fake.posted()[0]?.blocks).toEqual(blocks);
  });

  it("records what is POSTed to a response URL, each URL its own, and forgets it on reset", async () => {
    const url = fake.responseUrl();
    expect(url).not.toBe(fake.responseUrl());
    const message = { response_type: "ephemeral", replace_original: false, text: "only you" };
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(message),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok");
    expect(fake.responses()).toEqual([{ url, body: message }]);
    expect(fake.calls).toEqual([]);
    fake.reset();
    expect(fake.responses()).toEqual([]);
  });

  it("removes a message's buttons on an update with text and an empty blocks array", async () => {
    const blocks = [
      { type: "section", text: { type: "mrkdwn", text: "Run it?" } },
      {
        type: "actions",
        elements: [
          {
            type: "button",
            action_id: "tool_approve",
            value: "a1",
            style: "primary",
            text: { type: "plain_text", text: "Approve" },
          },
        ],
      },
    ];
    const posted = await client.chat.postMessage({ channel: "C1", text: "Run it?", blocks });
    expect(fake.message("C1", posted.ts as string)?.blocks).toEqual(blocks);
    // "To remove previous blocks, include an empty array" (https://api.slack.com/methods/chat.update).
    await client.chat.update({
      channel: "C1",
      ts: posted.ts as string,
      text: "Approved",
      blocks: [],
    });
    const after = fake.message("C1", posted.ts as string);
    expect(after?.text).toBe("Approved");
    expect(after?.blocks ?? []).toEqual([]);
  });

  it("keeps a message's blocks on an update without blocks", async () => {
    const blocks = [{ type: "section", text: { type: "mrkdwn", text: "Run it?" } }];
    const posted = await client.chat.postMessage({ channel: "C1", text: "Run it?", blocks });
    // "If you don't include this field, the message's previous blocks will be retained."
    await client.chat.update({ channel: "C1", ts: posted.ts as string, text: "Still?" });
    const after = fake.message("C1", posted.ts as string);
    expect(after?.text).toBe("Still?");
    expect(after?.blocks).toEqual(blocks);
  });

  it("accepts a JSON body", async () => {
    const res = await fetch(`${fake.url}chat.postMessage`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${fake.token}`,
        "content-type": "application/json; charset=utf-8",
      },
      body: JSON.stringify({ channel: "C9", text: "json", thread_ts: "1.000001" }),
    });

    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      ok: true,
      channel: "C9",
      message: { text: "json", thread_ts: "1.000001" },
    });
    expect(fake.posted()).toEqual([{ channel: "C9", text: "json", thread_ts: "1.000001" }]);
  });

  it("rejects a wrong token with invalid_auth", async () => {
    const err = await rejection(
      webClient("xoxb-wrong").chat.postMessage({ channel: "C1", text: "hi" }),
    );

    expect(err).toMatchObject({ code: ErrorCode.PlatformError, data: { error: "invalid_auth" } });
    expect(fake.posted()).toEqual([]);
  });

  it("rejects a call without a token with not_authed", async () => {
    const res = await fetch(`${fake.url}auth.test`, { method: "POST" });

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: false, error: "not_authed" });
  });

  it("requires a channel and some text", async () => {
    expect(await rejection(client.apiCall("chat.postMessage", { text: "nowhere" }))).toMatchObject({
      data: { error: "channel_not_found" },
    });
    expect(await rejection(client.apiCall("chat.postMessage", { channel: "C1" }))).toMatchObject({
      data: { error: "no_text" },
    });
  });

  it("only knows the configured channels when given a list", async () => {
    const strict = await startFakeSlack({ channels: ["C1"] });
    try {
      const c = new WebClient(strict.token, {
        slackApiUrl: strict.url,
        retryConfig: { retries: 0 },
        logLevel: LogLevel.ERROR,
      });
      await expect(c.chat.postMessage({ channel: "C1", text: "ok" })).resolves.toBeTruthy();
      expect(await rejection(c.chat.postMessage({ channel: "C2", text: "no" }))).toMatchObject({
        data: { error: "channel_not_found" },
      });
    } finally {
      await strict.close();
    }
  });

  it("rate-limits with HTTP 429 and Retry-After", async () => {
    fake.failNext("chat.postMessage", { status: 429, retryAfterSeconds: 30 });
    // Without rejectRateLimitedCalls, WebClient sleeps Retry-After seconds before giving up.
    const rejecting = webClient(fake.token, { rejectRateLimitedCalls: true });

    const err = await rejection(rejecting.chat.postMessage({ channel: "C1", text: "hi" }));

    expect(err).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 30 });
    expect(fake.posted()).toEqual([]);
    await expect(rejecting.chat.postMessage({ channel: "C1", text: "hi" })).resolves.toBeTruthy();
  });

  it("answers the 429 body and header on the wire", async () => {
    fake.failNext("chat.postMessage", { status: 429, retryAfterSeconds: 5 });

    const res = await fetch(`${fake.url}chat.postMessage`, {
      method: "POST",
      headers: { authorization: `Bearer ${fake.token}` },
      body: new URLSearchParams({ channel: "C1", text: "hi" }),
    });

    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await res.json()).toEqual({ ok: false, error: "ratelimited" });
  });

  it("lets WebClient retry after a rate limit", async () => {
    fake.failNext("chat.postMessage", { status: 429, retryAfterSeconds: 0 });
    const retrying = webClient(fake.token, { retryConfig: { retries: 1, minTimeout: 0 } });

    await expect(retrying.chat.postMessage({ channel: "C1", text: "hi" })).resolves.toMatchObject({
      ok: true,
    });
    expect(fake.calls).toHaveLength(2);
    expect(fake.posted()).toHaveLength(1);
  });

  it("injects platform errors and HTTP errors per method", async () => {
    fake.failNext("chat.postMessage", { error: "is_archived", times: 2 });
    fake.failNext("auth.test", { status: 500 });

    for (let i = 0; i < 2; i++) {
      expect(await rejection(client.chat.postMessage({ channel: "C1", text: "x" }))).toMatchObject({
        code: ErrorCode.PlatformError,
        data: { error: "is_archived" },
      });
    }
    expect(await rejection(client.auth.test())).toMatchObject({
      code: ErrorCode.HTTPError,
      statusCode: 500,
    });
    await expect(client.chat.postMessage({ channel: "C1", text: "x" })).resolves.toBeTruthy();
    await expect(client.auth.test()).resolves.toBeTruthy();
  });

  it("gives a request error while down, and recovers", async () => {
    fake.setDown(true);
    expect(await rejection(client.auth.test())).toMatchObject({ code: ErrorCode.RequestError });

    fake.setDown(false);
    await expect(client.auth.test()).resolves.toMatchObject({ ok: true });
  });
});

const THREAD = "1700000000.000100";
const RECIPIENT = { recipient_team_id: "T0TEAM", recipient_user_id: "U0ASKER" };
const errorOf = async (promise: Promise<unknown>) =>
  ((await rejection(promise)) as { code?: string; data?: { error?: string } }).data?.error;

describe("fake Slack Web API: streaming", () => {
  it("records chatStream() as start → appends → stop, with the Markdown text intact", async () => {
    const streamer = client.chatStream({
      channel: "C1",
      thread_ts: THREAD,
      ...RECIPIENT,
      buffer_size: 10,
    });

    await streamer.append({ markdown_text: "Hello **wor" });
    await streamer.append({ markdown_text: "ld**!" });
    await streamer.append({ markdown_text: " More _text_." });
    await streamer.append({ markdown_text: "\n# End" });
    await streamer.stop();

    const methods = fake.calls.map((c) => c.method);
    expect(methods).toEqual(["chat.startStream", "chat.appendStream", "chat.stopStream"]);
    const [message] = fake.messages({ channel: "C1", threadTs: THREAD });
    expect(message).toMatchObject({
      channel: "C1",
      ts: streamer.ts,
      threadTs: THREAD,
      user: "U0BOT",
      text: "Hello **world**! More _text_.\n# End",
      markdown: true,
      streaming: false,
      streamMode: "chunks",
    });
    expect(message?.events.map((e) => [e.method, e.text])).toEqual([
      ["chat.startStream", "Hello **wor"],
      ["chat.appendStream", "Hello **world**! More _text_."],
      ["chat.stopStream", "Hello **world**! More _text_.\n# End"],
    ]);
    expect(fake.firstTextAt({ channel: "C1" })).toBe(fake.calls[0]?.at);
    expect(fake.finishedAt({ channel: "C1" })).toBe(fake.calls[2]?.at);
  });

  it("decodes the JSON-encoded chunks of WebClient's form body", async () => {
    await client.chat.startStream({
      channel: "D1",
      thread_ts: THREAD,
      chunks: [{ type: "markdown_text", text: "*hi*" }],
    });

    const [call] = fake.calls;
    expect(call?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(call?.args.chunks).toEqual([{ type: "markdown_text", text: "*hi*" }]);
  });

  it("accepts a JSON body with markdown_text and locks the stream to that mode", async () => {
    const res = await fetch(`${fake.url}chat.startStream`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${fake.token}`,
        "content-type": "application/json; charset=utf-8",
      },
      body: JSON.stringify({ channel: "D1", thread_ts: THREAD, markdown_text: "**a**" }),
    });
    const started = (await res.json()) as { ok: boolean; channel: string; ts: string };
    expect(started).toEqual({ ok: true, channel: "D1", ts: expect.stringMatching(/^\d+\.\d+$/) });

    const chunks = [{ type: "markdown_text" as const, text: "b" }];
    expect(await errorOf(client.chat.appendStream({ channel: "D1", ts: started.ts, chunks }))).toBe(
      "streaming_mode_mismatch",
    );
    await client.chat.appendStream({ channel: "D1", ts: started.ts, markdown_text: " b" });
    expect(fake.message("D1", started.ts)).toMatchObject({
      text: "**a** b",
      streamMode: "markdown_text",
      streaming: true,
    });
    expect(fake.finishedAt()).toBeUndefined();
  });

  it("requires both recipient ids outside a DM, and none in a DM", async () => {
    const start = (args: Record<string, string>) =>
      client.apiCall("chat.startStream", { channel: "C1", thread_ts: THREAD, ...args });

    expect(await errorOf(start({}))).toBe("missing_recipient_team_id");
    expect(await errorOf(start({ recipient_team_id: "T0TEAM" }))).toBe("missing_recipient_user_id");
    expect(await errorOf(start({ recipient_user_id: "U1" }))).toBe("missing_recipient_team_id");
    await expect(start(RECIPIENT)).resolves.toMatchObject({ ok: true, channel: "C1" });
    await expect(
      client.chat.startStream({ channel: "D9", thread_ts: THREAD }),
    ).resolves.toMatchObject({ ok: true, channel: "D9" });
    expect(await errorOf(client.apiCall("chat.startStream", { thread_ts: THREAD }))).toBe(
      "channel_not_found",
    );
    expect(fake.messages()).toHaveLength(2);
  });

  it("refuses appends and stops of a stopped, unknown or foreign message", async () => {
    const { ts } = await client.chat.startStream({ channel: "D1", thread_ts: THREAD });
    await client.chat.stopStream({ channel: "D1", ts: ts as string, markdown_text: "done" });
    const question = fake.seedMessage({ channel: "D1", text: "a question" });

    const append = (at: string) =>
      client.chat.appendStream({ channel: "D1", ts: at, markdown_text: "more" });
    expect(await errorOf(append(ts as string))).toBe("message_not_in_streaming_state");
    expect(await errorOf(client.chat.stopStream({ channel: "D1", ts: ts as string }))).toBe(
      "message_not_in_streaming_state",
    );
    expect(await errorOf(append("1.000001"))).toBe("message_not_found");
    expect(await errorOf(append(question))).toBe("message_not_owned_by_app");
    expect(fake.message("D1", ts as string)?.text).toBe("done");
    expect(fake.callsTo("chat.appendStream").map((c) => c.error)).toEqual([
      "message_not_in_streaming_state",
      "message_not_found",
      "message_not_owned_by_app",
    ]);
  });

  it("checks the content arguments of stream calls", async () => {
    const { ts } = await client.chat.startStream({ channel: "D1", thread_ts: THREAD });
    const append = (args: Record<string, unknown>) =>
      client.apiCall("chat.appendStream", { channel: "D1", ts, ...args });

    expect(await errorOf(append({}))).toBe("markdown_text_or_chunks_required");
    expect(
      await errorOf(append({ markdown_text: "a", chunks: [{ type: "markdown_text", text: "b" }] })),
    ).toBe("cannot_provide_both_markdown_text_and_chunks");
    expect(await errorOf(append({ chunks: [{ type: "markdown_text" }] }))).toBe("invalid_chunks");
    expect(await errorOf(append({ chunks: [{ type: "sparkles", text: "b" }] }))).toBe(
      "invalid_chunks",
    );
    expect(await errorOf(append({ markdown_text: "x".repeat(12_001) }))).toBe("msg_too_long");
    await expect(append({ markdown_text: "a" })).resolves.toMatchObject({ ok: true });
  });

  it("keeps task updates out of the text and closing blocks on the final message", async () => {
    const { ts } = await client.chat.startStream({
      channel: "D1",
      thread_ts: THREAD,
      chunks: [{ type: "task_update", id: "t1", title: "Searching", status: "in_progress" }],
    });
    const blocks = [{ type: "context", elements: [{ type: "mrkdwn", text: "model x" }] }];

    const stopped = await client.chat.stopStream({
      channel: "D1",
      ts: ts as string,
      chunks: [{ type: "markdown_text", text: "Answer." }],
      blocks,
    });

    expect(stopped.message).toMatchObject({
      text: "Answer.",
      blocks,
      streaming_state: "completed",
    });
    expect(fake.message("D1", ts as string)).toMatchObject({ text: "Answer.", blocks });
  });
});

describe("fake Slack Web API: streaming refused", () => {
  it.each(["not_allowed", "channel_type_not_supported", "unknown_method"])(
    "answers chat.startStream with %s, surfacing as a platform error",
    async (code) => {
      fake.setStreaming(code);
      const streamer = client.chatStream({ channel: "C1", thread_ts: THREAD, ...RECIPIENT });

      const err = await rejection(streamer.stop({ markdown_text: "hello" }));

      expect(err).toMatchObject({
        code: ErrorCode.PlatformError,
        data: { ok: false, error: code },
      });
      expect(fake.messages()).toEqual([]);
      expect(fake.calls.map((c) => [c.method, c.error])).toEqual([["chat.startStream", code]]);
      await expect(
        client.chat.postMessage({ channel: "C1", text: "fallback" }),
      ).resolves.toBeTruthy();
    },
  );

  it("takes the mode as an option, and reset() restores it", async () => {
    const refusing = await startFakeSlack({ streaming: "not_allowed" });
    try {
      const c = new WebClient(refusing.token, {
        slackApiUrl: refusing.url,
        retryConfig: { retries: 0 },
        logLevel: LogLevel.ERROR,
      });
      const start = () => c.chat.startStream({ channel: "D1", thread_ts: THREAD });
      expect(await errorOf(start())).toBe("not_allowed");
      refusing.setStreaming("ok");
      await expect(start()).resolves.toMatchObject({ ok: true });
      refusing.setStreaming("unknown_method");
      refusing.reset();
      expect(await errorOf(start())).toBe("not_allowed");
    } finally {
      await refusing.close();
    }
  });
});

describe("fake Slack Web API: markdown posts and chat.update", () => {
  it("posts markdown_text, but not together with text or blocks", async () => {
    const posted = await client.chat.postMessage({ channel: "C1", markdown_text: "# Title" });

    expect(posted.message?.text).toBe("# Title");
    expect(fake.message("C1", posted.ts as string)).toMatchObject({
      text: "# Title",
      markdown: true,
      streaming: false,
    });
    expect(
      await errorOf(
        client.apiCall("chat.postMessage", { channel: "C1", markdown_text: "a", text: "a" }),
      ),
    ).toBe("markdown_text_conflict");
    expect(
      await errorOf(client.chat.postMessage({ channel: "C1", markdown_text: "x".repeat(12_001) })),
    ).toBe("msg_too_long");
    expect(fake.messages()).toHaveLength(1);
  });

  it("edits a placeholder in place, recording each version", async () => {
    const placeholder = await client.chat.postMessage({
      channel: "C1",
      thread_ts: THREAD,
      text: "…",
    });
    const ts = placeholder.ts as string;

    await client.chat.update({ channel: "C1", ts, markdown_text: "**Par" });
    const updated = await client.chat.update({ channel: "C1", ts, markdown_text: "**Paris**" });

    expect(updated).toMatchObject({ ok: true, channel: "C1", ts, text: "**Paris**" });
    const message = fake.message("C1", ts);
    expect(message?.events.map((e) => [e.method, e.text])).toEqual([
      ["chat.postMessage", "…"],
      ["chat.update", "**Par"],
      ["chat.update", "**Paris**"],
    ]);
    expect(message?.markdown).toBe(true);
    const realText = fake.firstTextAt({ threadTs: THREAD }, (text) => text !== "…");
    expect(realText).toBe(fake.callsTo("chat.update")[0]?.at);
    expect(fake.firstTextAt({ threadTs: THREAD })).toBe(fake.calls[0]?.at);
    expect(fake.finishedAt({ threadTs: THREAD })).toBe(fake.calls[2]?.at);
  });

  it("refuses to update an unknown, foreign or still-streaming message", async () => {
    const question = fake.seedMessage({ channel: "C1", text: "hi", user: "U0ASKER" });
    const { ts } = await client.chat.startStream({
      channel: "C1",
      thread_ts: THREAD,
      ...RECIPIENT,
    });
    const update = (at: string) => client.chat.update({ channel: "C1", ts: at, text: "edited" });

    expect(await errorOf(update("1.000001"))).toBe("message_not_found");
    expect(await errorOf(update(question))).toBe("cant_update_message");
    expect(await errorOf(update(ts as string))).toBe("streaming_state_conflict");
    await client.chat.stopStream({ channel: "C1", ts: ts as string, markdown_text: "final" });
    await expect(update(ts as string)).resolves.toMatchObject({ ok: true, text: "edited" });
  });

  it("checks chat.update's content arguments", async () => {
    const { ts } = await client.chat.postMessage({ channel: "C1", text: "x" });
    const update = (args: Record<string, unknown>) =>
      client.apiCall("chat.update", { channel: "C1", ts, ...args });

    expect(await errorOf(update({}))).toBe("no_text");
    expect(await errorOf(update({ text: "a", markdown_text: "a" }))).toBe("markdown_text_conflict");
    expect(await errorOf(update({ text: "x".repeat(4001) }))).toBe("msg_too_long");
    expect(await errorOf(client.apiCall("chat.update", { channel: "C1", text: "a" }))).toBe(
      "invalid_arguments",
    );
    expect(fake.message("C1", ts as string)?.text).toBe("x");
  });
});

describe("fake Slack Web API: assistant threads", () => {
  it("sets a status with loading messages, cleared by the bot's reply in the thread", async () => {
    await client.assistant.threads.setStatus({
      channel_id: "D1",
      thread_ts: THREAD,
      status: "is thinking…",
      loading_messages: ["Reading", "Thinking"],
    });

    expect(fake.calls[0]?.args.loading_messages).toEqual(["Reading", "Thinking"]);
    expect(fake.assistantThread("D1", THREAD)).toEqual({
      status: "is thinking…",
      loadingMessages: ["Reading", "Thinking"],
    });
    await client.chat.postMessage({ channel: "D1", thread_ts: THREAD, markdown_text: "Hi" });
    expect(fake.assistantThread("D1", THREAD)?.status).toBe("");
  });

  it("sets suggested prompts (at most four) and a title", async () => {
    const prompts = [
      { title: "Summarise", message: "Summarise this channel" },
      { title: "Explain", message: "Explain like I'm five" },
    ];
    await client.assistant.threads.setSuggestedPrompts({
      channel_id: "D1",
      thread_ts: THREAD,
      prompts,
      title: "Try these",
    });
    await client.assistant.threads.setTitle({ channel_id: "D1", thread_ts: THREAD, title: "Q&A" });

    expect(fake.assistantThread("D1", THREAD)).toEqual({
      prompts,
      promptsTitle: "Try these",
      title: "Q&A",
    });
    const five = Array.from({ length: 5 }, (_, i) => ({ title: `t${i}`, message: `m${i}` }));
    const tooMany = await rejection(
      client.assistant.threads.setSuggestedPrompts({
        channel_id: "D1",
        thread_ts: THREAD,
        prompts: five,
      }),
    );
    expect(tooMany).toMatchObject({
      code: ErrorCode.PlatformError,
      data: { error: "invalid_arguments", response_metadata: { messages: [expect.any(String)] } },
    });
    expect(fake.assistantThread("D1", THREAD)?.prompts).toEqual(prompts);
  });

  it("checks the assistant methods' arguments", async () => {
    const call = (method: string, args: Record<string, unknown>) =>
      errorOf(client.apiCall(method, args));

    expect(await call("assistant.threads.setStatus", { channel_id: "D1", thread_ts: THREAD })).toBe(
      "invalid_arguments",
    );
    expect(await call("assistant.threads.setStatus", { channel_id: "D1", status: "x" })).toBe(
      "invalid_arguments",
    );
    expect(
      await call("assistant.threads.setStatus", { channel_id: "D1", thread_ts: "x", status: "x" }),
    ).toBe("invalid_thread_ts");
    expect(await call("assistant.threads.setStatus", { thread_ts: THREAD, status: "x" })).toBe(
      "channel_not_found",
    );
    expect(
      await call("assistant.threads.setStatus", {
        channel_id: "D1",
        thread_ts: THREAD,
        status: "x",
        loading_messages: Array(11).fill("m"),
      }),
    ).toBe("invalid_arguments");
    expect(
      await call("assistant.threads.setSuggestedPrompts", {
        channel_id: "D1",
        prompts: [{ title: "no message" }],
      }),
    ).toBe("invalid_arguments");
    expect(await call("assistant.threads.setTitle", { channel_id: "D1", thread_ts: THREAD })).toBe(
      "invalid_arguments",
    );
    expect(fake.assistantThread("D1", THREAD)).toBeUndefined();
  });
});

describe("fake Slack Web API: call log", () => {
  it("timestamps calls in arrival order and reset() clears messages and threads", async () => {
    const before = Date.now();
    await client.chat.postMessage({ channel: "C1", text: "one" });
    await client.assistant.threads.setTitle({ channel_id: "D1", thread_ts: THREAD, title: "t" });

    const [first, second] = fake.calls;
    expect(first?.at).toBeGreaterThanOrEqual(before - 1);
    expect(second?.at).toBeGreaterThan(first?.at ?? Infinity);
    expect(fake.callsTo(["chat.postMessage", "auth.test"])).toEqual([first]);

    fake.reset();
    expect(fake.messages()).toEqual([]);
    expect(fake.assistantThread("D1", THREAD)).toBeUndefined();
    expect(fake.firstTextAt()).toBeUndefined();
  });
});
