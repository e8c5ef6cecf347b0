import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../core/config";

describe("loadConfig", () => {
  it("starts with no variables at all, using documented defaults", () => {
    const config = loadConfig({ env: {} });
    expect(config).toMatchObject({
      port: 3000,
      dataDir: "./.data",
      memoryTableName: "agent-memory",
      logLevel: "INFO",
      aws: { region: "us-east-1" },
      slack: { apiUrl: "https://slack.com/api/" },
    });
    expect(config.anthropic.apiKey).toBeUndefined();
    expect(config.archiveHighWater).toBe(30);
  });

  it("takes MEMORY_ARCHIVE_HIGH_WATER from 22 up, naming it when it is lower or not a number", () => {
    expect(loadConfig({ env: { MEMORY_ARCHIVE_HIGH_WATER: "22" } }).archiveHighWater).toBe(22);
    for (const value of ["21", "0", "thirty"]) {
      expect(() => loadConfig({ env: { MEMORY_ARCHIVE_HIGH_WATER: value } })).toThrowError(
        /MEMORY_ARCHIVE_HIGH_WATER/,
      );
    }
  });

  it("runs 10 local chat jobs at once unless LOCAL_CHAT_CONCURRENCY says 1 to 100", () => {
    expect(loadConfig({ env: {} }).localChatConcurrency).toBe(10);
    expect(loadConfig({ env: { LOCAL_CHAT_CONCURRENCY: "100" } }).localChatConcurrency).toBe(100);
    for (const value of ["0", "101", "ten"]) {
      expect(() => loadConfig({ env: { LOCAL_CHAT_CONCURRENCY: value } })).toThrowError(
        /LOCAL_CHAT_CONCURRENCY/,
      );
    }
  });

  it("names every malformed or missing variable without echoing secret values", () => {
    const secret = "xoxq-super-secret-value";
    let error: unknown;
    try {
      loadConfig({
        env: {
          SLACK_BOT_TOKEN: secret,
          PORT: "70000",
          ANTHROPIC_BASE_URL: "ftp://x",
          LOG_LEVEL: "LOUD",
          DEFAULT_MODEL: "llama3",
        },
        required: ["CHAT_QUEUE_URL"],
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((p) => p.split(":")[0]);
    expect(problems.sort()).toEqual(
      [
        "ANTHROPIC_BASE_URL",
        "CHAT_QUEUE_URL",
        "DEFAULT_MODEL",
        "LOG_LEVEL",
        "PORT",
        "SLACK_BOT_TOKEN",
      ].sort(),
    );
    expect((error as Error).message).not.toContain(secret);
  });

  it("treats blank values as unset and normalises the Slack API URL", () => {
    const config = loadConfig({
      env: { ANTHROPIC_API_KEY: "  ", SLACK_API_URL: "http://127.0.0.1:9/api", PORT: "" },
    });
    expect(config.anthropic.apiKey).toBeUndefined();
    expect(config.slack.apiUrl).toBe("http://127.0.0.1:9/api/");
    expect(config.port).toBe(3000);
  });

  it("accepts model aliases and routable ids as DEFAULT_MODEL", () => {
    expect(loadConfig({ env: { DEFAULT_MODEL: "Haiku" } }).defaultModel).toBe("Haiku");
    expect(loadConfig({ env: { DEFAULT_MODEL: "gpt-4o-mini" } }).defaultModel).toBe("gpt-4o-mini");
  });
});
