import { InteractionResponseFlags } from "discord-interactions";
import { describe, expect, it } from "vitest";
import { chatJobSchema } from "../../core/chat/job";
import { MODEL_ALIASES, parseModelDirective } from "../../core/llm/models";
import { COMMANDS } from "../../core/platforms/discord/commands";
import {
  DEFERRED,
  forgetMessage,
  type Interaction,
  interactionSchema,
  modelSetMessage,
  PONG,
  routeInteraction,
} from "../../core/platforms/discord/interactions";
import { snowflakeTime } from "../../core/platforms/discord/snowflake";
import {
  askInteraction,
  commandInteraction,
  pingInteraction,
  snowflakeAt,
  TEST_APPLICATION_ID,
} from "../support/discord";

const parse = (payload: Record<string, unknown>): Interaction => interactionSchema.parse(payload);
const route = (payload: Record<string, unknown>) => routeInteraction(parse(payload));

describe("snowflakeTime", () => {
  it("reads the creation time of the documented example snowflake", () => {
    // https://discord.com/developers/docs/reference#snowflakes: 175928847299117063 was created
    // at 2016-04-30 11:18:25.796 UTC.
    expect(snowflakeTime("175928847299117063")).toBe(Date.UTC(2016, 3, 30, 11, 18, 25, 796));
  });

  it("round-trips the time of the snowflakes the test support makes", () => {
    const at = Date.UTC(2030, 0, 2, 3, 4, 5, 678);
    expect(snowflakeTime(snowflakeAt(at))).toBe(at);
  });
});

describe("routeInteraction", () => {
  it("answers PING with PONG", () => {
    expect(route(pingInteraction())).toEqual({ action: "respond", response: PONG });
    expect(PONG).toEqual({ type: 1 });
    expect(DEFERRED).toEqual({ type: 5 });
  });

  it("turns /ask in a guild into a job for member.user in that channel", () => {
    const id = snowflakeAt(Date.UTC(2031, 5, 6, 7, 8, 9, 10));
    const payload = askInteraction("what is the capital of France?", {
      id,
      token: "tok-1",
      channelId: "910000000000000001",
      userId: "810000000000000001",
    });
    const result = route(payload);
    expect(result).toEqual({
      action: "ask",
      interactionId: id,
      job: {
        v: 2,
        jobId: `discord-interaction:${id}`,
        source: { kind: "discord-interaction", interactionId: id },
        conversation: {
          platform: "discord",
          channelId: "910000000000000001",
          userId: "810000000000000001",
        },
        text: "what is the capital of France?",
        sentAt: Date.UTC(2031, 5, 6, 7, 8, 9, 10),
        reply: {
          platform: "discord",
          via: "direct",
          address: {
            applicationId: TEST_APPLICATION_ID,
            interactionToken: "tok-1",
            channelId: "910000000000000001",
          },
        },
      },
    });
    expect(payload.member).toBeDefined();
    expect(payload.user).toBeUndefined();
    if (result.action === "ask") expect(chatJobSchema.safeParse(result.job).success).toBe(true);
  });

  it("takes user.id in a DM", () => {
    const payload = askInteraction("hi", { guildId: null, userId: "820000000000000002" });
    expect(payload.member).toBeUndefined();
    const result = route(payload);
    expect(result.action === "ask" && result.job.conversation.userId).toBe("820000000000000002");
  });

  it("falls back to channel_id when the partial channel object is absent", () => {
    const { channel: _channel, ...payload } = askInteraction("hi", {
      channelId: "930000000000000003",
    });
    const result = route(payload);
    expect(result.action === "ask" && result.job.conversation.channelId).toBe("930000000000000003");
  });

  it("passes the model option as a leading directive that the turn's parser resolves and strips", () => {
    const result = route(askInteraction("  summarise this  ", { model: " Haiku " }));
    if (result.action !== "ask") throw new Error(`unexpected ${result.action}`);
    expect(result.job.text).toBe(`[${MODEL_ALIASES.haiku}] summarise this`);
    expect(parseModelDirective(result.job.text)).toEqual({
      model: MODEL_ALIASES.haiku,
      text: "summarise this",
    });
  });

  it("lets the model option win over a directive inside the prompt", () => {
    const result = route(askInteraction("[mini] hello", { model: "opus" }));
    if (result.action !== "ask") throw new Error(`unexpected ${result.action}`);
    expect(parseModelDirective(result.job.text).model).toBe(MODEL_ALIASES.opus);
  });

  it("keeps a full model id from the option", () => {
    const result = route(askInteraction("hi", { model: "gpt-4o-mini" }));
    expect(result.action === "ask" && result.job.text).toBe("[gpt-4o-mini] hi");
  });

  it("answers an unroutable model option with an ephemeral list of aliases, enqueuing nothing", () => {
    const result = route(askInteraction("hi", { model: "llama3" }));
    expect(result).toMatchObject({
      action: "respond",
      reason: "unknown_model",
      response: {
        type: 4,
        data: {
          flags: InteractionResponseFlags.EPHEMERAL,
          allowed_mentions: { parse: [] },
        },
      },
    });
    const content =
      result.action === "respond" && "data" in result.response && "content" in result.response.data
        ? result.response.data.content
        : "";
    expect(content).toContain("llama3");
    for (const alias of Object.keys(MODEL_ALIASES)) expect(content).toContain(`\`${alias}\``);
  });

  it("routes /forget to the caller's conversation in that channel", () => {
    const id = snowflakeAt();
    expect(
      route(
        commandInteraction(
          "forget",
          {},
          { id, channelId: "940000000000000004", userId: "840000000000000004" },
        ),
      ),
    ).toEqual({
      action: "forget",
      interactionId: id,
      conversation: {
        platform: "discord",
        channelId: "940000000000000004",
        userId: "840000000000000004",
      },
    });
  });

  it("routes /model to a normalised name with its resolved id", () => {
    const id = snowflakeAt();
    expect(
      route(
        commandInteraction("model", { name: "  Sonnet " }, { id, userId: "850000000000000005" }),
      ),
    ).toEqual({
      action: "set-model",
      interactionId: id,
      userId: "850000000000000005",
      model: "sonnet",
      resolved: MODEL_ALIASES.sonnet,
    });
  });

  it("answers /model with an unknown name ephemerally", () => {
    expect(route(commandInteraction("model", { name: "TODO" }))).toMatchObject({
      action: "respond",
      reason: "unknown_model",
      response: { type: 4, data: { flags: 64 } },
    });
  });

  it("answers an unknown command with an ephemeral hint naming the commands", () => {
    const result = route(commandInteraction("weather"));
    expect(result).toMatchObject({ action: "respond", reason: "unknown_command" });
    expect(JSON.stringify(result)).toContain("/ask, /forget and /model");
  });

  it.each([
    [
      "an interaction type Discord has not defined",
      { ...askInteraction("x"), type: 42 },
      "unsupported_interaction_type: 42",
    ],
    [
      "a command without data",
      { ...commandInteraction("ask"), data: undefined },
      "invalid_command_data: data",
    ],
    ["/ask without a prompt", commandInteraction("ask"), "invalid_command_data: prompt missing"],
    ["/ask with a blank prompt", askInteraction("   "), "invalid_command_data: prompt missing"],
    ["/model without a name", commandInteraction("model"), "invalid_command_data: name missing"],
  ])("rejects %s", (_name, payload, error) => {
    const result = route(payload as Record<string, unknown>);
    expect(result.action).toBe("reject");
    expect(result.action === "reject" && result.error).toContain(error);
  });

  it("rejects a command with neither member nor user, or no channel", () => {
    const { member: _m, ...noUser } = askInteraction("hi");
    expect(route(noUser)).toMatchObject({
      action: "reject",
      error: expect.stringContaining("user"),
    });
    const { channel: _c, channel_id: _ci, ...noChannel } = askInteraction("hi");
    expect(route(noChannel)).toMatchObject({
      action: "reject",
      error: expect.stringContaining("channel"),
    });
  });

  it("ignores option types it does not read (a number option named prompt is no prompt)", () => {
    const payload = commandInteraction("ask");
    (payload.data as Record<string, unknown>).options = [{ name: "prompt", type: 4, value: 3 }];
    expect(route(payload)).toMatchObject({ action: "reject" });
  });
});

describe("interactionSchema", () => {
  it.each([
    ["a non-numeric id", { id: "abc" }],
    ["a missing token", { token: undefined }],
    ["an empty token", { token: "" }],
    ["a non-integer type", { type: 1.5 }],
  ])("refuses %s", (_name, change) => {
    expect(interactionSchema.safeParse({ ...askInteraction("x"), ...change }).success).toBe(false);
  });
});

describe("ephemeral answers", () => {
  it("says what /forget removed, in singular and plural", () => {
    expect(forgetMessage({ messages: 0, summaries: 0 })).toMatch(/nothing to forget/);
    expect(forgetMessage({ messages: 1, summaries: 1 })).toBe(
      "Forgotten: 1 message and 1 archived summary of our conversation in this channel.",
    );
    expect(forgetMessage({ messages: 12, summaries: 0 })).toContain(
      "12 messages and 0 archived summaries",
    );
  });

  it("confirms /model with the alias and what it resolves to", () => {
    expect(modelSetMessage("haiku", "claude-haiku-5-5")).toContain("`haiku` (claude-haiku-5-5)");
    expect(modelSetMessage("gpt-4o", "gpt-4o")).toContain("`gpt-4o`.");
  });
});

describe("COMMANDS", () => {
  it("defines ask, forget and model within Discord's limits", () => {
    expect(COMMANDS.map((c) => c.name)).toEqual(["ask", "forget", "model"]);
    for (const command of COMMANDS) {
      expect(command.description.length).toBeGreaterThan(0);
      expect(command.description.length).toBeLessThanOrEqual(100);
      for (const option of command.options ?? []) {
        expect(option.name).toMatch(/^[-_a-z0-9]{1,32}$/);
        expect(option.description.length).toBeLessThanOrEqual(100);
      }
    }
    const ask = COMMANDS.find((c) => c.name === "ask");
    expect(ask?.options?.map((o) => [o.name, o.type, !!o.required])).toEqual([
      ["prompt", 3, true],
      ["model", 3, false],
    ]);
    expect(COMMANDS.find((c) => c.name === "model")?.options).toMatchObject([
      { name: "name", type: 3, required: true },
    ]);
  });

  it("names every alias in the model option's description", () => {
    const description = COMMANDS.find((c) => c.name === "model")?.options?.[0]?.description ?? "";
    for (const alias of Object.keys(MODEL_ALIASES)) expect(description).toContain(alias);
  });
});
