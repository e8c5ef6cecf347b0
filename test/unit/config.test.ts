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

  it("bounds the agent loop with 8 rounds, 60 s, 8 KiB results and a 15-minute approval", () => {
    expect(loadConfig({ env: {} }).agent).toEqual({
      maxRounds: 8,
      budgetMs: 60_000,
      toolResultMaxBytes: 8192,
      approvalTtlMs: 900_000,
      toolAllowlist: expect.arrayContaining([
        "local_remote_create_temporary_url",
        "cloud_upload_file",
        "start_registry",
        "download_file_from_remote",
        "execute_remote_command",
      ]),
      approvalRequired: ["*execute*", "*delete*", "*remove*", "*create_tunnel", "start_registry"],
    });
    const set = loadConfig({
      env: {
        AGENT_MAX_ROUNDS: "3",
        AGENT_BUDGET_MS: "30000",
        TOOL_RESULT_MAX_BYTES: "1024",
        TOOL_APPROVAL_TTL_MS: "600000",
      },
    }).agent;
    expect(set).toMatchObject({
      maxRounds: 3,
      budgetMs: 30_000,
      toolResultMaxBytes: 1024,
      approvalTtlMs: 600_000,
    });
    // The budget must leave the worker time to post and store; an SQS delay is at most 15 min.
    for (const [name, value] of [
      ["AGENT_MAX_ROUNDS", "0"],
      ["AGENT_MAX_ROUNDS", "21"],
      ["AGENT_BUDGET_MS", "60001"],
      ["AGENT_BUDGET_MS", "4999"],
      ["TOOL_RESULT_MAX_BYTES", "100"],
      ["TOOL_APPROVAL_TTL_MS", "900001"],
      ["TOOL_APPROVAL_TTL_MS", "999"],
    ] as const) {
      expect(() => loadConfig({ env: { [name]: value } }), `${name}=${value}`).toThrowError(
        new RegExp(name),
      );
    }
  });

  it("reads the tool allowlist and approval list as names or *-globs, none for an empty list", () => {
    const config = loadConfig({
      env: { KADI_TOOL_ALLOWLIST: " cloud_*, start_registry ,", TOOL_APPROVAL_REQUIRED: "none" },
    });
    expect(config.agent.toolAllowlist).toEqual(["cloud_*", "start_registry"]);
    expect(config.agent.approvalRequired).toEqual([]);
    expect(loadConfig({ env: { KADI_TOOL_ALLOWLIST: "NONE" } }).agent.toolAllowlist).toEqual([]);
    for (const value of ["cloud upload", "a.b", "x".repeat(65)]) {
      expect(() => loadConfig({ env: { KADI_TOOL_ALLOWLIST: value } })).toThrowError(
        /KADI_TOOL_ALLOWLIST: must be comma-separated tool names/,
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
