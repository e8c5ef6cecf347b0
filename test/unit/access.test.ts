import { describe, expect, it } from "vitest";
import { decideAccess } from "../../core/chat/access";
import { ConfigError, loadConfig } from "../../core/config";

describe("decideAccess", () => {
  const alice = { platform: "slack" as const, channelId: "C1", userId: "U1", slackTeamId: "T1" };

  it("admits everyone when no list is set, and checks every list that is", () => {
    expect(decideAccess({}, alice)).toEqual({ allowed: true });
    const lists = { slackTeams: ["T1"], channels: ["C1"], users: ["U1"] };
    expect(decideAccess(lists, alice)).toEqual({ allowed: true });
    expect(decideAccess(lists, { ...alice, slackTeamId: "T2" })).toEqual({
      allowed: false,
      missingFrom: "team",
    });
    expect(decideAccess(lists, { ...alice, channelId: "C2" })).toEqual({
      allowed: false,
      missingFrom: "channel",
    });
    expect(decideAccess(lists, { ...alice, userId: "U2" })).toEqual({
      allowed: false,
      missingFrom: "user",
    });
  });

  it("holds only Slack to the team list", () => {
    const discord = { platform: "discord" as const, channelId: "1", userId: "2" };
    expect(decideAccess({ slackTeams: ["T1"] }, discord)).toEqual({ allowed: true });
  });
});

describe("ALLOWED_* variables", () => {
  it("read comma-separated ids; unset or blank means everyone", () => {
    const config = loadConfig({
      env: {
        ALLOWED_SLACK_TEAMS: "T0AAA, E0BBB",
        ALLOWED_CHANNELS: " C0AAA ,D0BBB,,123456789012345678 ",
        ALLOWED_USERS: "",
      },
    });
    expect(config.access).toEqual({
      slackTeams: ["T0AAA", "E0BBB"],
      channels: ["C0AAA", "D0BBB", "123456789012345678"],
      users: undefined,
    });
  });

  it.each([
    ["ALLOWED_SLACK_TEAMS", "my-workspace"],
    ["ALLOWED_CHANNELS", "#general"],
    ["ALLOWED_USERS", "@alice"],
    ["ALLOWED_USERS", " , "],
  ])("%s=%s stops start-up naming the variable", (name, value) => {
    const error = (() => {
      try {
        loadConfig({ env: { [name]: value } });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.join()).toContain(name);
    // The message says what is expected, never the value.
    if (value.trim().length > 1)
      expect((error as ConfigError).problems.join()).not.toContain(value);
  });
});
