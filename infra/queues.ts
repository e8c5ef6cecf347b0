import { MAX_RECEIVE_COUNT } from "../core/constants/queues";
import {
  ARCHIVE_VISIBILITY_TIMEOUT_MS,
  CHAT_VISIBILITY_TIMEOUT_MS,
  DLQ_RETENTION_MS,
} from "../core/constants/timings";

function deadLetterQueue(name: string) {
  return new sst.aws.Queue(name, {
    transform: {
      queue: (args) => {
        args.messageRetentionSeconds = DLQ_RETENTION_MS / 1000;
      },
    },
  });
}

/**
 * The chat queue (ingress → chat worker) and the archive queue (chat worker → archiver), each
 * with its own DLQ; visibility timeouts, DLQ retention and `maxReceiveCount` are in
 * `core/constants/` (`timings.ts`, `queues.ts`). The link names `ChatQueue`/`ArchiveQueue`
 * supply `CHAT_QUEUE_URL`/`ARCHIVE_QUEUE_URL` through `core/config.ts`.
 */
export function createQueues() {
  const chatDlq = deadLetterQueue("ChatDlq");
  const chatQueue = new sst.aws.Queue("ChatQueue", {
    visibilityTimeout: `${CHAT_VISIBILITY_TIMEOUT_MS / 1000} seconds`,
    dlq: { queue: chatDlq.arn, retry: MAX_RECEIVE_COUNT },
  });
  const archiveDlq = deadLetterQueue("ArchiveDlq");
  const archiveQueue = new sst.aws.Queue("ArchiveQueue", {
    visibilityTimeout: `${ARCHIVE_VISIBILITY_TIMEOUT_MS / 1000} seconds`,
    dlq: { queue: archiveDlq.arn, retry: MAX_RECEIVE_COUNT },
  });
  return { chatQueue, chatDlq, archiveQueue, archiveDlq };
}

/** The stage's queues, as {@link createQueues} makes them. */
export type Queues = ReturnType<typeof createQueues>;
