/**
 * The tools of a turn: the agent's own (`./own-tools`) and the broker's allowed abilities
 * (`./abilities`), with the approval policy applied. Built once per container by the
 * composition root.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { type AbilityCatalog, createAbilityCatalog } from "./abilities";
import { createApprovalPolicy } from "./approval-policy";
import { createOwnTools, type OwnToolDeps } from "./own-tools";
import type { AbilityBroker, AgentTool, Toolbox } from "./types";

/** What {@link createToolbox} needs (from `Config.agent` and `Config.kadi`). */
export interface ToolboxOptions {
  /** Stores of the agent's own tools. */
  own: OwnToolDeps;
  /** The broker session; absent (no `KADI_BROKER_URL`) means the agent's own tools only. */
  broker?: AbilityBroker | undefined;
  /** `KADI_NETWORKS`. */
  networks: string[];
  /** `KADI_TOOL_ALLOWLIST`: names or `*`-globs. */
  allowlist: readonly string[];
  /** `TOOL_APPROVAL_REQUIRED`: names or `*`-globs. */
  approvalRequired: readonly string[];
  /** Ability-list cache, ms (default `AGENT_LOOP.abilityCacheMs`, 60 s). */
  cacheMs?: number;
  /** Epoch ms. */
  now: () => number;
  logger: Logger;
}

/**
 * A {@link Toolbox}: `toolsFor` gives the agent's own tools, then the broker's allowed abilities
 * (an ability named like one of the own tools is left out, with a warning: the own tool wins),
 * without those that need approval when the turn cannot ask for it. Never rejects.
 */
export function createToolbox(options: ToolboxOptions): Toolbox {
  const own = createOwnTools(options.own);
  const ownNames = new Set(own.map((tool) => tool.name));
  const catalog: AbilityCatalog | undefined = options.broker
    ? createAbilityCatalog({
        broker: options.broker,
        networks: options.networks,
        allowlist: options.allowlist,
        approval: createApprovalPolicy(options.approvalRequired),
        ...(options.cacheMs === undefined ? {} : { cacheMs: options.cacheMs }),
        now: options.now,
        logger: options.logger,
      })
    : undefined;
  return {
    async toolsFor({ canAskApproval }) {
      const abilities = catalog ? await catalog.tools() : [];
      const offered: AgentTool[] = [...own];
      for (const tool of abilities) {
        if (ownNames.has(tool.name)) {
          options.logger.warn("KADI ability shadowed by an own tool of the same name", {
            tool: tool.name,
          });
          continue;
        }
        if (tool.needsApproval && !canAskApproval) continue;
        offered.push(tool);
      }
      return offered;
    },
  };
}
