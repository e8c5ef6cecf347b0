import { describe, expect, it } from "vitest";
import { LLM_BUDGET_MS } from "../../core/compose/worker";
import { loadConfig } from "../../core/config";
import { SESSION_RESERVE_MS } from "../../functions/kadi-listener";
import {
  ARCHIVE_VISIBILITY_SECONDS,
  ARCHIVER_TIMEOUT_SECONDS,
  CHAT_VISIBILITY_SECONDS,
  CHAT_WORKER_TIMEOUT_SECONDS,
  HEALTH_CHECK,
  KADI_LISTENER,
  MAX_RECEIVE_COUNT,
} from "../../infra/timings";

/** Seconds of an EventBridge `rate(N minutes)` expression. */
function rateSeconds(expression: string): number {
  const match = /^rate\((\d+) minutes?\)$/.exec(expression);
  expect(match, expression).not.toBeNull();
  return Number(match?.[1]) * 60;
}

describe("infra timings", () => {
  it("gives each queue a visibility timeout of at least 6x its consumer's timeout", () => {
    expect(CHAT_VISIBILITY_SECONDS).toBeGreaterThanOrEqual(6 * CHAT_WORKER_TIMEOUT_SECONDS);
    expect(ARCHIVE_VISIBILITY_SECONDS).toBeGreaterThanOrEqual(6 * ARCHIVER_TIMEOUT_SECONDS);
    // SQS caps the visibility timeout at 12 hours.
    expect(Math.max(CHAT_VISIBILITY_SECONDS, ARCHIVE_VISIBILITY_SECONDS)).toBeLessThanOrEqual(
      12 * 3600,
    );
    expect(MAX_RECEIVE_COUNT).toBe(3);
  });

  it("leaves the chat worker time after its model budget to reply and store", () => {
    expect(CHAT_WORKER_TIMEOUT_SECONDS * 1000 - LLM_BUDGET_MS).toBeGreaterThanOrEqual(30_000);
  });

  it("runs the health check every 5 minutes, as the local stack's default interval", () => {
    expect(rateSeconds(HEALTH_CHECK.schedule)).toBe(HEALTH_CHECK.periodSeconds);
    expect(HEALTH_CHECK.periodSeconds).toBe(300);
    expect(loadConfig({ env: {} }).healthCheckIntervalMs).toBe(HEALTH_CHECK.periodSeconds * 1000);
  });

  it("matches the KĀDI listener's schedule period and default session length", () => {
    expect(rateSeconds(KADI_LISTENER.schedule)).toBe(KADI_LISTENER.periodSeconds);
    expect(loadConfig({ env: {} }).kadi.sessionMs).toBe(KADI_LISTENER.sessionMs);
  });

  it("overlaps consecutive KĀDI sessions and fits each session inside the Lambda timeout", () => {
    const overlapMs = KADI_LISTENER.sessionMs - KADI_LISTENER.periodSeconds * 1000;
    // EventBridge fires somewhere within the scheduled minute: up to 60 s late.
    expect(overlapMs).toBeGreaterThanOrEqual(60_000);
    expect(KADI_LISTENER.sessionMs + SESSION_RESERVE_MS).toBeLessThanOrEqual(
      KADI_LISTENER.timeoutSeconds * 1000,
    );
    expect(KADI_LISTENER.timeoutSeconds).toBeLessThanOrEqual(900);
  });
});
