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
