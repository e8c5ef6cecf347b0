import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { rejection } from "../support/rejection";
import { type FakeDiscord, startFakeDiscord } from "./discord";

let fake: FakeDiscord;
const APP = "123456789012345678";

beforeAll(async () => {
  fake = await startFakeDiscord({ applicationId: APP, botToken: "bot-secret" });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return fetch(`${fake.url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

const edit = (token: string, content: string, app = APP) =>
  call("PATCH", `/webhooks/${app}/${token}/messages/@original`, { content });
const followUp = (token: string, content: string) =>
  call("POST", `/webhooks/${APP}/${token}`, { content });
const putCommands = (body: unknown, auth = "Bot bot-secret", guild?: string) =>
  call(
    "PUT",
    guild ? `/applications/${APP}/guilds/${guild}/commands` : `/applications/${APP}/commands`,
    body,
    { authorization: auth },
  );

const ASK = {
  type: 1,
  name: "ask",
  description: "Ask",
  options: [{ type: 3, name: "prompt", description: "What", required: true }],
};

describe("fake Discord REST: interaction webhooks", () => {
  it("serves under /api/v10 without a trailing slash", () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v10$/);
  });

  it("edits @original and answers a message object whose id stays the same per token", async () => {
    const first = await edit("tok-1", "thinking done");
    expect(first.status).toBe(200);
    const message = (await first.json()) as Record<string, unknown>;
    expect(message).toMatchObject({
      content: "thinking done",
      type: 20,
      author: { id: APP, bot: true },
      webhook_id: APP,
      application_id: APP,
    });
    expect(message.id).toMatch(/^\d{17,20}$/);
    const second = (await (await edit("tok-1", "edited again")).json()) as { id: string };
    expect(second.id).toBe(message.id);
    expect(fake.edits().map((e) => [e.interactionToken, e.content, e.id])).toEqual([
      ["tok-1", "thinking done", message.id],
      ["tok-1", "edited again", message.id],
    ]);
  });

  it("posts follow-ups with new ids and filters messages by token", async () => {
    await edit("tok-a", "a0");
    const a1 = (await (await followUp("tok-a", "a1")).json()) as { id: string };
    const b1 = (await (await followUp("tok-b", "b1")).json()) as { id: string };
    expect(a1.id).not.toBe(b1.id);
    expect(fake.followUps("tok-a").map((m) => m.content)).toEqual(["a1"]);
    expect(fake.followUps().map((m) => m.content)).toEqual(["a1", "b1"]);
    expect(fake.edits("tok-b")).toEqual([]);
    expect(fake.followUps("tok-a")[0]?.body).toEqual({ content: "a1" });
  });

  it("rejects content over 2000 characters with 50035 and empty content with 50006", async () => {
    const long = await edit("tok", "x".repeat(2001));
    expect(long.status).toBe(400);
    expect(await long.json()).toMatchObject({
      code: 50035,
      message: "Invalid Form Body",
      errors: { content: { _errors: [{ code: "BASE_TYPE_MAX_LENGTH" }] } },
    });
    const empty = await followUp("tok", "  ");
    expect(empty.status).toBe(400);
    expect(await empty.json()).toEqual({ code: 50006, message: "Cannot send an empty message" });
    expect((await edit("tok", "x".repeat(2000))).status).toBe(200);
    expect(fake.edits()).toHaveLength(1);
  });

  it("answers Unknown Webhook for another application and Invalid Webhook Token once expired", async () => {
    const other = await edit("tok", "hi", "999999999999999999");
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ code: 10015, message: "Unknown Webhook" });

    fake.expireToken("old");
    const expired = await edit("old", "late");
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual({ code: 50027, message: "Invalid Webhook Token" });
    expect(fake.edits()).toEqual([]);
  });

  it("needs no Authorization header on webhooks", async () => {
    expect((await edit("tok", "hi")).status).toBe(200);
    expect(fake.requests[0]?.headers.authorization).toBeUndefined();
  });

  it("answers 404 for unknown paths and 405 for wrong methods", async () => {
    expect((await call("GET", "/users/@me")).status).toBe(404);
    const wrong = await call("DELETE", `/webhooks/${APP}/tok/messages/@original`);
    expect(wrong.status).toBe(405);
    expect(await wrong.json()).toEqual({ code: 0, message: "405: Method Not Allowed" });
  });
});

describe("fake Discord REST: bulk overwrite of commands", () => {
  it("stores global and guild commands separately, keeping ids on re-registration", async () => {
    const res = await putCommands([ASK, { type: 1, name: "forget", description: "Forget" }]);
    expect(res.status).toBe(200);
    const stored = (await res.json()) as { id: string; name: string; application_id: string }[];
    expect(stored.map((c) => c.name)).toEqual(["ask", "forget"]);
    expect(stored[0]).toMatchObject({
      application_id: APP,
      type: 1,
      default_member_permissions: null,
    });

    const again = (await (await putCommands([ASK])).json()) as { id: string }[];
    expect(again[0]?.id).toBe(stored[0]?.id);
    expect(fake.commands().map((c) => c.name)).toEqual(["ask"]);

    await putCommands([ASK], "Bot bot-secret", "555555555555555555");
    expect(fake.commands("555555555555555555")).toMatchObject([
      { name: "ask", guild_id: "555555555555555555" },
    ]);
    const listed = await call("GET", `/applications/${APP}/commands`, undefined, {
      authorization: "Bot bot-secret",
    });
    expect(((await listed.json()) as unknown[]).length).toBe(1);
  });

  it.each([
    ["no token", ""],
    ["a wrong token", "Bot nope"],
    ["a bearer token", "Bearer bot-secret"],
  ])("answers 401 for %s", async (_name, auth) => {
    const res = await putCommands([ASK], auth);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ code: 0, message: "401: Unauthorized" });
    expect(fake.commands()).toEqual([]);
  });

  it("answers Missing Access for another application", async () => {
    const res = await call("PUT", "/applications/999999999999999999/commands", [ASK], {
      authorization: "Bot bot-secret",
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 50001 });
  });

  it.each([
    ["an upper-case name", [{ ...ASK, name: "Ask" }]],
    ["a description over 100 characters", [{ ...ASK, description: "d".repeat(101) }]],
    ["duplicate names", [ASK, ASK]],
    [
      "a required option after an optional one",
      [
        {
          ...ASK,
          options: [
            { type: 3, name: "a", description: "a" },
            { type: 3, name: "b", description: "b", required: true },
          ],
        },
      ],
    ],
    ["a body that is not an array", { name: "ask" }],
  ])("rejects %s with Invalid Form Body", async (_name, body) => {
    const res = await putCommands(body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 50035, message: "Invalid Form Body" });
    expect(fake.commands()).toEqual([]);
  });
});

describe("fake Discord REST: injected failures", () => {
  it("rate-limits a route with Discord's 429 body and headers, then recovers", async () => {
    fake.failNext("edit", { status: 429, retryAfterSeconds: 0.25, times: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await edit("tok", "hi");
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("1");
      expect(res.headers.get("x-ratelimit-scope")).toBe("user");
      expect(await res.json()).toEqual({
        message: "You are being rate limited.",
        retry_after: 0.25,
        global: false,
      });
    }
    expect((await followUp("tok", "other route")).status).toBe(200);
    expect((await edit("tok", "hi")).status).toBe(200);
  });

  it("injects an error status with Discord's error body", async () => {
    fake.failNext("commands", { status: 500, code: 0, message: "500: Internal Server Error" });
    const res = await putCommands([ASK]);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ code: 0, message: "500: Internal Server Error" });
  });

  it("drops connections while down, and recovers", async () => {
    fake.setDown(true);
    expect(await rejection(edit("tok", "hi"))).toBeInstanceOf(TypeError);
    fake.setDown(false);
    expect((await edit("tok", "hi")).status).toBe(200);
  });
});
