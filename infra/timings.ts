/**
 * Timeouts and schedules of the functions, kept apart from the files that use them so tests
 * can import them without SST's globals (test/infra/timings.test.ts checks them against the
 * handlers and against each other).
 */

/** Lambda timeout of the chat worker, seconds: the 45 s model budget (`LLM_BUDGET_MS`) plus
 * posting the reply and storing both turns for a batch processed concurrently. */
export const CHAT_WORKER_TIMEOUT_SECONDS = 90;

/** Lambda timeout of the archiver, seconds: one summary call plus indexing and deletes. */
export const ARCHIVER_TIMEOUT_SECONDS = 120;

/**
 * AWS asks for a source queue's visibility timeout of at least six times the consumer's
 * function timeout, so a message is not handed out again while a slow or throttled invocation
 * still holds it (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Visibility timeout of the chat queue, seconds (9 minutes). */
export const CHAT_VISIBILITY_SECONDS = CHAT_WORKER_TIMEOUT_SECONDS * VISIBILITY_TIMEOUT_FACTOR;

/** Visibility timeout of the archive queue, seconds (12 minutes). */
export const ARCHIVE_VISIBILITY_SECONDS = ARCHIVER_TIMEOUT_SECONDS * VISIBILITY_TIMEOUT_FACTOR;

/** Receives before a message moves to its DLQ (`maxReceiveCount`): a poison job is retried
 * twice, so it lands in the DLQ about three visibility timeouts after its first receive. */
export const MAX_RECEIVE_COUNT = 3;

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
 * - a new invocation every 3 minutes;
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
