/**
 * Timings of the scheduled functions, kept apart from `crons.ts` so tests can import them
 * without SST's globals (test/infra/schedules.test.ts checks them against the handlers).
 */

/** The health check runs every 5 minutes (issue 5); `HEALTH_CHECK_INTERVAL_MS` mirrors it in
 * the local stack. */
export const HEALTH_CHECK = {
  schedule: "rate(5 minutes)",
  periodSeconds: 300,
  /** Every probe has its own short timeout; this only bounds a hung invocation. */
  timeoutSeconds: 60,
} as const;

/**
 * The KĀDI listener holds a broker session per invocation and is started again before that
 * session ends, so the broker always has a subscriber:
 *
 * - a new invocation every 3 minutes (`LISTENER_SCHEDULE` in `functions/kadi-listener.ts`);
 * - each holds its session for `KADI_SESSION_MS` = 240 s, so consecutive sessions overlap by
 *   60 s. EventBridge fires within the scheduled minute, not on its 0th second, so a start
 *   can be up to ~60 s late and connecting takes a few seconds more: 60 s of overlap covers a
 *   late start with no uncovered window in the usual case, and deliveries seen by both sessions
 *   are queued once (dedupe by event id);
 * - the Lambda timeout is 360 s = the 240 s session + the handler's 90 s `SESSION_RESERVE_MS`
 *   (connect, finish tool calls in flight, close) + 30 s spare. The handler shortens a session
 *   that would not fit, so the timeout never cuts one mid-call.
 *
 * Cost: about 1.3 concurrent executions at all times (240 s of session per 180 s).
 */
export const KADI_LISTENER = {
  schedule: "rate(3 minutes)",
  periodSeconds: 180,
  sessionMs: 240_000,
  timeoutSeconds: 360,
} as const;
