/**
 * `npm run gateway:bootstrap -- --stage <stage> [options]`: argument parsing, wiring from
 * `Config.gateway`, and the printed report. `scripts/gateway-bootstrap.ts` is the process shell.
 */
import { constants } from "node:os";
import { parseArgs } from "node:util";
import * as z from "zod";
import { type Config, ConfigError, loadConfig } from "../../config";
import { type BootstrapError, type BootstrapSummary, bootstrapGateway } from "./bootstrap";
import { createGatewayAdmin } from "./dialects";
import { DEFAULT_GATEWAY_MODELS, DEFAULT_UPSTREAM_KEY_ENV, modelSpecs } from "./models";
import { createSstSecretStore, MODEL_MANAGER_SECRET_NAME, type SecretStore } from "./secret-store";
import { DEFAULT_HEALTH_WAIT, type HealthWaitOptions, type Sleep } from "./wait";

/** Usage text printed by `--help` and after argument errors. */
export const USAGE = `Usage: npm run gateway:bootstrap -- --stage <stage> [options]

Waits for the gateway at GATEWAY_URL to become healthy, generates an API key and registers the
models through its admin API (GATEWAY_DIALECT: litellm | model-manager, GATEWAY_ADMIN_KEY), and
stores the key as the SST secret ${MODEL_MANAGER_SECRET_NAME} (MODEL_MANAGER_API_KEY) of <stage>.
On failure it deletes what it created and exits 1. Ctrl-C (SIGINT) or SIGTERM stops it the
same way and exits 130 (143); a second Ctrl-C exits at once, listing what may be left behind.

Options:
  --stage <name>              SST stage that receives the secret (required)
  --models <a,b>              models or aliases (default ${DEFAULT_GATEWAY_MODELS.join(",")})
  --upstream-base-url <url>   OpenAI-compatible upstream ending in /v1 (default: OpenAI)
  --upstream-key-env <NAME>   variable ON THE GATEWAY HOST with the upstream key
                              (default ${DEFAULT_UPSTREAM_KEY_ENV}; empty for none)
  --health-timeout-ms <ms>    total health wait (default ${DEFAULT_HEALTH_WAIT.budgetMs})
  --key-alias <label>         label of the key (default chat-agent-<stage>-<UTC time>)
  --help                      print this text`;

const argsSchema = z.object({
  stage: z
    .string({ error: "--stage is required" })
    .regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/, "--stage must be letters, digits and hyphens"),
  models: z.string().optional(),
  "upstream-base-url": z
    .url({ protocol: /^https?$/, error: "--upstream-base-url must be an http(s) URL" })
    .optional(),
  "upstream-key-env": z
    .string()
    .regex(/^([A-Za-z_][A-Za-z0-9_]*)?$/, "--upstream-key-env must be a variable name")
    .optional(),
  "health-timeout-ms": z
    .string()
    .regex(/^\d+$/, "--health-timeout-ms must be a whole number of ms")
    .transform(Number)
    .pipe(z.number().min(1, "--health-timeout-ms must be at least 1"))
    .optional(),
  "key-alias": z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "--key-alias must be 1-64 of A-Z a-z 0-9 _ . : -")
    .optional(),
});

/** Parsed command line of the bootstrap. */
export interface BootstrapArgs {
  stage: string;
  models: string[];
  upstreamBaseUrl?: string;
  /** Empty string means: register the models without an upstream key reference. */
  upstreamKeyEnv: string;
  /** Health wait budget, ms. */
  healthTimeoutMs: number;
  keyAlias?: string;
}

/** Result of {@link parseBootstrapArgs}. */
export type ParsedArgs =
  | { kind: "help" }
  | { kind: "args"; args: BootstrapArgs }
  | { kind: "invalid"; problems: string[] };

/** Parses argv (without node and script); never throws. */
export function parseBootstrapArgs(argv: readonly string[]): ParsedArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        stage: { type: "string" },
        models: { type: "string" },
        "upstream-base-url": { type: "string" },
        "upstream-key-env": { type: "string" },
        "health-timeout-ms": { type: "string" },
        "key-alias": { type: "string" },
        help: { type: "boolean" },
      },
    }).values;
  } catch (error) {
    return { kind: "invalid", problems: [(error as Error).message] };
  }
  if (values.help) return { kind: "help" };
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    return { kind: "invalid", problems: parsed.error.issues.map((issue) => issue.message) };
  }
  const a = parsed.data;
  return {
    kind: "args",
    args: {
      stage: a.stage,
      models: a.models
        ? a.models
            .split(",")
            .map((m) => m.trim())
            .filter(Boolean)
        : [...DEFAULT_GATEWAY_MODELS],
      upstreamBaseUrl: a["upstream-base-url"],
      upstreamKeyEnv: a["upstream-key-env"] ?? DEFAULT_UPSTREAM_KEY_ENV,
      healthTimeoutMs: a["health-timeout-ms"] ?? DEFAULT_HEALTH_WAIT.budgetMs,
      keyAlias: a["key-alias"],
    },
  };
}

/** `chat-agent-<stage>-<yyyymmddThhmmssZ>` at time `nowMs`. */
export function defaultKeyAlias(stage: string, nowMs: number): string {
  const stamp = new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `chat-agent-${stage}-${stamp}`;
}

/** The success report: gateway, key id and last 4 characters, models, next step. */
export function formatSummary(summary: BootstrapSummary, stage: string): string[] {
  const names = (models: { name: string }[]) => models.map((m) => m.name).join(", ") || "none";
  return [
    "Gateway bootstrap succeeded.",
    `  gateway:          ${summary.gatewayUrl} (${summary.dialect}), healthy after ${summary.health.probes} probe(s)`,
    `  key:              ${summary.key.alias} (id ${summary.key.id}, ${summary.key.lastFour})`,
    `  stored as:        ${summary.secret.name} in ${summary.secret.store}`,
    `  models added:     ${names(summary.registered)}`,
    `  already present:  ${names(summary.alreadyPresent)}`,
    `Next: set MODEL_MANAGER_BASE_URL=${summary.gatewayUrl}/v1 and run npx sst deploy --stage ${stage}`,
  ];
}

/** The failure report: step, reason, what was undone and what must be removed by hand. */
export function formatFailure(error: BootstrapError): string[] {
  const outcome = error.interrupted ? "stopped" : "failed";
  const lines = [`Gateway bootstrap ${outcome} at step "${error.step}": ${error.message}`];
  const { undone, leftBehind } = error.cleanup;
  if (undone.length > 0) lines.push(`  undone: ${undone.join("; ")}`);
  for (const item of leftBehind) {
    lines.push(`  LEFT BEHIND, delete by hand: ${item.item} (${item.reason})`);
  }
  if (undone.length === 0 && leftBehind.length === 0) lines.push("  nothing was created.");
  return lines;
}

/** Signals that interrupt the bootstrap. */
export type InterruptSignal = "SIGINT" | "SIGTERM";

/** Abort reason the script gives the bootstrap's signal: which process signal stopped the run. */
export class Interrupt extends Error {
  override readonly name = "Interrupt";
  constructor(readonly signal: InterruptSignal) {
    super(`interrupted by ${signal}`);
  }

  /** Shell convention 128 + signal number: 130 for SIGINT, 143 for SIGTERM. */
  get exitCode(): number {
    return 128 + constants.signals[this.signal];
  }
}

/**
 * Deliveries of the same interrupt closer together than this, ms, count as one. A single
 * Ctrl-C under `npm run` reaches the script twice: from the terminal, and about 30 ms later
 * relayed by tsx, which hears it once more from npm's own forwarding.
 */
export const REPEATED_DELIVERY_MS = 1_000;

/** Collaborators of {@link createInterruptHandler}. */
export interface InterruptHandlerDeps {
  /** Cancels the run with the given reason (`AbortController.abort`). */
  abort(reason: Interrupt): void;
  /** What the run may have created and not undone yet (from `CliDeps.onPending`). */
  pending(): readonly string[];
  err(line: string): void;
  /** Ends the process at once with this code. */
  exit(code: number): void;
  /** The current time, epoch ms (`Date.now` in production). */
  now: () => number;
}

/**
 * Decides what each SIGINT/SIGTERM does; the script registers the returned function with
 * `process.once` (again after each call). The first signal cancels the run, which then undoes
 * what it created; a later one, {@link REPEATED_DELIVERY_MS} or more after the first, exits
 * at once with the exit code of that signal after listing what may be left behind.
 */
export function createInterruptHandler(
  deps: InterruptHandlerDeps,
): (signal: InterruptSignal) => void {
  let firstAtMs: number | undefined;
  return (signal) => {
    const now = deps.now();
    if (firstAtMs === undefined) {
      firstAtMs = now;
      deps.err(`${signal}: stopping and undoing what this run created (Ctrl-C again to quit now)`);
      deps.abort(new Interrupt(signal));
      return;
    }
    if (now - firstAtMs < REPEATED_DELIVERY_MS) return;
    for (const line of formatAbandoned(deps.pending())) deps.err(line);
    deps.exit(new Interrupt(signal).exitCode);
  };
}

/** What to say when quitting before the undo ended: everything that may be left behind. */
export function formatAbandoned(pending: readonly string[]): string[] {
  if (pending.length === 0)
    return ["Quitting now; nothing this run created is left on the gateway."];
  return [
    "Quitting before the undo finished. These may be left on the gateway; delete them by hand:",
    ...pending.map((item) => `  ${item}`),
  ];
}

/** Process-level collaborators of {@link runBootstrapCli}; tests replace them. */
export interface CliDeps {
  /**
   * Variables to read instead of the process's own. Omitted (the script), `loadConfig` reads
   * `process.env` and what SST links, so `npx sst shell -- npm run gateway:bootstrap` finds the
   * `GatewayAdminKey` secret without it ever being typed.
   */
  env?: Record<string, string | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
  /** The current time, epoch ms (`Date.now` in production). */
  now: () => number;
  sleep: Sleep;
  /** Default: the SST CLI for the given stage. */
  secrets?: (stage: string) => SecretStore;
  /** Overrides of the health wait besides the budget from `--health-timeout-ms`. */
  health?: Partial<Omit<HealthWaitOptions, "budgetMs">>;
  /** Interrupts the run; its reason, an {@link Interrupt}, picks the exit code (else 130). */
  signal?: AbortSignal;
  /** See `BootstrapDeps.onPending`: what {@link formatAbandoned} lists on a forced quit. */
  onPending?: (items: readonly string[]) => void;
}

/**
 * Runs the bootstrap from a command line. Resolves to the exit code: 0 success, 1 bootstrap
 * failure (after undo), 2 bad arguments or configuration, 130/143 interrupted through
 * `deps.signal` (after undo).
 */
export async function runBootstrapCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const parsed = parseBootstrapArgs(argv);
  if (parsed.kind === "help") {
    deps.out(USAGE);
    return 0;
  }
  if (parsed.kind === "invalid") {
    for (const problem of parsed.problems) deps.err(problem);
    deps.err(USAGE);
    return 2;
  }
  const { args } = parsed;
  const specs = modelSpecs(args.models, {
    apiBase: args.upstreamBaseUrl,
    apiKeyEnv: args.upstreamKeyEnv || undefined,
  });
  if (!specs.ok) {
    for (const problem of specs.problems) deps.err(`--models: ${problem}`);
    return 2;
  }
  let gateway: Config["gateway"];
  try {
    gateway = loadConfig({
      ...(deps.env ? { env: deps.env } : {}),
      required: ["GATEWAY_URL", "GATEWAY_ADMIN_KEY"],
    }).gateway;
  } catch (error) {
    if (error instanceof ConfigError) {
      deps.err(error.message);
      return 2;
    }
    throw error;
  }
  const admin = createGatewayAdmin({
    dialect: gateway.dialect,
    url: gateway.url ?? "",
    adminKey: gateway.adminKey ?? "",
  });
  const secrets = (deps.secrets ?? ((stage) => createSstSecretStore({ stage })))(args.stage);
  const result = await bootstrapGateway(
    {
      models: specs.specs,
      keyAlias: args.keyAlias ?? defaultKeyAlias(args.stage, deps.now()),
      health: { ...DEFAULT_HEALTH_WAIT, ...deps.health, budgetMs: args.healthTimeoutMs },
      signal: deps.signal,
    },
    {
      admin,
      secrets,
      now: deps.now,
      sleep: deps.sleep,
      progress: deps.err,
      onPending: deps.onPending,
    },
  );
  if (!result.ok) {
    for (const line of formatFailure(result.error)) deps.err(line);
    if (!result.error.interrupted) return 1;
    const reason: unknown = deps.signal?.reason;
    return reason instanceof Interrupt ? reason.exitCode : new Interrupt("SIGINT").exitCode;
  }
  if (deps.signal?.aborted) deps.err("Interrupted too late to cancel: the key was already stored.");
  for (const line of formatSummary(result.summary, args.stage)) deps.out(line);
  return 0;
}
