/**
 * Which tool calls wait for the person's Approve (`TOOL_APPROVAL_REQUIRED`; defaults and their
 * reasons: `DEFAULT_APPROVAL_REQUIRED` in `core/constants/agent.ts`). Pure.
 */
import { compileNameGlobs } from "./name-globs";
import type { ToolSource } from "./types";

/** Decides `AgentTool.needsApproval` for one tool. */
export type ApprovalPolicy = (tool: { name: string; source: ToolSource }) => boolean;

/**
 * The policy of `patterns` (exact names or `*`-globs, see `./name-globs`). The agent's own
 * memory tools never need approval: they act on the asking person's own memory or on the
 * shared knowledge base, and can be undone by another call; only broker abilities are matched.
 */
export function createApprovalPolicy(patterns: readonly string[]): ApprovalPolicy {
  const matches = compileNameGlobs(patterns);
  return ({ name, source }) => source === "kadi" && matches(name);
}
