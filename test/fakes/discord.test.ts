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

  it("keeps a follow-up's buttons until an edit sends components: [], and refuses invalid rows", async () => {
    const row = {
      type: 1,
      components: [
        { type: 2, style: 3, label: "Approve", custom_id: "tool_approve:a1" },
        { type: 2, style: 4, label: "Deny", custom_id: "tool_deny:a1" },
      ],
    };
    const res = await call("POST", `/webhooks/${APP}/tok-c`, {
      content: "Run it?",
      components: [row],
    });
    const posted = (await res.json()) as { id: string; components: unknown[] };
    expect(posted.components).toEqual([row]);
    const path = `/webhooks/${APP}/tok-c/messages/${posted.id}`;
    await call("PATCH", path, { content: "Still asking" });
    expect(fake.message(posted.id)?.components).toEqual([row]);
    const settled = (await (
      await call("PATCH", path, { content: "Approved", components: [] })
    ).json()) as {
      components: unknown[];
    };
    expect(settled.components).toEqual([]);
    expect(fake.message(posted.id)).toMatchObject({ content: "Approved", components: [] });
    const bad = await call("POST", `/webhooks/${APP}/tok-c`, {
      content: "x",
      components: [{ type: 1, components: [{ type: 2, style: 3, label: "No id" }] }],
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: number }).code).toBe(50035);
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

const editById = (token: string, id: string, body: Record<string, unknown>) =>
  call("PATCH", `/webhooks/${APP}/${token}/messages/${id}`, body);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("fake Discord REST: message revisions", () => {
  it("keeps every edit of @original as a timestamped revision of one message", async () => {
    for (const content of ["Par", "Paris is", "Paris is the capital."]) {
      expect((await edit("tok-live", content)).status).toBe(200);
    }

    const [original] = fake.messages("tok-live");
    expect(original).toMatchObject({
      kind: "original",
      interactionToken: "tok-live",
      content: "Paris is the capital.",
    });
    expect(original?.revisions.map((r) => r.content)).toEqual([
      "Par",
      "Paris is",
      "Paris is the capital.",
    ]);
    const times = original?.revisions.map((r) => r.at) ?? [];
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBe(fake.requests[0]?.at);
    expect(fake.edits("tok-live").map((e) => e.at)).toEqual(times);
  });

  it("edits a follow-up by id, and the original by its id, within the same token only", async () => {
    const original = (await (await edit("tok", "part 1")).json()) as { id: string };
    const posted = (await (await followUp("tok", "part 2")).json()) as { id: string };

    const edited = await editById("tok", posted.id, { content: "part 2, more" });
    expect(edited.status).toBe(200);
    expect(await edited.json()).toMatchObject({ id: posted.id, content: "part 2, more", type: 0 });
    expect(fake.message(posted.id)?.revisions.map((r) => r.content)).toEqual([
      "part 2",
      "part 2, more",
    ]);
    expect(fake.followUps("tok").map((m) => m.content)).toEqual(["part 2"]);

    expect((await editById("tok", original.id, { content: "part 1!" })).status).toBe(200);
    expect(fake.edits("tok").map((e) => e.content)).toEqual(["part 1", "part 1!"]);

    const foreign = await editById("other-tok", posted.id, { content: "x" });
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toEqual({ code: 10008, message: "Unknown Message" });
    expect((await editById("tok", "123", { content: "x" })).status).toBe(404);
    expect(fake.messages("tok").map((m) => m.kind)).toEqual(["original", "followUp"]);
  });

  it("keeps the content of an edit that leaves it out, and checks the limits on edits", async () => {
    const posted = (await (await followUp("tok", "kept")).json()) as { id: string };

    await editById("tok", posted.id, { allowed_mentions: { parse: [] } });
    expect(fake.message(posted.id)?.content).toBe("kept");
    const long = await editById("tok", posted.id, { content: "x".repeat(2001) });
    expect(long.status).toBe(400);
    expect(await long.json()).toMatchObject({ code: 50035 });
    const empty = await call("PATCH", `/webhooks/${APP}/tok-new/messages/@original`, {
      tts: false,
    });
    expect(await empty.json()).toEqual({ code: 50006, message: "Cannot send an empty message" });
  });
});

describe("fake Discord REST: edit rate limit", () => {
  it("allows 5 edits per message in 5 s, then answers 429 with retry_after and headers", async () => {
    for (let i = 0; i < 5; i++) {
      const res = await edit("tok-eager", `v${i}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-ratelimit-limit")).toBe("5");
      expect(res.headers.get("x-ratelimit-remaining")).toBe(String(4 - i));
    }

    const limited = await edit("tok-eager", "v5");
    expect(limited.status).toBe(429);
    const body = (await limited.json()) as { retry_after: number; global: boolean };
    expect(body).toMatchObject({ message: "You are being rate limited.", global: false });
    expect(body.retry_after).toBeGreaterThan(4);
    expect(body.retry_after).toBeLessThanOrEqual(5);
    expect(limited.headers.get("retry-after")).toBe("5");
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(limited.headers.get("x-ratelimit-scope")).toBe("user");
    expect(Number(limited.headers.get("x-ratelimit-reset-after"))).toBeCloseTo(body.retry_after, 2);
    expect(fake.messages("tok-eager")[0]?.content).toBe("v4");
    expect(fake.requests.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429]);

    // The window is per message: a follow-up of the same interaction is still editable.
    const other = (await (await followUp("tok-eager", "next")).json()) as { id: string };
    expect((await editById("tok-eager", other.id, { content: "next!" })).status).toBe(200);
  });

  it("frees a slot once the oldest edit leaves the window, and can be turned off", async () => {
    const short = await startFakeDiscord({
      applicationId: APP,
      editRateLimit: { limit: 2, windowMs: 300 },
    });
    const unlimited = await startFakeDiscord({ applicationId: APP, editRateLimit: false });
    const patch = (base: string, content: string) =>
      fetch(`${base}/webhooks/${APP}/tok/messages/@original`, {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ content }),
      });
    try {
      expect((await patch(short.url, "a")).status).toBe(200);
      expect((await patch(short.url, "b")).status).toBe(200);
      expect((await patch(short.url, "c")).status).toBe(429);
      await sleep(350);
      expect((await patch(short.url, "d")).status).toBe(200);

      for (let i = 0; i < 10; i++) expect((await patch(unlimited.url, `v${i}`)).status).toBe(200);
    } finally {
      await short.close();
      await unlimited.close();
    }
  });
});

describe("fake Discord REST: interaction token lifetime", () => {
  it("refuses a token issued 15 minutes ago on every webhook route", async () => {
    const posted = (await (await followUp("tok-old", "early")).json()) as { id: string };
    fake.setTokenAge("tok-old", 15 * 60_000);

    for (const res of [
      await edit("tok-old", "late"),
      await followUp("tok-old", "late"),
      await editById("tok-old", posted.id, { content: "late" }),
    ]) {
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ code: 50027, message: "Invalid Webhook Token" });
    }
    fake.setTokenAge("tok-young", 14 * 60_000);
    expect((await edit("tok-young", "still in time")).status).toBe(200);
  });

  it("counts a token's age from its first use, with a configurable lifetime", async () => {
    const brief = await startFakeDiscord({ applicationId: APP, interactionTokenLifetimeMs: 200 });
    const patch = () =>
      fetch(`${brief.url}/webhooks/${APP}/tok/messages/@original`, {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ content: "hi" }),
      });
    try {
      expect((await patch()).status).toBe(200);
      await sleep(250);
      expect((await patch()).status).toBe(401);
      brief.reset();
      expect((await patch()).status).toBe(200);
    } finally {
      await brief.close();
    }
  });
});

describe("fake Discord REST: channel messages", () => {
  const post = (channel: string, body: unknown, auth?: string) =>
    call("POST", `/channels/${channel}/messages`, body, auth ? { authorization: auth } : {});

  it("posts a message with the bot token", async () => {
    const res = await post(
      "400000000000000004",
      { content: "Too late to answer." },
      "Bot bot-secret",
    );

    expect(res.status).toBe(200);
    const message = (await res.json()) as Record<string, unknown>;
    expect(message).toMatchObject({
      content: "Too late to answer.",
      channel_id: "400000000000000004",
      type: 0,
      author: { bot: true },
    });
    expect(message.webhook_id).toBeUndefined();
    expect(fake.channelMessages("400000000000000004")).toMatchObject([
      { id: message.id, kind: "channel", content: "Too late to answer." },
    ]);
    expect(fake.channelMessages("1")).toEqual([]);
    expect(fake.edits()).toEqual([]);
  });

  it("requires the bot token and checks the content", async () => {
    expect((await post("4", { content: "hi" })).status).toBe(401);
    expect((await post("4", { content: "hi" }, "Bot wrong")).status).toBe(401);
    expect(
      await (await post("4", { content: "x".repeat(2001) }, "Bot bot-secret")).json(),
    ).toMatchObject({
      code: 50035,
    });
    expect((await post("4", { content: "" }, "Bot bot-secret")).status).toBe(400);
    expect(fake.channelMessages()).toEqual([]);
  });
});
