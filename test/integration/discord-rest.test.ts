import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runRegisterCli } from "../../core/ops/discord-register";
import { COMMANDS } from "../../core/platforms/discord/commands";
import { DISCORD_MAX_MESSAGE_CHARS } from "../../core/platforms/discord/limits";
import { DiscordInteractionReplier } from "../../core/platforms/discord/replier";
import { DiscordApiError } from "../../core/platforms/discord/rest";
import { type FakeDiscord, startFakeDiscord } from "../fakes/discord";
import { inMemoryLedger } from "../support/ledger";
import { rejection } from "../support/rejection";

let fake: FakeDiscord;
const APP = "1300000000000000001";
const BOT_TOKEN = "bot-token-for-tests";

beforeAll(async () => {
  fake = await startFakeDiscord({ applicationId: APP, botToken: BOT_TOKEN });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const target = (interactionToken = "tok-abc") => ({
  platform: "discord" as const,
  via: "direct" as const,
  address: { applicationId: APP, interactionToken },
});

function replier(sleeps: number[] = []) {
  return new DiscordInteractionReplier(
    {
      apiUrl: fake.url,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    },
    { ledger: inMemoryLedger(), warn: () => undefined },
  );
}

describe("DiscordInteractionReplier", () => {
  it("edits @original once for a short answer, without bot auth and with mentions disabled", async () => {
    const { messageId } = await replier().post(target(), "Paris. @everyone");

    expect(fake.edits()).toHaveLength(1);
    expect(fake.followUps()).toEqual([]);
    const [edit] = fake.edits();
    expect(edit).toMatchObject({ interactionToken: "tok-abc", content: "Paris. @everyone" });
    expect(edit?.body).toEqual({ content: "Paris. @everyone", allowed_mentions: { parse: [] } });
    expect(messageId).toBe(edit?.id);
    expect(fake.requests[0]?.headers.authorization).toBeUndefined();
    expect(fake.requests[0]?.headers["user-agent"]).toMatch(/^DiscordBot \(/);
  });

  it("splits a long answer into an edit and follow-ups of at most 2000 characters, in order", async () => {
    const paragraphs = Array.from(
      { length: 9 },
      (_, i) => `Paragraph ${i}: ${"lorem ipsum ".repeat(45).trim()}.`,
    );
    const text = paragraphs.join("\n\n");
    expect(text.length).toBeGreaterThan(2 * DISCORD_MAX_MESSAGE_CHARS);

    await replier().post(target("tok-long"), text);

    const parts = [...fake.edits("tok-long"), ...fake.followUps("tok-long")].map((m) => m.content);
    expect(fake.edits("tok-long")).toHaveLength(1);
    expect(fake.followUps("tok-long").length).toBeGreaterThanOrEqual(2);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(DISCORD_MAX_MESSAGE_CHARS);
    expect(parts.join("\n\n")).toBe(text);
    expect(fake.requests.map((r) => r.method)).toEqual([
      "PATCH",
      ...parts.slice(1).map(() => "POST"),
    ]);
  });

  it("waits out a short rate limit and retries", async () => {
    fake.failNext("edit", { status: 429, retryAfterSeconds: 0.3 });
    const sleeps: number[] = [];

    await replier(sleeps).post(target(), "hello");

    expect(sleeps).toEqual([300]);
    expect(fake.edits()).toHaveLength(1);
    expect(fake.requests).toHaveLength(2);
  });

  it("throws a long rate limit to the queue instead of sleeping through it", async () => {
    fake.failNext("edit", { status: 429, retryAfterSeconds: 5, global: true });
    const sleeps: number[] = [];

    const err = await rejection(replier(sleeps).post(target(), "hello"));

    expect(err).toBeInstanceOf(DiscordApiError);
    expect(err).toMatchObject({ status: 429, retryAfterMs: 5000, method: "PATCH" });
    expect(sleeps).toEqual([]);
    expect(fake.edits()).toEqual([]);
  });

  it("gives up after two short rate limits in a row", async () => {
    fake.failNext("followUp", { status: 429, retryAfterSeconds: 0.01, times: 3 });
    const sleeps: number[] = [];

    const err = await rejection(replier(sleeps).post(target(), "a".repeat(2500)));

    expect(err).toMatchObject({ status: 429 });
    expect(sleeps).toEqual([10, 10]);
    expect(fake.edits()).toHaveLength(1);
  });

  it("reports Discord's JSON error and never puts the token in the message", async () => {
    fake.expireToken("secret-token-123");

    const err = await rejection(replier().post(target("secret-token-123"), "late answer"));

    expect(err).toBeInstanceOf(DiscordApiError);
    expect(err).toMatchObject({
      status: 401,
      code: 50027,
      discordMessage: "Invalid Webhook Token",
      route: "/webhooks/{application_id}/{token}/messages/@original",
    });
    expect((err as Error).message).not.toContain("secret-token-123");
    expect((err as Error).message).toContain("50027");
  });

  it("reports a connection failure as status 0 with the cause chained", async () => {
    fake.setDown(true);
    const err = await rejection(replier().post(target(), "hello"));
    expect(err).toMatchObject({ name: "DiscordApiError", status: 0 });
    expect((err as Error).cause).toBeInstanceOf(Error);
  });

  it("refuses to post an empty answer without calling Discord", async () => {
    expect(await rejection(replier().post(target(), "  \n "))).toBeInstanceOf(RangeError);
    expect(fake.requests).toEqual([]);
  });
});

describe("npm run discord:register (runRegisterCli)", () => {
  async function run(argv: string[], env: Record<string, string | undefined> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runRegisterCli(argv, {
      env: {
        DISCORD_APPLICATION_ID: APP,
        DISCORD_BOT_TOKEN: BOT_TOKEN,
        DISCORD_API_URL: `${fake.url}/`,
        ...env,
      },
      out: (line) => out.push(line),
      err: (line) => err.push(line),
    });
    return { code, out: out.join("\n"), err: err.join("\n") };
  }

  it("registers the three commands globally with Bot auth and prints them", async () => {
    const result = await run([]);

    expect(result.code).toBe(0);
    expect(fake.commands().map((c) => c.name)).toEqual(["ask", "forget", "model"]);
    const put = fake.requests.find((r) => r.method === "PUT");
    expect(put?.path).toBe(`/applications/${APP}/commands`);
    expect(put?.headers.authorization).toBe(`Bot ${BOT_TOKEN}`);
    expect(put?.body).toEqual(COMMANDS);
    expect(result.out).toContain("Registered 3 commands");
    for (const command of fake.commands()) {
      expect(result.out).toContain(`/${command.name}  (id ${command.id})`);
    }
  });

  it("registers in one guild with --guild", async () => {
    const result = await run(["--guild", "1400000000000000004"]);

    expect(result.code).toBe(0);
    expect(fake.commands()).toEqual([]);
    expect(fake.commands("1400000000000000004").map((c) => c.name)).toEqual([
      "ask",
      "forget",
      "model",
    ]);
    expect(result.out).toContain("guild 1400000000000000004");
  });

  it("exits 1 with Discord's error and a hint when the bot token is refused, without echoing it", async () => {
    const result = await run([], { DISCORD_BOT_TOKEN: "wrong-token-value" });

    expect(result.code).toBe(1);
    expect(result.err).toContain("HTTP 401");
    expect(result.err).toContain("DISCORD_BOT_TOKEN");
    expect(result.err).not.toContain("wrong-token-value");
    expect(fake.commands()).toEqual([]);
  });

  it("exits 1 naming the missing variables", async () => {
    const result = await run([], { DISCORD_APPLICATION_ID: undefined, DISCORD_BOT_TOKEN: "" });

    expect(result.code).toBe(1);
    expect(result.err).toContain("DISCORD_APPLICATION_ID: is required");
    expect(result.err).toContain("DISCORD_BOT_TOKEN: is required");
    expect(fake.requests).toEqual([]);
  });

  it("exits 1 when Discord is unreachable", async () => {
    fake.setDown(true);
    const result = await run([]);
    expect(result.code).toBe(1);
    expect(result.err).toContain("no response");
    expect(result.err).toContain("DISCORD_API_URL");
  });

  it.each([
    [["--guild", "my-server"], "--guild must be a guild id"],
    [["--global"], "Unknown option"],
  ])("exits 1 with usage for %j", async (argv, message) => {
    const result = await run(argv);
    expect(result.code).toBe(1);
    expect(result.err).toContain(message);
    expect(result.err).toContain("Usage: npm run discord:register");
    expect(fake.requests).toEqual([]);
  });

  it("prints usage for --help", async () => {
    const result = await run(["--help"]);
    expect(result.code).toBe(0);
    expect(result.out).toContain("--guild <id>");
  });
});
