import { ARCHIVE_VISIBILITY_SECONDS, CHAT_VISIBILITY_SECONDS, MAX_RECEIVE_COUNT } from "./timings";

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
 * with its own DLQ; visibility timeouts and `maxReceiveCount` are in `timings.ts`. The link
 * names `ChatQueue`/`ArchiveQueue` supply `CHAT_QUEUE_URL`/`ARCHIVE_QUEUE_URL` through
 * `core/config.ts`.
 */
export function createQueues() {
  const chatDlq = deadLetterQueue("ChatDlq");
  const chatQueue = new sst.aws.Queue("ChatQueue", {
    visibilityTimeout: `${CHAT_VISIBILITY_SECONDS} seconds`,
    dlq: { queue: chatDlq.arn, retry: MAX_RECEIVE_COUNT },
  });
  const archiveDlq = deadLetterQueue("ArchiveDlq");
  const archiveQueue = new sst.aws.Queue("ArchiveQueue", {
    visibilityTimeout: `${ARCHIVE_VISIBILITY_SECONDS} seconds`,
    dlq: { queue: archiveDlq.arn, retry: MAX_RECEIVE_COUNT },
  });
  return { chatQueue, chatDlq, archiveQueue, archiveDlq };
}

/** The stage's queues, as {@link createQueues} makes them. */
export type Queues = ReturnType<typeof createQueues>;
