import { QUEUE_BATCH_SIZE } from "../core/constants/queues";
import { ARCHIVER_TIMEOUT_MS, CHAT_WORKER_TIMEOUT_MS } from "../core/constants/timings";
import { FUNCTION_DEFAULTS } from "./environment";
import type { Queues } from "./queues";
import type { Secrets } from "./secrets";

/** Records per invocation, with partial batch responses (`ReportBatchItemFailures`): see
 * {@link QUEUE_BATCH_SIZE}. */
const BATCH = { size: QUEUE_BATCH_SIZE, partialResponses: true } as const;

/**
 * The queue consumers: the chat worker (`functions/chat-worker.ts`) on the chat queue and the
 * archiver (`functions/archiver.ts`) on the archive queue. Each is linked to the table and to
 * the secrets of the services it calls: the worker answers (both model providers, Slack,
 * Discord through the interaction token the job carries, the KĀDI broker for replies relayed
 * through it, ArcadeDB for recall) and enqueues archive jobs; the archiver summarises (model
 * providers) and indexes (ArcadeDB). Visibility timeouts are 6 × these Lambda timeouts
 * (`core/constants/timings.ts`), and batches use no batching window, so nothing adds to that
 * margin.
 */
export function subscribeWorkers(deps: {
  memoryTable: sst.aws.Dynamo;
  queues: Queues;
  secrets: Secrets;
  environment: Record<string, $util.Input<string>>;
}) {
  const { memoryTable, queues, secrets, environment } = deps;
  const chatWorker = queues.chatQueue.subscribe(
    {
      ...FUNCTION_DEFAULTS,
      handler: "functions/chat-worker.handler",
      memory: "1024 MB",
      timeout: `${CHAT_WORKER_TIMEOUT_MS / 1000} seconds`,
      link: [
        memoryTable,
        queues.archiveQueue,
        // The expiry of a tool call waiting for approval is a delayed job on the chat queue.
        queues.chatQueue,
        secrets.anthropicApiKey,
        secrets.modelManagerApiKey,
        secrets.slackBotToken,
        secrets.kadiPrivateKey,
        secrets.arcadedbPassword,
      ],
      environment,
    },
    { batch: BATCH },
  );
  const archiver = queues.archiveQueue.subscribe(
    {
      ...FUNCTION_DEFAULTS,
      handler: "functions/archiver.handler",
      memory: "512 MB",
      timeout: `${ARCHIVER_TIMEOUT_MS / 1000} seconds`,
      link: [
        memoryTable,
        // A conversation still over the high-water mark after this run is queued again.
        queues.archiveQueue,
        secrets.anthropicApiKey,
        secrets.modelManagerApiKey,
        secrets.arcadedbPassword,
      ],
      environment,
    },
    { batch: BATCH },
  );
  return { chatWorker, archiver };
}
