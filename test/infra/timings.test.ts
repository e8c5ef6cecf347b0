import { describe, expect, it } from "vitest";
import { loadConfig } from "../../core/config";
import { MAX_RECEIVE_COUNT, QUEUE_BATCH_SIZE } from "../../core/constants/queues";
import {
  AGENT_LOOP,
  ARCHIVE_VISIBILITY_TIMEOUT_MS,
  ARCHIVER_TIMEOUT_MS,
  CHAT_VISIBILITY_TIMEOUT_MS,
  CHAT_WORKER_TIMEOUT_MS,
  DLQ_RETENTION_MS,
  HEALTH_CHECK,
  KADI_LISTENER,
  LLM_BUDGET_MS,
  SLACK_ASSISTANT_CALLS,
} from "../../core/constants/timings";
import { SESSION_RESERVE_MS } from "../../functions/kadi-listener";

/** Seconds of an EventBridge `rate(N minutes)` expression. */
function rateSeconds(expression: string): number {
  const match = /^rate\((\d+) minutes?\)$/.exec(expression);
  expect(match, expression).not.toBeNull();
  return Number(match?.[1]) * 60;
}

/** AWS takes these in whole seconds (Lambda timeouts, SQS visibility and retention). */
function wholeSeconds(ms: number): number {
  expect(ms % 1000, `${ms} ms`).toBe(0);
  return ms / 1000;
}

describe("infra timings (core/constants)", () => {
  it("gives each queue a visibility timeout of at least 6x its consumer's timeout", () => {
    const chatVisibility = wholeSeconds(CHAT_VISIBILITY_TIMEOUT_MS);
    const archiveVisibility = wholeSeconds(ARCHIVE_VISIBILITY_TIMEOUT_MS);
    expect(chatVisibility).toBeGreaterThanOrEqual(6 * wholeSeconds(CHAT_WORKER_TIMEOUT_MS));
    expect(archiveVisibility).toBeGreaterThanOrEqual(6 * wholeSeconds(ARCHIVER_TIMEOUT_MS));
    // SQS caps the visibility timeout at 12 hours.
    expect(Math.max(chatVisibility, archiveVisibility)).toBeLessThanOrEqual(12 * 3600);
    expect(MAX_RECEIVE_COUNT).toBe(3);
  });

  it("keeps DLQ messages for the SQS maximum and batches within the event source limit", () => {
    expect(wholeSeconds(DLQ_RETENTION_MS)).toBe(1_209_600);
    // SQS event sources take 1–10 records per batch without a batching window.
    expect(QUEUE_BATCH_SIZE).toBeGreaterThanOrEqual(1);
    expect(QUEUE_BATCH_SIZE).toBeLessThanOrEqual(10);
  });

  it("bounds the ingress's assistant-thread calls well inside Slack's 3-s ack", () => {
    const { timeoutMs, retries, retryDelayMs } = SLACK_ASSISTANT_CALLS;
    const worstCaseMs = (retries + 1) * timeoutMs + retries * retryDelayMs;
    // Leaves a second for a cold start, the dedupe claim and the answer itself.
    expect(worstCaseMs).toBeLessThanOrEqual(2_000);
    expect(retries).toBeLessThanOrEqual(1);
  });

  it("leaves the chat worker time after its model budget to reply and store", () => {
    expect(CHAT_WORKER_TIMEOUT_MS - LLM_BUDGET_MS).toBeGreaterThanOrEqual(30_000);
  });

  it("keeps the agent loop's budget inside the chat worker's timeout and approvals within an SQS delay", () => {
    expect(AGENT_LOOP.budgetMs).toBeLessThanOrEqual(AGENT_LOOP.maxBudgetMs);
    // After the budget: one more model call without tools, then posting and storing.
    expect(CHAT_WORKER_TIMEOUT_MS - AGENT_LOOP.maxBudgetMs - LLM_BUDGET_MS).toBeGreaterThanOrEqual(
      30_000,
    );
    // An approval's expiry is a delayed SQS message; SQS delays at most 900 s.
    expect(wholeSeconds(AGENT_LOOP.approvalTtlMs)).toBeLessThanOrEqual(900);
    expect(AGENT_LOOP.minApprovalTtlMs).toBeLessThanOrEqual(AGENT_LOOP.approvalTtlMs);
    const config = loadConfig({ env: {} });
    expect(config.agent.budgetMs).toBe(AGENT_LOOP.budgetMs);
  });

  it("runs the health check every 5 minutes, as the local stack's default interval", () => {
    expect(rateSeconds(HEALTH_CHECK.schedule) * 1000).toBe(HEALTH_CHECK.intervalMs);
    expect(HEALTH_CHECK.intervalMs).toBe(300_000);
    expect(loadConfig({ env: {} }).healthCheckIntervalMs).toBe(HEALTH_CHECK.intervalMs);
    expect(wholeSeconds(HEALTH_CHECK.timeoutMs)).toBeLessThanOrEqual(900);
  });

  it("matches the KĀDI listener's schedule period and default session length", () => {
    expect(rateSeconds(KADI_LISTENER.schedule) * 1000).toBe(KADI_LISTENER.periodMs);
    expect(loadConfig({ env: {} }).kadi.sessionMs).toBe(KADI_LISTENER.sessionMs);
  });

  it("overlaps consecutive KĀDI sessions and fits each session inside the Lambda timeout", () => {
    const overlapMs = KADI_LISTENER.sessionMs - KADI_LISTENER.periodMs;
    // EventBridge fires somewhere within the scheduled minute: up to 60 s late.
    expect(overlapMs).toBeGreaterThanOrEqual(60_000);
    expect(KADI_LISTENER.sessionMs + SESSION_RESERVE_MS).toBeLessThanOrEqual(
      KADI_LISTENER.timeoutMs,
    );
    expect(wholeSeconds(KADI_LISTENER.timeoutMs)).toBeLessThanOrEqual(900);
  });
});
