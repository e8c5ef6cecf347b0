/**
 * The broker's abilities as agent tools (docs/architecture.md, "KĀDI wire protocol"): listed
 * with `kadi.ability.list`, cached per container, filtered by `KADI_TOOL_ALLOWLIST`, and each
 * called with `kadi.ability.request` through the {@link AbilityBroker}. KĀDI errors are told
 * apart by their `kind` field alone (this folder does not import `core/kadi/`).
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { TOOL_NAME_PATTERN } from "../constants/agent";
import { AGENT_LOOP } from "../constants/timings";
import type { ApprovalPolicy } from "./approval-policy";
import { compileNameGlobs } from "./name-globs";
import { redactText } from "./redact";
import {
  type AbilityBroker,
  type AgentTool,
  type BrokerAbility,
  ToolError,
  type ToolErrorKind,
} from "./types";

/** What {@link createAbilityCatalog} needs. */
export interface AbilityCatalogOptions {
  broker: AbilityBroker;
  /** `KADI_NETWORKS`: the networks listed. */
  networks: string[];
  /** `KADI_TOOL_ALLOWLIST`: names or `*`-globs of the abilities offered. */
  allowlist: readonly string[];
  /** Sets `needsApproval` of each tool (`createApprovalPolicy(TOOL_APPROVAL_REQUIRED)`). */
  approval: ApprovalPolicy;
  /** How long a listing is reused, ms (default `AGENT_LOOP.abilityCacheMs`, 60 s). */
  cacheMs?: number;
  /** How long a failed listing is not retried, ms (default `AGENT_LOOP.abilityRetryMs`). */
  retryMs?: number;
  /** How long `tools()` waits for a listing, ms (default `AGENT_LOOP.abilityListWaitMs`). */
  waitMs?: number;
  /** Epoch ms. */
  now: () => number;
  logger: Logger;
}

/** The broker's allowed abilities, as tools; see {@link createAbilityCatalog}. */
export interface AbilityCatalog {
  /** The allowed abilities as tools (`source: "kadi"`); never rejects (none when unlisted). */
  tools(): Promise<AgentTool[]>;
}

/** Short names for progress lines ("Running cloud upload…") of the default file abilities. */
const LABELS: Readonly<Record<string, string>> = {
  local_remote_create_temporary_url: "download link",
  create_temporary_url: "download link",
  revoke_temporary_url: "link revocation",
  local_remote_create_tunnel: "file server start",
  create_tunnel: "file server start",
  local_remote_destroy_tunnel: "file server stop",
  destroy_tunnel: "file server stop",
  cloud_upload_file: "cloud upload",
  cloud_download_file: "cloud download",
  cloud_list_files: "cloud listing",
  start_registry: "registry start",
  add_container: "container share",
  get_registry_urls: "registry links",
  stop_registry: "registry stop",
  send_file_to_remote_server: "SSH upload",
  download_file_from_remote: "SSH download",
  execute_remote_command: "SSH command",
};

/** Longest ability description passed to the model, in characters. */
const DESCRIPTION_MAX_CHARS = 1_000;
/** Longest error message of a failed ability passed to the model, in characters. */
const ERROR_MAX_CHARS = 500;

/**
 * A per-container catalog of the broker's abilities: `broker.listAbilities(networks, true)` at
 * most once per `cacheMs` (concurrent turns share one listing), the answer filtered by the
 * allowlist and by the tool-name rule of both model APIs (`^[a-zA-Z0-9_-]{1,64}$`; others are
 * skipped with a warning), each ability wrapped as an {@link AgentTool}:
 * - `inputSchema` is the advertised one when it is an object schema, else an open object;
 * - `run` sends `kadi.ability.request` with the time left until `ctx.deadlineMs` as `timeout`;
 *   a KĀDI error becomes a {@link ToolError} by its `kind` (`timeout` → `timeout`; `network`,
 *   `closed`, `auth` → `unavailable`; `tool_error`, `protocol` → `failed`), and so does an answer
 *   `{success: false, error|message}` (the way the template's abilities report a failure).
 *
 * A listing that fails or takes longer than `waitMs` gives no broker tools (and a warning); a
 * failure is retried after `retryMs`, a slow listing fills the cache when it arrives.
 */
export function createAbilityCatalog(options: AbilityCatalogOptions): AbilityCatalog {
  const cacheMs = options.cacheMs ?? AGENT_LOOP.abilityCacheMs;
  const retryMs = options.retryMs ?? AGENT_LOOP.abilityRetryMs;
  const waitMs = options.waitMs ?? AGENT_LOOP.abilityListWaitMs;
  const allowed = compileNameGlobs(options.allowlist);
  const { logger, now } = options;
  let cached: { tools: AgentTool[]; until: number } | undefined;
  let listing: Promise<AgentTool[]> | undefined;

  const list = async (): Promise<AgentTool[]> => {
    const started = now();
    try {
      const abilities = await options.broker.listAbilities(options.networks, true);
      const tools = toTools(abilities, allowed, options, logger);
      cached = { tools, until: now() + cacheMs };
      logger.info("KADI abilities listed", {
        listed: abilities.length,
        offered: tools.length,
        durationMs: now() - started,
      });
      return tools;
    } catch (error) {
      cached = { tools: [], until: now() + retryMs };
      logger.warn("KADI abilities could not be listed; offering the agent's own tools only", {
        kind: errorKind(error),
        durationMs: now() - started,
      });
      return [];
    } finally {
      listing = undefined;
    }
  };

  return {
    async tools() {
      if (cached && now() < cached.until) return cached.tools;
      listing ??= list();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), waitMs);
      });
      const tools = await Promise.race([listing, late]);
      clearTimeout(timer);
      if (tools !== undefined) return tools;
      logger.warn("KADI ability listing is slow; this turn offers the agent's own tools only", {
        waitMs,
      });
      return [];
    },
  };
}

function toTools(
  abilities: BrokerAbility[],
  allowed: (name: string) => boolean,
  options: AbilityCatalogOptions,
  logger: Logger,
): AgentTool[] {
  const tools: AgentTool[] = [];
  const seen = new Set<string>();
  let badNames = 0;
  for (const ability of abilities) {
    if (!TOOL_NAME_PATTERN.test(ability.name)) {
      badNames += 1;
      continue;
    }
    // Several agents may serve one ability: the broker routes a call to one of them.
    if (!allowed(ability.name) || seen.has(ability.name)) continue;
    seen.add(ability.name);
    tools.push(abilityTool(ability, options));
  }
  if (badNames > 0) {
    logger.warn("KADI abilities skipped: names the model APIs refuse", { skipped: badNames });
  }
  return tools;
}

function abilityTool(ability: BrokerAbility, options: AbilityCatalogOptions): AgentTool {
  const { name } = ability;
  return {
    name,
    description: (ability.description?.trim() || `KĀDI ability ${name}`).slice(
      0,
      DESCRIPTION_MAX_CHARS,
    ),
    inputSchema: objectSchema(ability.inputSchema),
    source: "kadi",
    needsApproval: options.approval({ name, source: "kadi" }),
    label: LABELS[name] ?? name.replace(/^local_remote_/, "").replaceAll("_", " "),
    run: async (input, ctx) => {
      const remaining = ctx.deadlineMs - options.now();
      if (remaining <= 0) throw new ToolError("timeout", `${name}: no time left to call it`);
      let result: unknown;
      try {
        result = await options.broker.invokeTool(undefined, name, input, remaining);
      } catch (error) {
        throw toolError(name, error);
      }
      if (reportsFailure(result)) {
        throw new ToolError("failed", `${name} failed: ${safeMessage(failureMessage(result))}`);
      }
      return result;
    },
  };
}

/** The advertised schema when it describes an object (both model APIs require one). */
function objectSchema(schema: Record<string, unknown> | undefined): Record<string, unknown> {
  if (schema?.type !== "object") return { type: "object", additionalProperties: true };
  const { $schema: _, ...rest } = schema;
  return rest;
}

/** A KĀDI error (recognised by its `kind`) as the model is told it. */
function toolError(name: string, error: unknown): ToolError {
  const kind = errorKind(error);
  const mapped: ToolErrorKind =
    kind === "timeout"
      ? "timeout"
      : kind === "tool_error" || kind === "protocol"
        ? "failed"
        : "unavailable";
  const detail =
    mapped === "timeout"
      ? "no answer before the deadline"
      : mapped === "unavailable"
        ? "the KĀDI broker could not be reached"
        : safeMessage(error instanceof Error ? error.message : "");
  return new ToolError(mapped, `${name} failed: ${detail}`, { cause: error });
}

function errorKind(error: unknown): string {
  const kind = (error as { kind?: unknown } | null)?.kind;
  return typeof kind === "string" ? kind : error instanceof Error ? error.name : typeof error;
}

function reportsFailure(result: unknown): result is Record<string, unknown> {
  return (
    typeof result === "object" &&
    result !== null &&
    (result as { success?: unknown }).success === false
  );
}

function failureMessage(result: Record<string, unknown>): string {
  const text = result.error ?? result.message;
  return typeof text === "string" ? text : "it reported a failure";
}

/** A tool's own error text, redacted and short, as the model may read it. */
function safeMessage(text: string): string {
  const trimmed = text.trim() || "it answered an error";
  return redactText(trimmed).slice(0, ERROR_MAX_CHARS);
}
