/**
 * Redrive and batching of the chat and archive queues, shared by `infra/` (SQS and the Lambda
 * event sources) and the local stack. Plain data, so `infra/` may import it.
 */

/** Receives before a message moves to its DLQ (`maxReceiveCount`): a poison job is retried
 * twice, so it lands in the DLQ about three visibility timeouts after its first receive. */
export const MAX_RECEIVE_COUNT = 3;

/** Records per consumer invocation (SQS event source batch size). With partial batch responses
 * (`ReportBatchItemFailures`) only the records a handler lists in `batchItemFailures` are
 * redelivered, so a batch of 5 costs one cold start without making good jobs pay for a bad one. */
export const QUEUE_BATCH_SIZE = 5;

/**
 * Chat jobs the local stack's poller runs at once (`LOCAL_CHAT_CONCURRENCY`): its default and
 * bounds. Jobs of one conversation still run one after another. On Lambda the event source
 * mapping decides instead.
 */
export const LOCAL_CHAT_CONCURRENCY = { default: 10, min: 1, max: 100 } as const;
