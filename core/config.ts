import { Resource } from "sst/resource";
import * as z from "zod";
import { MODEL_ALIASES, resolveModel } from "./llm/models";
import { ARCHIVE_KEEP_MESSAGES, DEFAULT_ARCHIVE_HIGH_WATER } from "./memory/archival";

/**
 * The one reader of `process.env`. Variable names follow `docs/architecture.md` and the README (Configuration):
 * standard AWS/Anthropic names where they exist, project names otherwise. Every variable is
 * documented with its default in `.env.template`.
 */

/** An unset or blank variable reads as `undefined`; surrounding whitespace is ignored. */
const optionalString = z
  .string()
  .optional()
  .transform((v) => {
    const trimmed = v?.trim();
    return trimmed ? trimmed : undefined;
  });

const optionalUrl = optionalString.pipe(
  z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
);

function optionalMatching(pattern: RegExp, error: string) {
  return optionalString.pipe(z.string().regex(pattern, error).optional());
}

function withDefault<T extends z.ZodType<unknown, string>>(fallback: string, schema: T) {
  return optionalString.transform((v) => v ?? fallback).pipe(schema);
}

const logLevels = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "SILENT", "CRITICAL"] as const;

/** Variables whose values must never appear in logs or error messages. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set([
  "ANTHROPIC_API_KEY",
  "MODEL_MANAGER_API_KEY",
  "SLACK_SIGNING_SECRET",
  "SLACK_BOT_TOKEN",
  "DISCORD_BOT_TOKEN",
  "KADI_CALLBACK_SECRET",
  "KADI_PRIVATE_KEY",
  "ARCADEDB_PASSWORD",
  "GATEWAY_ADMIN_KEY",
]);

function positiveInt(fallback: string, max: number, min = 1) {
  return withDefault(
    fallback,
    z
      .string()
      .regex(/^\d+$/, "must be a whole number")
      .transform(Number)
      .pipe(
        z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`),
      ),
  );
}

const optionalWsUrl = optionalString.pipe(
  z.url({ protocol: /^wss?$/, error: "must be a ws(s) URL" }).optional(),
);

/** A PEM value may arrive with literal `\n` escapes (one-line env files, secret stores). */
const optionalPem = optionalString
  .transform((v) => v?.replaceAll("\\n", "\n"))
  .pipe(
    z
      .string()
      .regex(/^-----BEGIN PRIVATE KEY-----[\s\S]+-----END PRIVATE KEY-----$/, {
        error: "must be a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----)",
      })
      .optional(),
  );

const modelSchema = optionalString.refine((v) => v === undefined || resolveModel(v) !== undefined, {
  error: `must be an alias (${Object.keys(MODEL_ALIASES).join(", ")}) or a claude*, gpt* or o<digit>* model id`,
});

const envSchema = z.object({
  ANTHROPIC_API_KEY: optionalString,
  ANTHROPIC_BASE_URL: optionalUrl,
  MODEL_MANAGER_BASE_URL: optionalUrl,
  MODEL_MANAGER_API_KEY: optionalString,
  DEFAULT_MODEL: modelSchema,
  SUMMARY_MODEL: modelSchema,
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_BOT_TOKEN: optionalMatching(/^xox[bp]-/, "must be a Slack bot token (xoxb-…)"),
  SLACK_BOT_USER_ID: optionalMatching(
    /^[UW][A-Z0-9]+$/,
    "must be a Slack user id such as U0123ABCD",
  ),
  SLACK_API_URL: optionalUrl,
  DISCORD_PUBLIC_KEY: optionalMatching(
    /^[0-9a-fA-F]{64}$/,
    "must be the application's Ed25519 public key (64 hex characters)",
  ),
  DISCORD_APPLICATION_ID: optionalMatching(/^\d{15,22}$/, "must be a Discord snowflake id"),
  DISCORD_BOT_TOKEN: optionalString,
  DISCORD_BOT_USER_ID: optionalMatching(/^\d{15,22}$/, "must be a Discord snowflake id"),
  DISCORD_API_URL: optionalUrl,
  KADI_BROKER_URL: optionalWsUrl,
  KADI_NETWORKS: withDefault(
    "global",
    z
      .string()
      .transform((v) =>
        v
          .split(",")
          .map((n) => n.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^[A-Za-z0-9_.:-]+$/, "must be comma-separated network ids"))),
  ),
  KADI_CALLBACK_SECRET: optionalString,
  KADI_PRIVATE_KEY: optionalPem,
  KADI_AGENT_NAME: withDefault("chat-agent", z.string().max(64, "must be at most 64 characters")),
  KADI_SESSION_MS: positiveInt("240000", 900_000),
  ARCADEDB_URL: optionalUrl,
  ARCADEDB_USERNAME: withDefault("root", z.string()),
  ARCADEDB_PASSWORD: optionalString,
  MEMORY_RECALL_MAX_SUMMARIES: positiveInt("3", 20),
  MEMORY_RECALL_MAX_CHARS: positiveInt("2000", 20_000),
  // A turn adds two messages: below keep + 2 an archive run could leave nothing to archive.
  MEMORY_ARCHIVE_HIGH_WATER: positiveInt(
    String(DEFAULT_ARCHIVE_HIGH_WATER),
    200,
    ARCHIVE_KEEP_MESSAGES + 2,
  ),
  GATEWAY_URL: optionalUrl,
  GATEWAY_ADMIN_KEY: optionalString,
  GATEWAY_DIALECT: withDefault(
    "litellm",
    z.enum(["litellm", "model-manager"], { error: "must be litellm or model-manager" }),
  ),
  HEALTH_CHECK_INTERVAL_MS: positiveInt("300000", 86_400_000),
  AWS_REGION: withDefault("us-east-1", z.string().regex(/^[a-z0-9-]+$/, "must be an AWS region")),
  AWS_ENDPOINT_URL_DYNAMODB: optionalUrl,
  AWS_ENDPOINT_URL_SQS: optionalUrl,
  MEMORY_TABLE_NAME: withDefault(
    "agent-memory",
    z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, "must be a DynamoDB table name"),
  ),
  CHAT_QUEUE_URL: optionalUrl,
  ARCHIVE_QUEUE_URL: optionalUrl,
  PORT: withDefault(
    "3000",
    z
      .string()
      .regex(/^\d{1,5}$/, "must be a port number")
      .transform(Number)
      .pipe(z.number().max(65535, "must be a port number")),
  ),
  DATA_DIR: withDefault("./.data", z.string()),
  LOG_LEVEL: withDefault(
    "INFO",
    z
      .string()
      .transform((v) => v.toUpperCase())
      .pipe(z.enum(logLevels, { error: `must be one of ${logLevels.join(", ")}` })),
  ),
});

/** Log levels accepted by `LOG_LEVEL` (Powertools Logger's names). */
export type LogLevel = (typeof logLevels)[number];

/**
 * The validated configuration. Optional fields are `undefined` when the variable is unset or
 * empty; a provider or platform whose variables are absent is reported as unconfigured rather
 * than failing start-up, so the local stack runs with no secrets at all.
 */
export interface Config {
  anthropic: { apiKey?: string; baseUrl?: string };
  modelManager: { baseUrl?: string; apiKey?: string };
  /** Model id or alias used when the text names none and the user has no preference. */
  defaultModel?: string;
  /** Model id or alias that writes archive summaries; default `DEFAULT_SUMMARY_MODEL`. */
  summaryModel?: string;
  slack: {
    signingSecret?: string;
    botToken?: string;
    botUserId?: string;
    /** Web API base URL ending in `/`, default `https://slack.com/api/`. */
    apiUrl: string;
  };
  discord: {
    /** Ed25519 public key of the application, hex (General Information → Public Key). */
    publicKey?: string;
    applicationId?: string;
    botToken?: string;
    botUserId?: string;
    /** REST base URL without trailing slash, default `https://discord.com/api/v10`. */
    apiUrl: string;
  };
  kadi: {
    /** `ws(s)://host:port/kadi`; unset means the agent does not connect to a broker. */
    brokerUrl?: string;
    /** Networks to register on and subscribe in; default `["global"]`. */
    networks: string[];
    /** HMAC key of `POST /kadi/events`; unset makes that endpoint answer 503. */
    callbackSecret?: string;
    /** Ed25519 PKCS#8 PEM; unset means the local stack generates one. */
    privateKeyPem?: string;
    /** `displayName` sent in `kadi.agent.register`. */
    agentName: string;
    /** How long one listener invocation holds its broker session, ms (default 240000). */
    sessionMs: number;
  };
  arcadedb: {
    /** `http://host:2480/{database}`; unset selects the embedded search backend. */
    url?: string;
    username: string;
    password?: string;
  };
  /** Budget of archived summaries recalled into one chat turn. */
  recall: { maxSummaries: number; maxChars: number };
  /** `MEMORY_ARCHIVE_HIGH_WATER`: live messages above which a conversation is archived. */
  archiveHighWater: number;
  /** Admin side of the model gateway, used by `npm run gateway:bootstrap`. */
  gateway: { url?: string; adminKey?: string; dialect: "litellm" | "model-manager" };
  /** Interval of the local stack's health check, ms (default 300000, as the cron). */
  healthCheckIntervalMs: number;
  aws: { region: string; dynamodbEndpoint?: string; sqsEndpoint?: string };
  memoryTableName: string;
  chatQueueUrl?: string;
  archiveQueueUrl?: string;
  /** HTTP port of the local stack; 0 picks a free port. */
  port: number;
  dataDir: string;
  logLevel: LogLevel;
}

/**
 * SST-linked resources (https://sst.dev/docs/linking/) that stand in for a variable: the link
 * name given in `infra/`, the property SST exposes for it (`Dynamo` → `name`, `Queue` → `url`,
 * `Secret` → `value`) and the variable it supplies. On Lambda every one of these arrives through
 * linking, so no secret needs a plain environment variable there; locally the variables apply.
 */
export const LINKED_RESOURCES = {
  Memory: { property: "name", variable: "MEMORY_TABLE_NAME" },
  ChatQueue: { property: "url", variable: "CHAT_QUEUE_URL" },
  ArchiveQueue: { property: "url", variable: "ARCHIVE_QUEUE_URL" },
  AnthropicApiKey: { property: "value", variable: "ANTHROPIC_API_KEY" },
  ModelManagerApiKey: { property: "value", variable: "MODEL_MANAGER_API_KEY" },
  SlackSigningSecret: { property: "value", variable: "SLACK_SIGNING_SECRET" },
  SlackBotToken: { property: "value", variable: "SLACK_BOT_TOKEN" },
  DiscordPublicKey: { property: "value", variable: "DISCORD_PUBLIC_KEY" },
  DiscordBotToken: { property: "value", variable: "DISCORD_BOT_TOKEN" },
  ArcadedbPassword: { property: "value", variable: "ARCADEDB_PASSWORD" },
  KadiPrivateKey: { property: "value", variable: "KADI_PRIVATE_KEY" },
  KadiCallbackSecret: { property: "value", variable: "KADI_CALLBACK_SECRET" },
  GatewayAdminKey: { property: "value", variable: "GATEWAY_ADMIN_KEY" },
} as const satisfies Record<
  string,
  { property: "name" | "url" | "value"; variable: keyof z.input<typeof envSchema> }
>;

/** Link name of an SST resource that {@link loadConfig} understands. */
export type LinkedResourceName = keyof typeof LINKED_RESOURCES;

/**
 * The resources SST links to this process: on Lambda the encrypted `resource.enc` bundled with
 * the function (`SST_KEY`, `SST_KEY_FILE`), under `sst dev`/`sst shell` the `SST_RESOURCE_<Name>`
 * variables. Read through SST's own reader (`sst/resource`, about 1.7 KB minified), so the
 * format stays the CLI's business; outside SST it yields nothing.
 */
function sstLinkedResources(): Record<string, unknown> {
  const linked: Record<string, unknown> = {};
  for (const name of Object.keys(LINKED_RESOURCES)) {
    if (name in Resource) linked[name] = Reflect.get(Resource, name);
  }
  return linked;
}

/** Variables supplied by linked resources (blank values skipped), and where each came from. */
function linkedVariables(resources: Record<string, unknown>): {
  values: Record<string, string>;
  sources: Map<string, string>;
  problems: string[];
} {
  const values: Record<string, string> = {};
  const sources = new Map<string, string>();
  const problems: string[] = [];
  for (const [name, { property, variable }] of Object.entries(LINKED_RESOURCES)) {
    const resource = resources[name];
    if (resource === undefined) continue;
    const value =
      typeof resource === "object" && resource !== null
        ? Reflect.get(resource, property)
        : undefined;
    if (typeof value !== "string") {
      problems.push(`${variable}: linked SST resource ${name} has no string "${property}"`);
      continue;
    }
    if (!value.trim()) continue;
    values[variable] = value;
    sources.set(variable, name);
  }
  return { values, sources, problems };
}

/** Thrown by {@link loadConfig}; `problems` lists every bad variable as `NAME: reason`. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

/**
 * Validates the environment once.
 *
 * @param options.env - defaults to `process.env`; tests pass their own record.
 * @param options.resources - SST-linked resources by link name (see {@link LINKED_RESOURCES});
 *   a non-blank linked value takes precedence over the variable it stands in for. Defaults to
 *   what SST links to this process when `env` is defaulted too, else to none.
 * @param options.required - variable names that this entry point cannot run without (for
 *   example `CHAT_QUEUE_URL` for the Lambda ingress), reported together with malformed ones;
 *   a linked resource satisfies them.
 * @throws {ConfigError} naming every missing or malformed variable (and the linked resource it
 *   came from); messages never contain the offending value, so secrets do not leak into logs.
 */
export function loadConfig(
  options: {
    env?: Record<string, string | undefined>;
    resources?: Record<string, unknown>;
    required?: readonly string[];
  } = {},
): Config {
  const { required = [] } = options;
  const resources = options.resources ?? (options.env === undefined ? sstLinkedResources() : {});
  const linked = linkedVariables(resources);
  const env = { ...(options.env ?? process.env), ...linked.values };
  const problems: string[] = [...linked.problems];
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0] ?? "environment");
      const source = linked.sources.get(variable);
      const origin = source ? ` (linked SST resource ${source})` : "";
      problems.push(`${variable}${origin}: ${issue.message}`);
    }
  }
  for (const name of required) {
    if (!env[name]?.trim()) problems.push(`${name}: is required`);
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const e = parsed.data;
  return {
    anthropic: { apiKey: e.ANTHROPIC_API_KEY, baseUrl: e.ANTHROPIC_BASE_URL },
    modelManager: { baseUrl: e.MODEL_MANAGER_BASE_URL, apiKey: e.MODEL_MANAGER_API_KEY },
    defaultModel: e.DEFAULT_MODEL,
    summaryModel: e.SUMMARY_MODEL,
    slack: {
      signingSecret: e.SLACK_SIGNING_SECRET,
      botToken: e.SLACK_BOT_TOKEN,
      botUserId: e.SLACK_BOT_USER_ID,
      apiUrl: withTrailingSlash(e.SLACK_API_URL ?? "https://slack.com/api/"),
    },
    discord: {
      publicKey: e.DISCORD_PUBLIC_KEY,
      applicationId: e.DISCORD_APPLICATION_ID,
      botToken: e.DISCORD_BOT_TOKEN,
      botUserId: e.DISCORD_BOT_USER_ID,
      apiUrl: (e.DISCORD_API_URL ?? "https://discord.com/api/v10").replace(/\/+$/, ""),
    },
    kadi: {
      brokerUrl: e.KADI_BROKER_URL,
      networks: e.KADI_NETWORKS,
      callbackSecret: e.KADI_CALLBACK_SECRET,
      privateKeyPem: e.KADI_PRIVATE_KEY,
      agentName: e.KADI_AGENT_NAME,
      sessionMs: e.KADI_SESSION_MS,
    },
    arcadedb: {
      url: e.ARCADEDB_URL?.replace(/\/+$/, ""),
      username: e.ARCADEDB_USERNAME,
      password: e.ARCADEDB_PASSWORD,
    },
    recall: {
      maxSummaries: e.MEMORY_RECALL_MAX_SUMMARIES,
      maxChars: e.MEMORY_RECALL_MAX_CHARS,
    },
    archiveHighWater: e.MEMORY_ARCHIVE_HIGH_WATER,
    gateway: {
      url: e.GATEWAY_URL?.replace(/\/+$/, ""),
      adminKey: e.GATEWAY_ADMIN_KEY,
      dialect: e.GATEWAY_DIALECT,
    },
    healthCheckIntervalMs: e.HEALTH_CHECK_INTERVAL_MS,
    aws: {
      region: e.AWS_REGION,
      dynamodbEndpoint: e.AWS_ENDPOINT_URL_DYNAMODB,
      sqsEndpoint: e.AWS_ENDPOINT_URL_SQS,
    },
    memoryTableName: e.MEMORY_TABLE_NAME,
    chatQueueUrl: e.CHAT_QUEUE_URL,
    archiveQueueUrl: e.ARCHIVE_QUEUE_URL,
    port: e.PORT,
    dataDir: e.DATA_DIR,
    logLevel: e.LOG_LEVEL,
  };
}

function withTrailingSlash(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}
