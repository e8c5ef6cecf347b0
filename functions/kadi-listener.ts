import type { Context, ScheduledEvent } from "aws-lambda";
import { createAwsClients } from "../core/compose/aws";
import { buildListenerDeps } from "../core/compose/kadi";
import { buildWorkerDeps } from "../core/compose/worker";
import { type Config, ConfigError, loadConfig } from "../core/config";
import {
  type ListenerSessionDeps,
  type ListenerStats,
  runListenerSession,
} from "../core/kadi/session";
import { createLogger, type Logger } from "../core/logger";
import { SqsChatQueue } from "../core/queue/chat-queue";

/**
 * Time kept back from the Lambda deadline, ms: up to 30 s to connect (three 10 s requests:
 * hello, authenticate, register), up to 50 s to finish `chat` tool calls in flight, the close
 * handshake, and a margin. A `KADI_SESSION_MS` longer than the remaining time minus this is cut.
 */
export const SESSION_RESERVE_MS = 90_000;

/**
 * Builds the scheduled handler: holds one broker session for
 * `min(sessionMs, remaining Lambda time − SESSION_RESERVE_MS)`, then closes it cleanly.
 *
 * @returns the session's counts (logged by Lambda as the invocation result).
 * @throws KadiError when the session cannot be opened, so the invocation fails visibly and
 *   Lambda retries it.
 */
export function createKadiListenerHandler(deps: {
  listener: ListenerSessionDeps;
  sessionMs: number;
  logger: Logger;
}): (event: ScheduledEvent, context: Context) => Promise<ListenerStats | { skipped: true }> {
  return async (_event, context) => {
    const durationMs = Math.min(
      deps.sessionMs,
      context.getRemainingTimeInMillis() - SESSION_RESERVE_MS,
    );
    if (durationMs <= 0) {
      deps.logger.error("kadi listener skipped: the Lambda timeout leaves no time for a session", {
        remainingMs: context.getRemainingTimeInMillis(),
        reserveMs: SESSION_RESERVE_MS,
      });
      return { skipped: true };
    }
    return runListenerSession(deps.listener, { durationMs });
  };
}

/**
 * The listener's composition: the chat worker's turn (for the `chat` tool), the memory stores,
 * the chat queue and the broker client options.
 *
 * @throws {ConfigError} when `KADI_BROKER_URL`, `KADI_PRIVATE_KEY` or `CHAT_QUEUE_URL` is missing.
 */
export function buildKadiListener(config: Config, logger: Logger) {
  if (!config.chatQueueUrl) throw new ConfigError(["CHAT_QUEUE_URL: is required"]);
  const chatQueueUrl = config.chatQueueUrl;
  const aws = createAwsClients(config);
  const worker = buildWorkerDeps(config, aws, { logger });
  const listener = buildListenerDeps(config, aws, {
    runTurn: worker.runTurn,
    queue: new SqsChatQueue(aws.sqs, chatQueueUrl),
    logger,
  });
  return createKadiListenerHandler({ listener, sessionMs: config.kadi.sessionMs, logger });
}

let lambdaHandler: ReturnType<typeof createKadiListenerHandler> | undefined;

/**
 * Lambda entry point, invoked by the listener cron (`KADI_LISTENER` in `core/constants/timings.ts`:
 * every 3 minutes, 360 s timeout, 240 s sessions that overlap by about 60 s, so the broker
 * always has a subscriber; deliveries seen by both sessions are queued once); dependencies
 * built once per container.
 */
export function handler(event: ScheduledEvent, context: Context) {
  if (!lambdaHandler) {
    const config = loadConfig({
      required: ["KADI_BROKER_URL", "KADI_PRIVATE_KEY", "CHAT_QUEUE_URL"],
    });
    lambdaHandler = buildKadiListener(config, createLogger("kadi-listener", config.logLevel));
  }
  return lambdaHandler(event, context);
}
