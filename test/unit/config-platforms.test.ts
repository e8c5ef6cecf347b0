import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../core/config";

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig: Discord, KĀDI, ArcadeDB, recall, gateway", () => {
  it("uses the documented defaults when nothing is set", () => {
    const config = loadConfig({ env: {} });
    expect(config.discord).toEqual({
      publicKey: undefined,
      applicationId: undefined,
      botToken: undefined,
      botUserId: undefined,
      apiUrl: "https://discord.com/api/v10",
    });
    expect(config.kadi).toMatchObject({
      networks: ["global"],
      agentName: "chat-agent",
      sessionMs: 240_000,
    });
    expect(config.kadi.brokerUrl).toBeUndefined();
    expect(config.arcadedb).toEqual({ url: undefined, username: "root", password: undefined });
    expect(config.recall).toEqual({ maxSummaries: 3, maxChars: 2000 });
    expect(config.gateway.dialect).toBe("litellm");
    expect(config.healthCheckIntervalMs).toBe(300_000);
    expect(config.summaryModel).toBeUndefined();
  });

  it("parses lists, trims URLs and turns escaped newlines of a PEM into real ones", () => {
    const pem = generateKeyPairSync("ed25519")
      .privateKey.export({ format: "pem", type: "pkcs8" })
      .toString()
      .trim();
    const config = loadConfig({
      env: {
        KADI_NETWORKS: " global, team-a ,,",
        KADI_BROKER_URL: "wss://broker.example/kadi",
        KADI_PRIVATE_KEY: pem.replaceAll("\n", "\\n"),
        ARCADEDB_URL: "http://localhost:2480/agent/",
        DISCORD_API_URL: "http://127.0.0.1:9999/api/v10/",
        MEMORY_RECALL_MAX_SUMMARIES: "5",
        SUMMARY_MODEL: "haiku",
        GATEWAY_DIALECT: "model-manager",
      },
    });
    expect(config.kadi.networks).toEqual(["global", "team-a"]);
    expect(config.kadi.privateKeyPem).toBe(pem);
    expect(config.arcadedb.url).toBe("http://localhost:2480/agent");
    expect(config.discord.apiUrl).toBe("http://127.0.0.1:9999/api/v10");
    expect(config.recall.maxSummaries).toBe(5);
    expect(config.summaryModel).toBe("haiku");
    expect(config.gateway.dialect).toBe("model-manager");
  });

  it("names each malformed variable and never echoes secret values", () => {
    const secretPem = "not-a-pem-but-secret-123";
    const problems = problemsOf({
      DISCORD_PUBLIC_KEY: "xyz",
      DISCORD_APPLICATION_ID: "app",
      KADI_BROKER_URL: "http://broker",
      KADI_PRIVATE_KEY: secretPem,
      KADI_SESSION_MS: "0",
      MEMORY_RECALL_MAX_CHARS: "lots",
      GATEWAY_DIALECT: "ollama",
      SUMMARY_MODEL: "llama3",
    });
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual(
      [
        "DISCORD_APPLICATION_ID",
        "DISCORD_PUBLIC_KEY",
        "GATEWAY_DIALECT",
        "KADI_BROKER_URL",
        "KADI_PRIVATE_KEY",
        "KADI_SESSION_MS",
        "MEMORY_RECALL_MAX_CHARS",
        "SUMMARY_MODEL",
      ].sort(),
    );
    expect(problems.join("\n")).not.toContain(secretPem);
  });
});
