import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PlatformNotConfiguredError } from "../../core/chat/replier";
import { createAwsClients } from "../../core/compose/aws";
import { buildIngressDeps } from "../../core/compose/ingress";
import { buildReplyRouter } from "../../core/compose/repliers";
import { DEFAULT_OPENAI_COMPATIBLE_MODEL } from "../../core/constants/models";
import { createLogger } from "../../core/logger";
import { createApp } from "../../functions/http";
import type { ConsoleHealth, ConsoleMemory } from "../../local/console/routes";
import { LOCAL_CREDENTIALS } from "../../local/services";
import { type LocalStack, startLocalStack } from "../../local/stack";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { type FakeOpenAI, startFakeOpenAI } from "../fakes/openai";
import { testAws, testConfig } from "../support/aws";
import { consoleFetch, consoleJson, openConsoleEvents } from "../support/console";

/**
 * The local console's API (docs/architecture.md, "Local console") on the real local stack:
 * the `web` platform through the ingress pipeline, chat queue, worker and memory, answered by
 * the streaming model fakes. The model footer is on, so `done` can name a fallback.
 */

let anthropic: FakeAnthropic;
let openai: FakeOpenAI;
let stack: LocalStack;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({
    apiKey: "sk-ant-console",
    // Several deltas, so the stream is seen as a stream.
    stream: { tokensPerSecond: 200 },
  });
  openai = await startFakeOpenAI({ models: [DEFAULT_OPENAI_COMPATIBLE_MODEL] });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-console",
      ANTHROPIC_BASE_URL: anthropic.url,
      MODEL_MANAGER_BASE_URL: openai.url,
      REPLY_MODEL_FOOTER: "true",
      // The allowlists name nobody here: console jobs pass them (the token holder runs the stack).
      ALLOWED_USERS: "U0NOBODY",
      ALLOWED_CHANNELS: "C0NOWHERE",
      PORT: "0",
    }),
    { queue: `e2e-console-chat-${Date.now()}` },
  );
  stack = await startLocalStack(setup.config);
});

afterAll(async () => {
  await stack?.stop();
  await Promise.all([anthropic?.close(), openai?.close()]);
});

const base = () => stack.url;
const token = () => stack.console.token;

describe("console API auth and validation", () => {
  it("answers 401 to every API call without the per-start token, or with another one", async () => {
    for (const [path, body] of [
      ["messages", { text: "hi" }],
      ["events", undefined],
      ["memory", undefined],
      ["forget", {}],
      ["model", { model: "haiku" }],
      ["health", undefined],
    ] as const) {
      expect((await consoleFetch(base(), null, path, body)).status, path).toBe(401);
      expect((await consoleFetch(base(), "0".repeat(64), path, body)).status, path).toBe(401);
    }
    expect(stack.console.url).toBe(`${stack.url}/?token=${token()}`);
    expect(token()).toMatch(/^[0-9a-f]{64}$/);
  });

  it("answers 400 naming the field for a bad body", async () => {
    const empty = await consoleFetch(base(), token(), "messages", { text: "   " });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: string }).error).toMatch(/^text /);
    const badUser = await consoleFetch(base(), token(), "messages", { text: "hi", user: "a#b" });
    expect(badUser.status).toBe(400);
    expect(((await badUser.json()) as { error: string }).error).toMatch(/^user /);
    const notJson = await fetch(`${base()}/console/api/messages`, {
      method: "POST",
      headers: { "x-console-token": token() },
      body: "{",
    });
    expect(notJson.status).toBe(400);
    const badModel = await consoleFetch(base(), token(), "model", { model: "nonsense-model" });
    expect(badModel.status).toBe(400);
    expect(((await badModel.json()) as { error: string }).error).toMatch(/^model /);
  });

  it("serves the page, turning ?token= into an HttpOnly SameSite=Strict cookie that authorises", async () => {
    const page = await fetch(stack.console.url);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const cookie = page.headers.get("set-cookie") ?? "";
    expect(cookie).toContain(`console_token=${token()}`);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    const withCookie = await fetch(`${base()}/console/api/health`, {
      headers: { cookie: cookie.split(";")[0] ?? "" },
    });
    expect(withCookie.status).toBe(200);
    // A wrong token sets no cookie.
    expect((await fetch(`${base()}/?token=nope`)).headers.get("set-cookie")).toBeNull();
    for (const asset of ["app.js", "app.css", "marked.js", "purify.js"]) {
      expect((await fetch(`${base()}/console/assets/${asset}`)).status, asset).toBe(200);
    }
    expect((await fetch(`${base()}/console/assets/..%2Fpackage.json`)).status).toBe(404);
  });
});

describe("a console conversation", () => {
  const who = { user: "alice", channel: "general" };

  it("streams the answer, shows it in memory, stores a model preference, and forgets", async () => {
    const events = await openConsoleEvents(base(), token(), who);
    try {
      const sent = await consoleFetch(base(), token(), "messages", {
        ...who,
        text: "tell me about **tides** please",
      });
      expect(sent.status).toBe(202);
      const { jobId } = (await sent.json()) as { jobId: string };
      expect(jobId).toMatch(/^web:general:/);

      const done = await events.next("done", (e) => e.jobId === jobId);
      const deltas = events.events.filter((e) => e.type === "delta" && e.jobId === jobId);
      expect(deltas.length).toBeGreaterThan(1);
      const streamed = deltas.map((e) => (e.type === "delta" ? e.text : "")).join("");
      expect(done.outcome).toBe("answered");
      expect(done.model).toMatch(/^claude/);
      expect(done.fellBackFrom).toBeUndefined();
      expect(done.text).toBe(`fake-anthropic(${done.model}): tell me about **tides** please`);
      expect(streamed).toBe(done.text);
      // The request reached the model as a web conversation's turn.
      expect(JSON.stringify(anthropic.requests.at(-1)?.body)).toContain("tides");

      const memory = await consoleJson<ConsoleMemory>(
        base(),
        token(),
        "memory?user=alice&channel=general",
      );
      expect(
        memory.messages.map((m: { role: string; content: string }) => [m.role, m.content]),
      ).toEqual([
        ["user", "tell me about **tides** please"],
        ["assistant", done.text],
      ]);
      expect(memory.runningSummary).toBeNull();
      expect(memory.recalled).toEqual([]);
      // Another conversation of the same console sees none of it.
      const other = await consoleJson<ConsoleMemory>(base(), token(), "memory?user=bob");
      expect(other.messages).toEqual([]);

      const model = await consoleFetch(base(), token(), "model", { ...who, model: "haiku" });
      expect(model.status).toBe(200);
      const withPref = await consoleJson<ConsoleMemory>(
        base(),
        token(),
        "memory?user=alice&channel=general",
      );
      expect(withPref.preferences).toEqual({ model: "haiku" });

      const forgot = await consoleFetch(base(), token(), "forget", who);
      expect(await forgot.json()).toEqual({ messages: 2, summaries: 0 });
      const after = await consoleJson<ConsoleMemory>(
        base(),
        token(),
        "memory?user=alice&channel=general",
      );
      expect(after.messages).toEqual([]);
    } finally {
      events.close();
    }
  });

  it("names the model it fell back from when the first choice failed", async () => {
    const events = await openConsoleEvents(base(), token(), { user: "carol", channel: "console" });
    try {
      anthropic.failNext(401);
      const sent = await consoleFetch(base(), token(), "messages", {
        user: "carol",
        text: "hello",
      });
      const { jobId } = (await sent.json()) as { jobId: string };
      const done = await events.next("done", (e) => e.jobId === jobId);
      expect(done.model).toBe(DEFAULT_OPENAI_COMPATIBLE_MODEL);
      expect(done.fellBackFrom).toMatch(/^claude/);
      expect(done.outcome).toBe("answered");
    } finally {
      events.close();
    }
  });

  it("reports providers with their breakers, queue and DLQ depths and the last check", async () => {
    const health = await consoleJson<ConsoleHealth>(base(), token(), "health");
    expect(health.status).toBe("ok");
    expect(health.setup).toBeUndefined();
    expect(health.providers.anthropic).toMatchObject({ configured: true, breaker: "closed" });
    expect(health.providers["openai-compatible"]).toMatchObject({ configured: true });
    expect(health.queues.chat).toMatchObject({ ok: true, depth: expect.any(Number), dlqDepth: 0 });
    expect(health.queues.archive).toMatchObject({ ok: true, dlqDepth: 0 });
    expect(health.lastCheckAt).toEqual(expect.any(Number));
  });
});

describe("the deployed pieces have no console", () => {
  it("the ingress app answers 404 for the page and the API, and the worker cannot reply to web", async () => {
    const app: Hono = createApp(
      buildIngressDeps(stack.config, createAwsClients(stack.config, LOCAL_CREDENTIALS)),
    );
    expect((await app.request("/")).status).toBe(404);
    expect((await app.request("/console/api/health")).status).toBe(404);
    const router = buildReplyRouter(
      stack.config,
      createAwsClients(stack.config, LOCAL_CREDENTIALS),
      createLogger("test", "SILENT"),
    );
    const target = {
      platform: "web" as const,
      via: "direct" as const,
      address: { user: "a", channel: "b" },
    };
    await expect(router.open(target, { jobId: "web:b:1", sentAt: 0 })).rejects.toBeInstanceOf(
      PlatformNotConfiguredError,
    );
  });
});

describe("with no model configured", () => {
  it("says exactly what to set", async () => {
    const setup = await testAws(testConfig({ PORT: "0" }), {
      queue: `e2e-console-nomodel-${Date.now()}`,
    });
    const bare = await startLocalStack(setup.config);
    try {
      const health = await consoleJson<ConsoleHealth>(bare.url, bare.console.token, "health");
      expect(health.status).toBe("degraded");
      expect(health.setup).toContain("ANTHROPIC_API_KEY");
      expect(health.setup).toContain("MODEL_MANAGER_BASE_URL");
      expect(health.setup).toContain("http://127.0.0.1:11434/v1");
      expect(health.providers.anthropic?.configured).toBe(false);
    } finally {
      await bare.stop();
    }
  });
});
