import { join } from "node:path";
import { serve } from "@hono/node-server";
import { createAwsClients } from "../core/compose/aws";
import { buildIngressDeps } from "../core/compose/ingress";
import { buildWorkerDeps } from "../core/compose/worker";
import type { Config } from "../core/config";
import { createLogger, type Logger } from "../core/logger";
import { ensureTable } from "../core/memory/table";
import { createChatWorkerHandler } from "../functions/chat-worker";
import { createApp } from "../functions/http";
import { startQueuePoller } from "./poller";
import {
  ensureQueueWithDlq,
  LOCAL_CREDENTIALS,
  type RunningService,
  startDynamoDbLocal,
  startSqsEmulator,
} from "./services";

/** Name of the local chat queue (its DLQ is `chat-dlq`). */
export const LOCAL_CHAT_QUEUE = "chat";

/** A running local stack. */
export interface LocalStack {
  /** `http://127.0.0.1:{port}` of the HTTP ingress. */
  url: string;
  config: Config;
  /** Stops the HTTP server, the queue poller and any emulator this stack started. */
  stop(): Promise<void>;
}

/**
 * Starts the embedded stack: DynamoDB Local (data under `{DATA_DIR}/dynamodb`) and the fauxqs
 * SQS emulator unless `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_SQS` point elsewhere; the
 * table and the chat queue with its DLQ; the Hono app on `PORT`; and a poller feeding the chat
 * queue to the same Lambda handler. The HTTP server starts last, so `/health` answering means
 * events can be taken.
 *
 * @param options.inMemory - keep DynamoDB Local in memory instead of `DATA_DIR` (tests).
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

    const worker = buildWorkerDeps(config, aws);
    const poller = startQueuePoller({
      sqs: aws.sqs,
      queueUrl: chatQueueUrl,
      handler: createChatWorkerHandler(worker),
      logger,
      functionName: "chat-worker",
    });

    const ingress = buildIngressDeps(config, aws);
    const app = createApp(ingress);
    const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: config.port, hostname: "127.0.0.1" }, () =>
        resolve(s),
      );
      s.once("error", reject);
    });
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    const url = `http://127.0.0.1:${port}`;
    config = { ...config, port };

    const report = ingress.health();
    for (const [name, status] of Object.entries({ ...report.providers, ...report.platforms })) {
      if (!status.configured) logger.warn(`${name} is not configured`, { reason: status.reason });
    }
    logger.info("local stack ready", {
      url,
      health: `${url}/health`,
      slackEvents: `${url}/slack/events`,
    });

    return {
      url,
      config,
      async stop() {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await poller.stop();
        aws.sqs.destroy();
        aws.dynamodb.destroy();
        await stopStarted();
      },
    };
  } catch (error) {
    await stopStarted();
    throw error;
  }
}
