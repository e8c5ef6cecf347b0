/** Small helpers the local-stack benchmarks share. */
import { randomUUID } from "node:crypto";
import { createAwsClients } from "../core/compose/aws";
import { loadConfig } from "../core/config";
import {
  ensureQueueWithDlq,
  LOCAL_CREDENTIALS,
  type RunningService,
  startDynamoDbLocal,
  startSqsEmulator,
} from "../local/services";
import { type LocalStack, startLocalStack } from "../local/stack";

/**
 * Polls `read` every 2 ms until it yields something other than `undefined`.
 * @throws Error `timed out waiting for {what}` after `timeoutMs`.
 */
export async function until<T>(
  read: () => T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The `p` quantile (0–1, nearest rank) of `samples`; `NaN` for none. */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN
  );
}

/** The median (upper middle for an even count) of `samples`; `NaN` for none. */
export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** A local stack on emulators of its own, for a benchmark; see {@link startBenchStack}. */
export interface BenchStack {
  stack: LocalStack;
  /** Stops the stack, then the emulators. */
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local and the SQS emulator, a chat queue and table named `{name}-{uuid}`, and
 * the local stack on them (ingress on a free port, logs silent) with `env` on top: the fakes'
 * URLs and keys. Whatever started is stopped when a later step throws.
 * @throws {ServiceStartError} when an emulator cannot start; the stack's own errors as they are.
 */
export async function startBenchStack(
  name: string,
  env: Record<string, string>,
): Promise<BenchStack> {
  const started: RunningService[] = [];
  const stopStarted = () => Promise.all(started.reverse().map((s) => s.stop()));
  try {
    const dynamo = await startDynamoDbLocal();
    started.push(dynamo);
    const sqs = await startSqsEmulator();
    started.push(sqs);
    const config = loadConfig({
      env: {
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        AWS_ENDPOINT_URL_SQS: sqs.endpoint,
        MEMORY_TABLE_NAME: `${name}-${randomUUID()}`,
        PORT: "0",
        LOG_LEVEL: "SILENT",
        ...env,
      },
    });
    const aws = createAwsClients(config, LOCAL_CREDENTIALS);
    const { queueUrl } = await ensureQueueWithDlq(aws.sqs, `${name}-${randomUUID()}`).finally(
      () => {
        aws.sqs.destroy();
        aws.dynamodb.destroy();
      },
    );
    const stack = await startLocalStack({ ...config, chatQueueUrl: queueUrl });
    return {
      stack,
      async stop() {
        await stack.stop();
        await stopStarted();
      },
    };
  } catch (error) {
    await stopStarted();
    throw error;
  }
}
