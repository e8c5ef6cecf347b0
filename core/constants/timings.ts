/**
 * Timeouts, budgets and schedules of the deployed functions and their queues, in ms: the one
 * declaration that `infra/` deploys (converting to the seconds AWS takes) and that `core/`,
 * `functions/` and `local/` read. Plain data, so `infra/` may import it; the relations between
 * these numbers are checked in `test/infra/timings.test.ts` (see docs/architecture.md, "Failure
 * behaviour").
 */

/**
 * Lambda timeout of the chat worker, ms: the agent loop's budget (`AGENT_LOOP.maxBudgetMs`,
 * model rounds and tool calls), then one more model call within {@link LLM_BUDGET_MS} when a
 * bound made the model answer without tools, then posting the reply and storing the turn for a
 * batch processed concurrently.
 */
export const CHAT_WORKER_TIMEOUT_MS = 150_000;

/**
 * How long a job's reply is remembered for redeliveries, ms: its reply idempotency record and
 * its reply ledger both live this long (SQS keeps a message up to 14 days, but redeliveries
 * come within the visibility timeout × maxReceiveCount).
 */
export const REPLY_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** Wall-time budget of the model call(s) of one chat turn, ms, retries and fallback included. */
export const LLM_BUDGET_MS = 45_000;

/**
 * `Retry-After` of the ingress's 503 when the dedupe store or the chat queue failed, ms (sent
 * in whole seconds). Slack retries on its own schedule (at once, after 1 and 5 minutes,
 * https://api.slack.com/apis/events-api#retries); a KĀDI broker or any other sender that
 * honours the header comes back after this.
 */
export const INGRESS_RETRY_AFTER_MS = 5_000;

/** Lambda timeout of the archiver, ms: one summary call plus indexing and deletes. The archive
 * lease and the archive queue's visibility timeout are derived from it. */
export const ARCHIVER_TIMEOUT_MS = 120_000;

/**
 * AWS asks for a source queue's visibility timeout of at least six times the consumer's
 * function timeout, so a message is not handed out again while a slow or throttled invocation
 * still holds it (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Visibility timeout of the chat queue, ms (15 minutes). */
export const CHAT_VISIBILITY_TIMEOUT_MS = CHAT_WORKER_TIMEOUT_MS * VISIBILITY_TIMEOUT_FACTOR;

/** Visibility timeout of the archive queue, ms (12 minutes). */
export const ARCHIVE_VISIBILITY_TIMEOUT_MS = ARCHIVER_TIMEOUT_MS * VISIBILITY_TIMEOUT_FACTOR;

/**
 * How long a DLQ keeps a message, ms: the SQS maximum, 14 days. A moved message keeps its
 * original enqueue time, so the DLQ's retention must exceed the source queue's (default 4 days)
 * to be useful
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html).
 */
export const DLQ_RETENTION_MS = 14 * 24 * 60 * 60 * 1000;

/**
 * The scheduled health check: every 5 minutes on AWS (`schedule`, an EventBridge rate
 * expression), and every `intervalMs` in the local stack, where it is the default of
 * `HEALTH_CHECK_INTERVAL_MS`. Every probe has its own short timeout; `timeoutMs` (the Lambda
 * timeout) only bounds a hung invocation.
 */
export const HEALTH_CHECK = {
  schedule: "rate(5 minutes)",
  intervalMs: 300_000,
  timeoutMs: 60_000,
} as const;

/**
 * The KĀDI listener holds a broker session per invocation and is started again before that
 * session ends, so the broker always has a subscriber:
 *
 * - a new invocation every 3 minutes (`schedule`, `periodMs`);
 * - each holds its session for `sessionMs` = 240 s (the default of `KADI_SESSION_MS`), so
 *   consecutive sessions overlap by 60 s. EventBridge fires within the scheduled minute, not on
 *   its 0th second, so a start can be up to ~60 s late and connecting takes a few seconds more:
 *   60 s of overlap covers a late start with no uncovered window in the usual case, and
 *   deliveries seen by both sessions are queued once (dedupe by event id);
 * - the Lambda timeout is 360 s = the 240 s session + the handler's 90 s `SESSION_RESERVE_MS`
 *   (`functions/kadi-listener.ts`: connect, finish tool calls in flight, close) + 30 s spare.
 *   The handler shortens a session that would not fit, so the timeout never cuts one mid-call.
 *
 * Cost: about 1.3 concurrent executions at all times (240 s of session per 180 s).
 */
export const KADI_LISTENER = {
  schedule: "rate(3 minutes)",
  periodMs: 180_000,
  sessionMs: 240_000,
  timeoutMs: 360_000,
} as const;

/**
 * Someone an allowlist leaves out (`ALLOWED_SLACK_TEAMS`, `ALLOWED_CHANNELS`, `ALLOWED_USERS`)
 * is told so at most once per this interval, ms (1 hour), per user and channel; the messages in
 * between get no answer (`core/chat/access-gate.ts`).
 */
export const ACCESS_REFUSAL_INTERVAL_MS = 60 * 60 * 1000;

/**
 * How long the agent counts as taking part in a Slack thread after its last answer there, ms
 * (30 days): within it a person's follow-up in the thread is answered without a new mention;
 * the thread's mark (written by the worker's `SlackReplier`) then expires by TTL
 * (`core/memory/threads.ts`).
 */
export const THREAD_PARTICIPATION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Bounds of the ingress's Web API calls on `assistant_thread_started` (set the thread's title
 * and suggested prompts), so the ack stays inside Slack's 3-s wait: each attempt is cut after
 * `timeoutMs`, and a failed attempt is retried at most `retries` times after
 * `retryDelayMs` (worst case 2 × 800 + 100 = 1700 ms; both calls run in parallel).
 */
export const SLACK_ASSISTANT_CALLS = {
  timeoutMs: 800,
  retries: 1,
  retryDelayMs: 100,
} as const;

/**
 * Pacing of streamed replies, ms. `idleTimeoutMs` is the default of
 * `LLM_STREAM_IDLE_TIMEOUT_MS`: the longest silence between two streamed model events before
 * the stream counts as failed. `editIntervalMs` is the least time between two edits of one
 * message (Discord allows 5 edits per 5 s per message; Slack's `chat.update` is Tier 3, about
 * 50 per minute). `appendIntervalMs` is the least time between two `chat.appendStream` calls:
 * an 8-s answer then costs start + at most 9 appends + stop (≤ 12 calls, the goal in
 * docs/benchmarks.md, "Replies").
 * `thinkingAfterMs`: with no token by then, a live reply shows that the agent is working.
 * `discordTokenMs` is how long an interaction token authorises follow-ups (15 minutes,
 * https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-callback);
 * `discordTokenMarginMs` is kept free at its end for the answer itself.
 */
export const STREAMING = {
  idleTimeoutMs: 20_000,
  editIntervalMs: 1_000,
  appendIntervalMs: 900,
  thinkingAfterMs: 700,
  discordTokenMs: 15 * 60 * 1000,
  discordTokenMarginMs: 60_000,
} as const;

/**
 * Timings of the agent loop, ms:
 * - `budgetMs`: default of `AGENT_BUDGET_MS`, the wall-clock budget of one turn's model rounds
 *   and tool calls together; `maxBudgetMs` is its ceiling, the chat worker's timeout less the
 *   last model call a bound asks for ({@link LLM_BUDGET_MS}) and the 45 s it needs to post the
 *   answer and store the turn (checked in `test/infra/timings.test.ts`).
 * - `approvalTtlMs`: default and ceiling of `TOOL_APPROVAL_TTL_MS`, how long a call waits for a
 *   person's Approve: its expiry is a delayed SQS message, and SQS delays at most 15 minutes
 *   (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-delay-queues.html).
 * - `abilityCacheMs`: how long one container reuses the broker's `kadi.ability.list` answer;
 *   `abilityRetryMs`: how long it goes without broker abilities after a listing failed, before
 *   it asks again (so a broker that is down costs one slow listing per 10 s, not one per turn);
 *   `abilityListWaitMs`: how long a turn waits for a listing before it starts with its own
 *   tools only (the listing goes on and fills the cache for the next turn).
 */
export const AGENT_LOOP = {
  budgetMs: 60_000,
  minBudgetMs: 5_000,
  maxBudgetMs: CHAT_WORKER_TIMEOUT_MS - LLM_BUDGET_MS - 45_000,
  approvalTtlMs: 900_000,
  minApprovalTtlMs: 1_000,
  abilityCacheMs: 60_000,
  abilityRetryMs: 10_000,
  abilityListWaitMs: 3_000,
} as const;

/**
 * How long a pending approval's item outlives its `expiresAt`, ms, before DynamoDB's TTL may
 * delete it: the delayed expiry job and a resumed run that is still finishing must find it.
 */
export const APPROVAL_RECORD_GRACE_MS = 24 * 60 * 60 * 1000;

/**
 * Longest delay SQS gives one message (`DelaySeconds`, 0–900 s;
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html).
 */
export const SQS_MAX_DELAY_SECONDS = 900;

/**
 * How long the ingress waits for Slack to take an ephemeral answer posted to a click's
 * `response_url`, ms: Slack wants the click acked within 3 s, and the decision was made first.
 */
export const SLACK_RESPONSE_URL_TIMEOUT_MS = 1_500;
