import { loadConfig } from "../core/config";
import { NODEJS_BUNDLING } from "./bundling";

/**
 * Non-secret variables taken from the deploying shell (`process.env` when `sst deploy` runs)
 * and given to every function. Secrets, the table and the queues never travel this way: they
 * are linked (see `LINKED_RESOURCES` in `core/config.ts`).
 */
export const DEPLOY_VARIABLES = [
  "DEFAULT_MODEL",
  "SUMMARY_MODEL",
  "ANTHROPIC_BASE_URL",
  "MODEL_MANAGER_BASE_URL",
  "SLACK_BOT_USER_ID",
  "DISCORD_APPLICATION_ID",
  "DISCORD_BOT_USER_ID",
  "KADI_BROKER_URL",
  "KADI_NETWORKS",
  "KADI_AGENT_NAME",
  "KADI_TOOL_ALLOWLIST",
  "TOOL_APPROVAL_REQUIRED",
  "AGENT_MAX_ROUNDS",
  "AGENT_BUDGET_MS",
  "TOOL_RESULT_MAX_BYTES",
  "TOOL_APPROVAL_TTL_MS",
  "ARCADEDB_URL",
  "ARCADEDB_USERNAME",
  "MEMORY_RECALL_MAX_SUMMARIES",
  "MEMORY_RECALL_MAX_CHARS",
  "USER_DAILY_TOKEN_BUDGET",
  "REPLY_MODEL_FOOTER",
  "LLM_STREAM_IDLE_TIMEOUT_MS",
  "SLACK_SUGGESTED_PROMPTS",
  "GATEWAY_URL",
  "GATEWAY_DIALECT",
  "LOG_LEVEL",
] as const;

/**
 * The environment of every function: the {@link DEPLOY_VARIABLES} that are set (blank ones are
 * left out), validated with the same schema the functions use, so a malformed value fails the
 * deploy instead of the first cold start. When the DigitalOcean gateway is part of the stage
 * and `MODEL_MANAGER_BASE_URL`/`GATEWAY_URL` are not set, they point at it.
 *
 * @param env - the deploying shell's environment.
 * @param gatewayUrl - `https://host` of the gateway deployed with this stage, if any.
 * @throws {ConfigError} naming every malformed variable (values are never echoed).
 */
export function functionEnvironment(
  env: Record<string, string | undefined>,
  gatewayUrl?: $util.Output<string>,
): Record<string, $util.Input<string>> {
  const picked: Record<string, string> = {};
  for (const name of DEPLOY_VARIABLES) {
    const value = env[name]?.trim();
    if (value) picked[name] = value;
  }
  loadConfig({ env: picked, resources: {} });
  const environment: Record<string, $util.Input<string>> = { ...picked };
  if (gatewayUrl) {
    environment.MODEL_MANAGER_BASE_URL ??= $interpolate`${gatewayUrl}/v1`;
    environment.GATEWAY_URL ??= gatewayUrl;
  }
  return environment;
}

/**
 * Settings every function shares. Node.js 22: Node.js 20 left upstream support in April 2026,
 * and the code targets ES2022. arm64 (Graviton) costs about 20 % less per GB-second than x86
 * and every dependency is plain JavaScript. Bundling (AWS SDK bundled in, module-first
 * resolution, code splitting, minified): see {@link NODEJS_BUNDLING}.
 */
export const FUNCTION_DEFAULTS = {
  runtime: "nodejs22.x",
  architecture: "arm64",
  nodejs: NODEJS_BUNDLING,
} as const;
