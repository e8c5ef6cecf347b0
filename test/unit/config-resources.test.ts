import { createCipheriv, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Config, ConfigError, LINKED_RESOURCES, loadConfig } from "../../core/config";

const ROOT = join(import.meta.dirname, "..", "..");

function problemsOf(options: Parameters<typeof loadConfig>[0]): string[] {
  try {
    loadConfig(options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

const PEM = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----";

/** Each secret's link name, a valid value, and where it must land in the config. */
const SECRETS: [string, string, (c: Config) => unknown][] = [
  ["AnthropicApiKey", "sk-ant-linked", (c) => c.anthropic.apiKey],
  ["ModelManagerApiKey", "sk-mm-linked", (c) => c.modelManager.apiKey],
  ["SlackSigningSecret", "signing-linked", (c) => c.slack.signingSecret],
  ["SlackBotToken", "xoxb-linked", (c) => c.slack.botToken],
  ["DiscordPublicKey", "ab".repeat(32), (c) => c.discord.publicKey],
  ["DiscordBotToken", "discord-linked", (c) => c.discord.botToken],
  ["ArcadedbPassword", "arcade-linked", (c) => c.arcadedb.password],
  ["KadiPrivateKey", PEM, (c) => c.kadi.privateKeyPem],
  ["KadiCallbackSecret", "callback-linked", (c) => c.kadi.callbackSecret],
  ["GatewayAdminKey", "sk-admin-linked", (c) => c.gateway.adminKey],
];

describe("loadConfig with SST-linked resources", () => {
  it("takes the table name and queue URLs from linked resources, satisfying `required`", () => {
    const config = loadConfig({
      env: {},
      resources: {
        Memory: { name: "app-production-MemoryTable-x1", type: "sst.aws.Dynamo" },
        ChatQueue: { url: "https://sqs.eu-west-1.amazonaws.com/1/chat", type: "sst.aws.Queue" },
        ArchiveQueue: { url: "https://sqs.eu-west-1.amazonaws.com/1/archive" },
      },
      required: ["CHAT_QUEUE_URL", "ARCHIVE_QUEUE_URL"],
    });
    expect(config.memoryTableName).toBe("app-production-MemoryTable-x1");
    expect(config.chatQueueUrl).toBe("https://sqs.eu-west-1.amazonaws.com/1/chat");
    expect(config.archiveQueueUrl).toBe("https://sqs.eu-west-1.amazonaws.com/1/archive");
  });

  it("maps every linked secret's value into its config field", () => {
    const resources = Object.fromEntries(SECRETS.map(([name, value]) => [name, { value }]));
    const config = loadConfig({ env: {}, resources });
    for (const [name, value, field] of SECRETS) {
      expect(field(config), name).toBe(value);
    }
    expect(SECRETS.map(([name]) => name).sort()).toEqual(
      Object.entries(LINKED_RESOURCES)
        .filter(([, link]) => link.property === "value")
        .map(([name]) => name)
        .sort(),
    );
  });

  it("prefers a linked value over the variable, and falls back to the variable when blank", () => {
    const config = loadConfig({
      env: { MEMORY_TABLE_NAME: "local-table", ANTHROPIC_API_KEY: "sk-from-env" },
      resources: { Memory: { name: "linked-table" }, AnthropicApiKey: { value: "" } },
    });
    expect(config.memoryTableName).toBe("linked-table");
    expect(config.anthropic.apiKey).toBe("sk-from-env");
  });

  it("names the variable and the resource of a malformed linked value, without the value", () => {
    const secret = "xoxq-not-a-bot-token-secret";
    const problems = problemsOf({
      env: {},
      resources: { SlackBotToken: { value: secret }, ChatQueue: { arn: "arn:aws:sqs:x" } },
    });
    expect(problems).toHaveLength(2);
    expect(problems).toContainEqual(
      expect.stringMatching(/^SLACK_BOT_TOKEN \(linked SST resource SlackBotToken\): /),
    );
    expect(problems).toContain('CHAT_QUEUE_URL: linked SST resource ChatQueue has no string "url"');
    expect(problems.join("\n")).not.toContain(secret);
  });

  it("ignores the process's SST links when the caller passes its own environment", () => {
    process.env.SST_RESOURCE_Memory = JSON.stringify({ name: "must-not-leak" });
    try {
      expect(loadConfig({ env: {} }).memoryTableName).toBe("agent-memory");
    } finally {
      delete process.env.SST_RESOURCE_Memory;
    }
  });
});

describe("loadConfig reading SST's links at run time", () => {
  const saved = { ...process.env };
  let dir: string | undefined;

  afterAll(async () => {
    for (const key of Object.keys(process.env)) {
      if (!(key in saved)) delete process.env[key];
    }
    // SST keeps what it loaded on globalThis; empty it so nothing leaks into other files.
    const raw = Reflect.get(globalThis, "__SST_RESOURCE_RAW__") as Record<string, unknown>;
    for (const key of Object.keys(raw ?? {})) delete raw[key];
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("decrypts the Lambda bundle's resource.enc and reads SST_RESOURCE_* variables", async () => {
    // The file SST writes next to a Lambda handler: AES-256-GCM with a zero nonce and the tag
    // appended, keyed by SST_KEY (see node_modules/sst/dist/resource/node.js).
    dir = await mkdtemp(join(tmpdir(), "sst-links-"));
    const key = randomBytes(32);
    const cipher = createCipheriv("aes-256-gcm", key, Buffer.alloc(12, 0));
    const plain = JSON.stringify({
      Memory: { name: "app-production-MemoryTable-abc", type: "sst.aws.Dynamo" },
      SlackBotToken: { value: "xoxb-from-resource-enc", type: "sst.sst.Secret" },
    });
    const sealed = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    await writeFile(join(dir, "resource.enc"), sealed);

    process.env.SST_RESOURCE_App = JSON.stringify({ name: "kadi-chat-agent", stage: "test" });
    process.env.SST_KEY = key.toString("base64");
    process.env.SST_KEY_FILE = join(dir, "resource.enc");
    process.env.SST_RESOURCE_ChatQueue = JSON.stringify({
      url: "https://sqs.us-east-1.amazonaws.com/1/app-ChatQueue",
      type: "sst.aws.Queue",
    });

    const config = loadConfig({ required: ["CHAT_QUEUE_URL"] });
    expect(config.memoryTableName).toBe("app-production-MemoryTable-abc");
    expect(config.slack.botToken).toBe("xoxb-from-resource-enc");
    expect(config.chatQueueUrl).toBe("https://sqs.us-east-1.amazonaws.com/1/app-ChatQueue");
  });
});

describe("infra declares the resources config reads", () => {
  async function infraSources(): Promise<string> {
    const files = (await readdir(join(ROOT, "infra"))).filter((f) => f.endsWith(".ts"));
    const texts = await Promise.all(
      [join(ROOT, "sst.config.ts"), ...files.map((f) => join(ROOT, "infra", f))].map((f) =>
        readFile(f, "utf8"),
      ),
    );
    return texts.join("\n");
  }

  it("links every LINKED_RESOURCES name, and every declared secret is mapped", async () => {
    const source = await infraSources();
    const declared = [
      ...source.matchAll(/new sst\.(?:aws\.(?:Dynamo|Queue)|Secret)\(\s*"([A-Za-z0-9]+)"/g),
    ].map((m) => m[1]);
    for (const name of Object.keys(LINKED_RESOURCES)) expect(declared, name).toContain(name);
    const secrets = [...source.matchAll(/new sst\.Secret\(\s*"([A-Za-z0-9]+)"/g)].map((m) => m[1]);
    // Read on the gateway droplet only, never by a function.
    const gatewayOnly = ["GatewayUpstreamKey"];
    for (const name of secrets) {
      expect([...Object.keys(LINKED_RESOURCES), ...gatewayOnly], name).toContain(name);
    }
  });
});
