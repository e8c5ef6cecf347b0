import { join } from "node:path";
import type { Message } from "@aws-sdk/client-sqs";
import { serve } from "@hono/node-server";
import { chatJobSchema } from "../core/chat/job";
import { buildArchiverDeps } from "../core/compose/archiver";
import { createAwsClients } from "../core/compose/aws";
import { buildHealthCheckDeps } from "../core/compose/health-check";
import { buildIngressDeps } from "../core/compose/ingress";
import { buildLazyKadiInvoker, buildListenerDeps } from "../core/compose/kadi";
import { buildLongTermMemory } from "../core/compose/memory";
import { buildReplyRouter } from "../core/compose/repliers";
import { buildWorkerDeps } from "../core/compose/worker";
import type { Config } from "../core/config";
import { MAX_RECEIVE_COUNT, QUEUE_BATCH_SIZE } from "../core/constants/queues";
import {
  ARCHIVE_VISIBILITY_TIMEOUT_MS,
  ARCHIVER_TIMEOUT_MS,
  CHAT_WORKER_TIMEOUT_MS,
} from "../core/constants/timings";
import { runHealthCheck } from "../core/health-check/check";
import { type HealthRecord, HealthRecordStore } from "../core/health-check/records";
import { startHealthCheckSchedule } from "../core/health-check/schedule";
import { startListenerLoop } from "../core/kadi/session";
import { DynamoBreakerStore } from "../core/llm/breaker-store";
import { createLogger, type Logger } from "../core/logger";
import { ensureTable } from "../core/memory/table/table";
import { SqsChatQueue } from "../core/queue/chat-queue";
import { createArchiverHandler } from "../functions/archiver";
import { createChatWorkerHandler } from "../functions/chat-worker";
import { createApp } from "../functions/http";
import { createLocalConsole } from "./console";
import type { ConsoleAddress } from "./console/address";
import { startConversationPoller } from "./conversation-poller";
import { loadOrCreateAgentKey } from "./kadi-key";
import {
  ChatOutbox,
  conversationKey,
  OutboxChatSink,
  redeliverOutbox,
  removingFromOutbox,
} from "./outbox";
import { startQueuePoller } from "./poller";
import {
  assertPortFree,
  ensureQueueWithDlq,
  LOCAL_CREDENTIALS,
  PortInUseError,
  type RunningService,
  startDynamoDbLocal,
  startSqsEmulator,
} from "./services";

/** Name of the local chat queue (its DLQ is `chat-dlq`). */
export const LOCAL_CHAT_QUEUE = "chat";

/** Name of the local archive queue (its DLQ is `archive-dlq`). */
export const LOCAL_ARCHIVE_QUEUE = "archive";

/** A running local stack. */
export interface LocalStack {
  /** `http://127.0.0.1:{port}` of the HTTP ingress. */
  url: string;
  config: Config;
  /**
   * Runs the health check now (after one in flight) and resolves with its records; the stack
   * also runs it at start and every `HEALTH_CHECK_INTERVAL_MS`.
   */
  runHealthCheckNow(): Promise<HealthRecord[]>;
  /** The local console's page URL and per-start token (docs/architecture.md, "Local console"). */
  console: ConsoleAddress;
  /**
   * Stops the HTTP server, the queue pollers (letting the jobs they run finish) and any emulator
   * this stack started, and resolves with what it drained.
   */
  stop(): Promise<LocalStackStopped>;
}

/** What {@link LocalStack.stop} drained, for its "local stack stopped" log line. */
export interface LocalStackStopped {
  /** Chat jobs running at the stop that were let finish. */
  chatJobsFinished: number;
  /** Chat jobs received but not started: back on the queue, and in the outbox for the next start. */
  chatJobsLeftQueued: number;
  /** Archive jobs of the batch in hand at the stop that were let finish. */
  archiveJobsFinished: number;
  /** The emulators this stack started and stopped, in stop order. */
  emulatorsStopped: string[];
}

/**
 * Starts the embedded stack: DynamoDB Local (data under `{DATA_DIR}/dynamodb`) and the fauxqs
 * SQS emulator unless `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_SQS` point elsewhere; the
 * table, the chat and archive queues with their DLQs (unless `CHAT_QUEUE_URL` /
 * `ARCHIVE_QUEUE_URL` name others); the Hono app on `PORT`; and pollers feeding the chat and
 * archive queues to the same Lambda handlers; the health check runs once before it returns
 * and then every `HEALTH_CHECK_INTERVAL_MS` (metrics off: nothing reads EMF locally). The HTTP
 * server starts before that first check, so `/health` answering means events can be taken. With
 * `KADI_BROKER_URL` set, the KĀDI listener runs continuously (mention channels and the agent's
 * tools) with the key from `KADI_PRIVATE_KEY`, else one generated and kept in
 * `{DATA_DIR}/kadi-agent.pem` (its public key is logged); the worker replies through the broker.
 *
 * Nothing acked is lost with the process: every chat job is also written to the outbox in
 * DynamoDB, and at start, before taking events, the jobs left there are re-enqueued (see
 * `redeliverOutbox`). Up to `LOCAL_CHAT_CONCURRENCY` chat jobs run at once, one conversation's
 * in the order received (see `startConversationPoller`).
 *
 * @param options.inMemory - keep DynamoDB Local in memory instead of `DATA_DIR` (tests).
 * @throws {PortInUseError} when `PORT` is taken, checked before anything starts.
 * @throws {ServiceStartError} when an emulator cannot start; whatever started is stopped.
 */
export async function startLocalStack(
  baseConfig: Config,
  options: { inMemory?: boolean; logger?: Logger } = {},
): Promise<LocalStack> {
  const logger = options.logger ?? createLogger("local-stack", baseConfig.logLevel);
  const started: RunningService[] = [];
  const stopStarted = () => Promise.allSettled(started.reverse().map((s) => s.stop()));
  try {
    // Before the emulators and pollers: their errors would hide the cause once they are torn down.
    await assertPortFree(baseConfig.port);
    let { dynamodbEndpoint, sqsEndpoint } = baseConfig.aws;
    if (!dynamodbEndpoint) {
      const dataDir = options.inMemory ? undefined : join(baseConfig.dataDir, "dynamodb");
      const dynamo = await startDynamoDbLocal(dataDir ? { dataDir } : {});
      started.push(dynamo);
      dynamodbEndpoint = dynamo.endpoint;
      logger.info("DynamoDB Local started", {
        endpoint: dynamodbEndpoint,
        dataDir: dataDir ?? "memory",
      });
    }
    if (!sqsEndpoint) {
      const sqsEmulator = await startSqsEmulator();
      started.push(sqsEmulator);
      sqsEndpoint = sqsEmulator.endpoint;
      logger.info("SQS emulator (fauxqs) started", { endpoint: sqsEndpoint });
    }
    let config: Config = {
      ...baseConfig,
      aws: { ...baseConfig.aws, dynamodbEndpoint, sqsEndpoint },
    };
    const aws = createAwsClients(config, LOCAL_CREDENTIALS);
    await ensureTable(aws.dynamodb, config.memoryTableName);
    if (!config.chatQueueUrl) {
      const { queueUrl } = await ensureQueueWithDlq(aws.sqs, LOCAL_CHAT_QUEUE);
      config = { ...config, chatQueueUrl: queueUrl };
    }
    const chatQueueUrl = config.chatQueueUrl as string;
    if (!config.archiveQueueUrl) {
      const { queueUrl } = await ensureQueueWithDlq(aws.sqs, LOCAL_ARCHIVE_QUEUE, {
        visibilityTimeoutSeconds: ARCHIVE_VISIBILITY_TIMEOUT_MS / 1000,
        maxReceiveCount: MAX_RECEIVE_COUNT,
      });
      config = { ...config, archiveQueueUrl: queueUrl };
    }
    const archiveQueueUrl = config.archiveQueueUrl as string;
    if (config.kadi.brokerUrl) {
      const key = await loadOrCreateAgentKey(config.dataDir, config.kadi.privateKeyPem);
      config = { ...config, kadi: { ...config.kadi, privateKeyPem: key.privateKeyPem } };
      // The broker's operator needs the public key to let this agent in.
      logger.info(
        key.source === "generated" ? "KĀDI agent key generated" : "KĀDI agent key loaded",
        { publicKey: key.publicKeyBase64, source: key.source, path: key.path },
      );
    }
    const kadiInvoker = buildLazyKadiInvoker(config, logger);

    // One breaker and health view for the worker, the health check and /health?deep=1, so a
    // check's verdict routes the very next turn instead of after the stores' read caches expire.
    const table = { client: aws.documents, tableName: config.memoryTableName };
    const breakerStore = new DynamoBreakerStore(table);
    const healthRecords = new HealthRecordStore(table);
    // One long-term memory (and so one per-user index cache) for the worker and the listener.
    const memory = buildLongTermMemory(config, aws);
    // The console's `web` platform: its replies go to the console's event hub.
    const webConsole = createLocalConsole();
    const workerLogger = createLogger("chat-worker", config.logLevel);
    const replier = buildReplyRouter(config, aws, workerLogger, kadiInvoker);
    const worker = buildWorkerDeps(config, aws, {
      logger: workerLogger,
      replier: webConsole.withWebReplies(replier),
      memory,
      metrics: null,
      breakerStore,
      healthSource: healthRecords,
      ...(kadiInvoker ? { kadiInvoker } : {}),
    });
    const chatQueue = new SqsChatQueue(aws.sqs, chatQueueUrl);
    const outbox = new ChatOutbox(table);
    // Before anything can enqueue: whatever is in the outbox now was acked by an earlier process.
    const redelivered = await redeliverOutbox({
      outbox,
      queue: chatQueue,
      replyState: worker.replyState,
      logger,
    });
    if (redelivered.redelivered + redelivered.dropped > 0) {
      logger.info("outbox re-enqueued unanswered jobs", { ...redelivered });
    }
    const chatSink = new OutboxChatSink(outbox, chatQueue, logger);
    const poller = startConversationPoller({
      sqs: aws.sqs,
      queueUrl: chatQueueUrl,
      handler: createChatWorkerHandler({
        ...worker,
        // The queue record handler runs `runJob` (the turn behind the allowlists).
        runJob: removingFromOutbox(outbox, webConsole.reporting(worker.runJob)),
      }),
      logger,
      functionName: "chat-worker",
      concurrency: config.localChatConcurrency,
      orderKey: chatOrderKey,
      timeoutMs: CHAT_WORKER_TIMEOUT_MS,
    });
    const archivePoller = startQueuePoller({
      sqs: aws.sqs,
      queueUrl: archiveQueueUrl,
      handler: createArchiverHandler(buildArchiverDeps(config, aws, { metrics: null })),
      logger,
      functionName: "archiver",
      batchSize: QUEUE_BATCH_SIZE,
      timeoutMs: ARCHIVER_TIMEOUT_MS,
    });

    // The listener holds one broker session for the life of the stack; the client repairs
    // dropped connections and the loop opens a new session if one ends on its own.
    const listener = config.kadi.brokerUrl
      ? startListenerLoop(
          buildListenerDeps(config, aws, {
            runTurn: worker.runTurn,
            queue: chatSink,
            logger,
            memory,
          }),
        )
      : undefined;

    const ingress = buildIngressDeps(config, aws, { healthRecords, queue: chatSink });
    const app = createApp(ingress);
    webConsole.mount(app, { config, aws, memory, breakerStore, ingress });
    const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: config.port, hostname: "127.0.0.1" }, () =>
        resolve(s),
      );
      s.once("error", (error: NodeJS.ErrnoException) =>
        reject(
          error.code === "EADDRINUSE" ? new PortInUseError(config.port, { cause: error }) : error,
        ),
      );
    });
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    const url = `http://127.0.0.1:${port}`;
    config = { ...config, port };

    const report = ingress.health();
    for (const [name, status] of Object.entries({ ...report.providers, ...report.platforms })) {
      if (!status.configured) logger.warn(`${name} is not configured`, { reason: status.reason });
    }
    const healthCheck = buildHealthCheckDeps(config, aws, {
      breakerStore,
      records: healthRecords,
      metrics: null,
      logger,
    });
    const onHealthCheckError = (error: unknown) =>
      logger.error("health check could not store its results", { error });
    const healthChecks = startHealthCheckSchedule(() => runHealthCheck(healthCheck), {
      intervalMs: config.healthCheckIntervalMs,
      onError: onHealthCheckError,
    });
    await healthChecks.runNow().catch(onHealthCheckError);
    logger.info("local stack ready", {
      url,
      health: `${url}/health`,
      slackEvents: `${url}/slack/events`,
      slackInteractions: `${url}/slack/interactions`,
      discordInteractions: `${url}/discord/interactions`,
      kadiEvents: `${url}/kadi/events`,
      deepHealth: `${url}/health?deep=1`,
    });

    return {
      url,
      config,
      runHealthCheckNow: () => healthChecks.runNow(),
      console: webConsole.address(url),
      async stop() {
        await healthChecks.stop();
        await webConsole.close();
        await listener?.stop();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        const chat = await poller.stop();
        const archive = await archivePoller.stop();
        await kadiInvoker?.close();
        aws.sqs.destroy();
        aws.dynamodb.destroy();
        const emulatorsStopped = started.map((s) => s.name ?? s.endpoint).reverse();
        await stopStarted();
        return {
          chatJobsFinished: chat.finished,
          chatJobsLeftQueued: chat.leftQueued,
          archiveJobsFinished: archive.finished,
          emulatorsStopped,
        };
      },
    };
  } catch (error) {
    await stopStarted();
    throw error;
  }
}

/**
 * The ordering lane of a chat-queue message: its job's conversation, so one person's messages
 * in one channel are answered one after another; a body that is not a chat job gets a lane of
 * its own (the worker rejects it).
 */
function chatOrderKey(message: Message): string {
  try {
    const job = chatJobSchema
      .pick({ conversation: true })
      .safeParse(JSON.parse(message.Body ?? ""));
    if (job.success) return conversationKey(job.data);
  } catch {
    // not JSON: falls through to a lane of its own
  }
  return `message:${message.MessageId ?? ""}`;
}
