import type { PausedLoop } from "../../core/agent/types";

/**
 * A paused agent loop as the turn stores it with a pending approval: the model called
 * `ssh_execute {host: "build", command: "uptime"}` in its first round and waits for Approve.
 * @param overrides - fields to replace (ids, model, time used).
 */
export function pausedLoop(overrides: Partial<PausedLoop> = {}): PausedLoop {
  return {
    model: "claude-sonnet-4-5",
    system: "be brief",
    messages: [{ role: "user", content: "run uptime on build" }],
    pending: { id: "call-1", name: "ssh_execute", input: { host: "build", command: "uptime" } },
    pendingLabel: "ssh execute",
    queued: [],
    rounds: 1,
    actions: [],
    elapsedMs: 900,
    tokens: { input: 10, output: 5 },
    ...overrides,
  };
}
