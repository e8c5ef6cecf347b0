import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  TransactionConflictException,
} from "@aws-sdk/client-dynamodb";
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  type PutCommand,
  type TransactWriteCommand,
  type UpdateCommand,
} from "@aws-sdk/lib-dynamodb";

/**
 * DynamoDB mechanics shared by the memory stores (conversations, archive ledger, summaries):
 * conditional writes, transaction retries, optimistic appends and batch deletes. The SDK retries
 * throttling and 5xx itself; these cover what it leaves to the caller.
 */

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A backoff delay, ms, for retry `attempt` (1 for the first retry): full jitter over
 * `min(capMs, baseMs × 2^(attempt-1))`, as AWS recommends
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
 */
export function jitteredDelayMs(attempt: number, baseMs: number, capMs = 1_000): number {
  return Math.random() * Math.min(capMs, baseMs * 2 ** (attempt - 1));
}

/**
 * DynamoDB's per-item cancellation codes (`ConditionalCheckFailed`, `TransactionConflict`,
 * `None`, …) of a cancelled TransactWriteItems, in the order of its items; `undefined` for any
 * other error (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
 */
export function cancellationCodes(error: unknown): string[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  return (error.CancellationReasons ?? []).map((r) => r.Code ?? "None");
}

/** Whether a transaction failed only because another request touched the same item at once. */
export function isTransactionConflict(error: unknown): boolean {
  if (error instanceof TransactionConflictException) return true;
  const codes = cancellationCodes(error) ?? [];
  return codes.includes("TransactionConflict") && !codes.includes("ConditionalCheckFailed");
}

/**
 * Sends a conditional Put or Update.
 * @returns `false` when its condition failed, `true` when it was written.
 * @throws the SDK's error for anything but the failed condition.
 */
export async function sendConditional(
  db: DynamoDBDocumentClient,
  command: UpdateCommand | PutCommand,
): Promise<boolean> {
  try {
    await db.send(command as UpdateCommand);
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Calls of {@link sendTransaction} before a `TransactionConflict` is rethrown. */
export const TRANSACTION_ATTEMPTS = 5;
/** First backoff window after a transaction conflict, ms (doubles per attempt, jittered). */
export const TRANSACTION_RETRY_BASE_MS = 20;

/**
 * Sends a transaction, retrying up to {@link TRANSACTION_ATTEMPTS} calls with jittered backoff
 * when DynamoDB cancels it only for a `TransactionConflict` (the SDK does not retry those).
 * @throws the SDK's error, including the last conflict and any failed condition.
 */
export async function sendTransaction(
  db: DynamoDBDocumentClient,
  command: TransactWriteCommand,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.send(command);
      return;
    } catch (error) {
      if (attempt >= TRANSACTION_ATTEMPTS || !isTransactionConflict(error)) throw error;
      await sleep(jitteredDelayMs(attempt, TRANSACTION_RETRY_BASE_MS));
    }
  }
}

/** What one attempt of {@link retryOptimistic} reports. */
export type OptimisticAttempt<T> = { done: true; value: T } | { done: false; cause: unknown };

/**
 * Runs an optimistic write (read a version, write conditional on it) until an attempt is done:
 * `attempt(n)` (n from 1) re-reads what it needs and returns `{done: false, cause}` when it lost
 * the race; between attempts a jittered backoff over `baseMs` waits.
 * @throws the error `exhausted(lastCause)` builds after `attempts` lost races; whatever
 *   `attempt` throws.
 */
export async function retryOptimistic<T>(
  options: { attempts: number; baseMs: number; capMs?: number },
  attempt: (n: number) => Promise<OptimisticAttempt<T>>,
  exhausted: (lastCause: unknown) => Error,
): Promise<T> {
  let lastCause: unknown;
  for (let n = 1; n <= options.attempts; n++) {
    if (n > 1) await sleep(jitteredDelayMs(n - 1, options.baseMs, options.capMs));
    const outcome = await attempt(n);
    if (outcome.done) return outcome.value;
    lastCause = outcome.cause;
  }
  throw exhausted(lastCause);
}

/** Largest number of requests in one BatchWriteItem call. */
export const BATCH_WRITE_MAX = 25;
/** Rounds of a batch call (the first send plus resubmissions of what came back unprocessed). */
export const BATCH_ROUNDS = 5;

/**
 * Sends one batch (BatchWriteItem or BatchGetItem) and resubmits what DynamoDB returns
 * unprocessed, with exponential backoff (100, 200, 400, 800 ms), for at most
 * {@link BATCH_ROUNDS} rounds, as AWS asks for both calls
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html,
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html).
 *
 * @param send - sends one round of requests (write requests or keys) and returns the
 *   unprocessed ones.
 * @returns what is still unprocessed after the last round (empty when everything went through).
 * @throws whatever `send` throws (the SDK's error).
 */
export async function resubmitUnprocessed<T>(
  requests: readonly T[],
  send: (requests: T[]) => Promise<T[]>,
): Promise<T[]> {
  let pending = [...requests];
  for (let round = 0; round < BATCH_ROUNDS && pending.length > 0; round++) {
    if (round > 0) await sleep(50 * 2 ** round);
    pending = await send(pending);
  }
  return pending;
}

/** Deletes stayed unprocessed after {@link BATCH_ROUNDS} rounds of BatchWriteItem. */
export class BatchDeleteError extends Error {
  override readonly name = "BatchDeleteError";
  constructor(readonly unprocessed: number) {
    super(`${unprocessed} deletes still unprocessed after ${BATCH_ROUNDS} rounds`);
  }
}

/**
 * Deletes `keys` with BatchWriteItem, {@link BATCH_WRITE_MAX} per call, resubmitting
 * `UnprocessedItems` through {@link resubmitUnprocessed}. Keys that do not exist are no-ops.
 * @throws {BatchDeleteError} when deletes stay unprocessed; the SDK's error.
 */
export async function batchDelete(
  db: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly { pk: string; sk: string }[],
): Promise<void> {
  for (let i = 0; i < keys.length; i += BATCH_WRITE_MAX) {
    const requests: Record<string, unknown>[] = keys
      .slice(i, i + BATCH_WRITE_MAX)
      .map((Key) => ({ DeleteRequest: { Key } }));
    const left = await resubmitUnprocessed(requests, async (round) => {
      const out = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: round } }));
      return (out.UnprocessedItems?.[tableName] ?? []) as Record<string, unknown>[];
    });
    if (left.length > 0) throw new BatchDeleteError(left.length);
  }
}
