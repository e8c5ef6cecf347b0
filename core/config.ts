import * as z from "zod";
import {
  AGENT_MAX_ROUNDS,
  DEFAULT_APPROVAL_REQUIRED,
  DEFAULT_TOOL_ALLOWLIST,
  TOOL_RESULT_MAX_BYTES,
} from "./constants/agent";
import { GATEWAY_DIALECTS } from "./constants/gateway";
import { LOG_LEVELS } from "./constants/logging";
import { ARCHIVE_KEEP_MESSAGES, DEFAULT_ARCHIVE_HIGH_WATER } from "./constants/memory";
import { SLACK_ASSISTANT } from "./constants/platforms";
import { LOCAL_CHAT_CONCURRENCY } from "./constants/queues";
import { AGENT_LOOP, HEALTH_CHECK, KADI_LISTENER, STREAMING } from "./constants/timings";
import {
  booleanWithDefault,
  channelList,
  commaSeparated,
  modelSchema,
  optionalInt,
  optionalMatching,
  optionalPem,
  optionalString,
  optionalUrl,
  optionalWsUrl,
  pipeSeparated,
  portNumber,
  positiveInt,
  slackTeamList,
  snowflake,
  toolPatternList,
  urlWithDefault,
  userList,
  withDefault,
  withoutTrailingSlashes,
} from "./env-values";
import { LINKED_RESOURCES, linkedVariables, sstLinkedResources } from "./linked-resources";

/**
 * The one reader of `process.env`. Variable names follow `docs/architecture.md` and the README
 * (Configuration): standard AWS/Anthropic names where they exist, project names otherwise. Every
 * variable is documented with its default in `.env.template`.
 *
 * Each variable is declared once, in {@link CONFIG_VARIABLES}: where it lands in {@link Config},
 * its name and its schema. The environment schema, the mapping to `Config` and the `Config`
 * type are all derived from that table.
 */

/** One configuration field: the variable it is read from and the schema that validates it. */
interface Variable<Name extends string = string, Schema extends z.ZodType = z.ZodType> {
  readonly variable: Name;
  readonly schema: Schema;
}

function read<const Name extends string, Schema extends z.ZodType>(
  variable: Name,
  schema: Schema,
): Variable<Name, Schema> {
  return { variable, schema };
}

/** A group of configuration fields, nested as in {@link Config}. */
interface VariableTree {
  readonly [key: string]: Variable | VariableTree;
}

/**
 * Every variable, once, placed where its value lands in {@link Config}. Optional fields are
 * `undefined` when the variable is unset or blank; a provider or platform whose variables are
 * absent is reported as unconfigured rather than failing start-up, so the local stack runs with
 * no secrets at all.
 */
const CONFIG_VARIABLES = {
  anthropic: {
    apiKey: read("ANTHROPIC_API_KEY", optionalString),
    baseUrl: read("ANTHROPIC_BASE_URL", optionalUrl),
  },
  modelManager: {
    baseUrl: read("MODEL_MANAGER_BASE_URL", optionalUrl),
    apiKey: read("MODEL_MANAGER_API_KEY", optionalString),
  },
  /** Model id or alias used when the text names none and the user has no preference. */
  defaultModel: read("DEFAULT_MODEL", modelSchema),
  /** Model id or alias that writes archive summaries; default `DEFAULT_SUMMARY_MODEL`. */
  summaryModel: read("SUMMARY_MODEL", modelSchema),
  slack: {
    signingSecret: read("SLACK_SIGNING_SECRET", optionalString),
    botToken: read(
      "SLACK_BOT_TOKEN",
      optionalMatching(/^xox[bp]-/, "must be a Slack bot token (xoxb-…)"),
    ),
    botUserId: read(
      "SLACK_BOT_USER_ID",
      optionalMatching(/^[UW][A-Z0-9]+$/, "must be a Slack user id such as U0123ABCD"),
    ),
    /** Web API base URL ending in `/`, default `https://slack.com/api/`. */
    apiUrl: read(
      "SLACK_API_URL",
      urlWithDefault("https://slack.com/api/").transform((v) => (v.endsWith("/") ? v : `${v}/`)),
    ),
    /**
     * Suggested prompts shown when a person opens the agent's assistant thread, `|`-separated
     * (Slack shows at most 4); default `SLACK_ASSISTANT.suggestedPrompts`.
     */
    suggestedPrompts: read(
      "SLACK_SUGGESTED_PROMPTS",
      pipeSeparated(
        SLACK_ASSISTANT.suggestedPrompts,
        SLACK_ASSISTANT.maxPrompts,
        SLACK_ASSISTANT.maxPromptChars,
      ),
    ),
  },
  discord: {
    /** Ed25519 public key of the application, hex (General Information → Public Key). */
    publicKey: read(
      "DISCORD_PUBLIC_KEY",
      optionalMatching(
        /^[0-9a-fA-F]{64}$/,
        "must be the application's Ed25519 public key (64 hex characters)",
      ),
    ),
    /** Only `npm run discord:register` needs it: interactions carry their own. */
    applicationId: read("DISCORD_APPLICATION_ID", snowflake),
    botToken: read("DISCORD_BOT_TOKEN", optionalString),
    botUserId: read("DISCORD_BOT_USER_ID", snowflake),
    /** REST base URL without trailing slash, default `https://discord.com/api/v10`. */
    apiUrl: read(
      "DISCORD_API_URL",
      urlWithDefault("https://discord.com/api/v10").transform(withoutTrailingSlashes),
    ),
  },
  kadi: {
    /** `ws(s)://host:port/kadi`; unset means the agent does not connect to a broker. */
    brokerUrl: read("KADI_BROKER_URL", optionalWsUrl),
    /** Networks to register on and subscribe in; default `["global"]`. */
    networks: read(
      "KADI_NETWORKS",
      commaSeparated("global", /^[A-Za-z0-9_.:-]+$/, "must be comma-separated network ids"),
    ),
    /** HMAC key of `POST /kadi/events`; unset makes that endpoint answer 503. */
    callbackSecret: read("KADI_CALLBACK_SECRET", optionalString),
    /** Ed25519 PKCS#8 PEM; unset means the local stack generates one. */
    privateKeyPem: read("KADI_PRIVATE_KEY", optionalPem),
    /** `displayName` sent in `kadi.agent.register`. */
    agentName: read(
      "KADI_AGENT_NAME",
      withDefault("chat-agent", z.string().max(64, "must be at most 64 characters")),
    ),
    /** How long one listener invocation holds its broker session, ms (default 240000). */
    sessionMs: read("KADI_SESSION_MS", positiveInt(KADI_LISTENER.sessionMs, 900_000)),
    /** `*` serves `chat` and `memory_search` to every agent; unset serves neither (README). */
    trustedAgents: read(
      "KADI_TRUSTED_AGENTS",
      optionalMatching(
        /^\*$/,
        "must be * or unset: the broker does not say which agent calls a tool, so a list of agents cannot be checked",
      ),
    ),
  },
  /** The agent loop and its tools (README, "Tools the agent can use"). */
  agent: {
    /** `AGENT_MAX_ROUNDS`: model rounds that may call tools in one turn (default 8). */
    maxRounds: read(
      "AGENT_MAX_ROUNDS",
      positiveInt(AGENT_MAX_ROUNDS.default, AGENT_MAX_ROUNDS.max),
    ),
    /** `AGENT_BUDGET_MS`: wall-clock budget of one turn's rounds and tool calls, ms (60000). */
    budgetMs: read(
      "AGENT_BUDGET_MS",
      positiveInt(AGENT_LOOP.budgetMs, AGENT_LOOP.maxBudgetMs, AGENT_LOOP.minBudgetMs),
    ),
    /** `TOOL_RESULT_MAX_BYTES`: a tool result longer than this is cut, bytes (8192). */
    toolResultMaxBytes: read(
      "TOOL_RESULT_MAX_BYTES",
      positiveInt(
        TOOL_RESULT_MAX_BYTES.default,
        TOOL_RESULT_MAX_BYTES.max,
        TOOL_RESULT_MAX_BYTES.min,
      ),
    ),
    /** `TOOL_APPROVAL_TTL_MS`: how long a call waits for Approve, ms (900000, the maximum). */
    approvalTtlMs: read(
      "TOOL_APPROVAL_TTL_MS",
      positiveInt(AGENT_LOOP.approvalTtlMs, AGENT_LOOP.approvalTtlMs, AGENT_LOOP.minApprovalTtlMs),
    ),
    /** `KADI_TOOL_ALLOWLIST`: broker abilities offered (default: the file abilities). */
    toolAllowlist: read("KADI_TOOL_ALLOWLIST", toolPatternList(DEFAULT_TOOL_ALLOWLIST)),
    /** `TOOL_APPROVAL_REQUIRED`: abilities that wait for the person's Approve. */
    approvalRequired: read("TOOL_APPROVAL_REQUIRED", toolPatternList(DEFAULT_APPROVAL_REQUIRED)),
  },
  /** Who may talk to the agent: comma-separated ids, unset = everyone (`core/chat/access.ts`). */
  access: {
    slackTeams: read("ALLOWED_SLACK_TEAMS", slackTeamList),
    channels: read("ALLOWED_CHANNELS", channelList),
    users: read("ALLOWED_USERS", userList),
  },
  arcadedb: {
    /** `http://host:2480/{database}`; unset selects the embedded search backend. */
    url: read(
      "ARCADEDB_URL",
      optionalUrl.transform((v) => v && withoutTrailingSlashes(v)),
    ),
    username: read("ARCADEDB_USERNAME", withDefault("root", z.string())),
    password: read("ARCADEDB_PASSWORD", optionalString),
  },
  /** Budget of archived summaries recalled into one chat turn. */
  recall: {
    maxSummaries: read("MEMORY_RECALL_MAX_SUMMARIES", positiveInt(3, 20)),
    maxChars: read("MEMORY_RECALL_MAX_CHARS", positiveInt(2000, 20_000)),
  },
  /**
   * `MEMORY_ARCHIVE_HIGH_WATER`: live messages above which a conversation is archived. A turn
   * adds two messages: below keep + 2 an archive run could leave nothing to archive.
   */
  archiveHighWater: read(
    "MEMORY_ARCHIVE_HIGH_WATER",
    positiveInt(DEFAULT_ARCHIVE_HIGH_WATER, 200, ARCHIVE_KEEP_MESSAGES + 2),
  ),
  /**
   * `USER_DAILY_TOKEN_BUDGET`: tokens (input + output, as the providers report them) one user
   * may use per UTC day; unset means no limit (docs/reliability/spend.md).
   */
  userDailyTokenBudget: read("USER_DAILY_TOKEN_BUDGET", optionalInt(1_000_000_000_000)),
  /** How answers are shown while and after they are written (README, "What people see"). */
  reply: {
    /** `REPLY_MODEL_FOOTER`: a footer line naming the model (and any fallback); default on. */
    modelFooter: read("REPLY_MODEL_FOOTER", booleanWithDefault(true)),
    /**
     * `LLM_STREAM_IDLE_TIMEOUT_MS`: longest silence between two streamed events before the
     * stream counts as failed, ms (default 20000).
     */
    streamIdleTimeoutMs: read(
      "LLM_STREAM_IDLE_TIMEOUT_MS",
      positiveInt(STREAMING.idleTimeoutMs, 120_000, 100),
    ),
  },
  /** Admin side of the model gateway, used by `npm run gateway:bootstrap` and the health check. */
  gateway: {
    url: read(
      "GATEWAY_URL",
      optionalUrl.transform((v) => v && withoutTrailingSlashes(v)),
    ),
    adminKey: read("GATEWAY_ADMIN_KEY", optionalString),
    dialect: read(
      "GATEWAY_DIALECT",
      withDefault(
        "litellm",
        z.enum(GATEWAY_DIALECTS, { error: `must be ${GATEWAY_DIALECTS.join(" or ")}` }),
      ),
    ),
  },
  /** Interval of the local stack's health check, ms (default 300000, as the cron). */
  healthCheckIntervalMs: read(
    "HEALTH_CHECK_INTERVAL_MS",
    positiveInt(HEALTH_CHECK.intervalMs, 86_400_000),
  ),
  aws: {
    region: read(
      "AWS_REGION",
      withDefault("us-east-1", z.string().regex(/^[a-z0-9-]+$/, "must be an AWS region")),
    ),
    dynamodbEndpoint: read("AWS_ENDPOINT_URL_DYNAMODB", optionalUrl),
    sqsEndpoint: read("AWS_ENDPOINT_URL_SQS", optionalUrl),
  },
  memoryTableName: read(
    "MEMORY_TABLE_NAME",
    withDefault(
      "agent-memory",
      z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, "must be a DynamoDB table name"),
    ),
  ),
  chatQueueUrl: read("CHAT_QUEUE_URL", optionalUrl),
  archiveQueueUrl: read("ARCHIVE_QUEUE_URL", optionalUrl),
  /** HTTP port of the local stack; 0 picks a free port. */
  port: read("PORT", portNumber),
  dataDir: read("DATA_DIR", withDefault("./.data", z.string())),
  /** Chat jobs the local stack runs at once; one conversation's jobs run in order. */
  localChatConcurrency: read(
    "LOCAL_CHAT_CONCURRENCY",
    positiveInt(
      LOCAL_CHAT_CONCURRENCY.default,
      LOCAL_CHAT_CONCURRENCY.max,
      LOCAL_CHAT_CONCURRENCY.min,
    ),
  ),
  logLevel: read(
    "LOG_LEVEL",
    withDefault(
      "INFO",
      z
        .string()
        .transform((v) => v.toUpperCase())
        .pipe(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` })),
    ),
  ),
} as const satisfies VariableTree;

/** The parsed shape of a {@link VariableTree}: each variable's schema output, nested alike;
 * a field whose value may be `undefined` is optional. */
type ConfigOf<T> =
  T extends Variable<string, infer Schema>
    ? z.output<Schema>
    : {
        -readonly [K in keyof T as undefined extends ConfigOf<T[K]> ? never : K]: ConfigOf<T[K]>;
      } & {
        -readonly [K in keyof T as undefined extends ConfigOf<T[K]> ? K : never]?: ConfigOf<T[K]>;
      };

/**
 * The validated configuration, as {@link loadConfig} returns it: one field per variable,
 * grouped by service (`anthropic.apiKey` ← `ANTHROPIC_API_KEY`, …); see `CONFIG_VARIABLES` in
 * this file for each field's variable, default and unit. Fields that may be unset are optional.
 */
export type Config = ConfigOf<typeof CONFIG_VARIABLES>;

/** Every variable of {@link CONFIG_VARIABLES}, in declaration order. */
function variablesOf(tree: VariableTree): Variable[] {
  return Object.values(tree).flatMap((node) => (isVariable(node) ? [node] : variablesOf(node)));
}

function isVariable(node: Variable | VariableTree): node is Variable {
  return typeof node.variable === "string" && node.schema instanceof z.ZodType;
}

/** `Config` from the parsed variables, following the shape of `tree`. */
function configOf(tree: VariableTree, values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(tree).map(([key, node]) => [
      key,
      isVariable(node) ? values[node.variable] : configOf(node, values),
    ]),
  );
}

/** Name of a variable in `T` (by default, of every variable {@link loadConfig} reads). */
type VariableName<T = typeof CONFIG_VARIABLES> =
  T extends Variable<infer Name> ? Name : { [K in keyof T]: VariableName<T[K]> }[keyof T];

const envSchema = z.object(
  Object.fromEntries(variablesOf(CONFIG_VARIABLES).map((v) => [v.variable, v.schema])),
);

export { LINKED_RESOURCES, type LinkedResourceName } from "./linked-resources";

// Every variable a linked resource supplies is one `loadConfig` declares.
LINKED_RESOURCES satisfies Record<string, { variable: VariableName }>;

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
  // Parsed once per container, so without zod's JIT: compiling a fast parser for this object
  // first made the first call take about 13 ms instead of 6 ms on the bench VM.
  const parsed = envSchema.safeParse(env, { jitless: true });
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
  // The schema was built from the same table, so the parsed values have the shape `Config` says.
  return configOf(CONFIG_VARIABLES, parsed.data) as Config;
}
