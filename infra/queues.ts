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
const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Receives before a message moves to its DLQ (`maxReceiveCount`): a poison job is retried
 * twice, so it lands in the DLQ about three visibility timeouts after its first receive. */
export const MAX_RECEIVE_COUNT = 3;

/** DLQs keep messages for the SQS maximum, 14 days: a moved message keeps its original enqueue
 * time, so the DLQ's retention must exceed the source queue's (default 4 days) to be useful. */
const DLQ_RETENTION_SECONDS = 14 * 24 * 60 * 60;

function deadLetterQueue(name: string) {
  return new sst.aws.Queue(name, {
    transform: {
      queue: (args) => {
        args.messageRetentionSeconds = DLQ_RETENTION_SECONDS;
      },
    },
  });
}

/**
 * The chat queue (ingress → chat worker) and the archive queue (chat worker → archiver), each
 * with its own DLQ. Link names `ChatQueue`/`ArchiveQueue` supply `CHAT_QUEUE_URL`/
 * `ARCHIVE_QUEUE_URL` through `core/config.ts`.
 */
export function createQueues() {
  const chatDlq = deadLetterQueue("ChatDlq");
  const chatQueue = new sst.aws.Queue("ChatQueue", {
    visibilityTimeout: `${CHAT_WORKER_TIMEOUT_SECONDS * VISIBILITY_TIMEOUT_FACTOR} seconds`,
    dlq: { queue: chatDlq.arn, retry: MAX_RECEIVE_COUNT },
  });
  const archiveDlq = deadLetterQueue("ArchiveDlq");
  const archiveQueue = new sst.aws.Queue("ArchiveQueue", {
    visibilityTimeout: `${ARCHIVER_TIMEOUT_SECONDS * VISIBILITY_TIMEOUT_FACTOR} seconds`,
    dlq: { queue: archiveDlq.arn, retry: MAX_RECEIVE_COUNT },
  });
  return { chatQueue, chatDlq, archiveQueue, archiveDlq };
}

/** The stage's queues, as {@link createQueues} makes them. */
export type Queues = ReturnType<typeof createQueues>;
