import { sharedEnvironment } from "./environment";
import { chatQueue } from "./queues";
import { memoryTable } from "./storage";

/** The chat worker (`functions/chat-worker.ts`) consuming the chat queue with partial batch responses. */
chatQueue.subscribe(
  {
    handler: "functions/chat-worker.handler",
    runtime: "nodejs20.x",
    memory: "1024 MB",
    timeout: "90 seconds",
    link: [memoryTable],
    environment: sharedEnvironment,
  },
  { batch: { size: 5, partialResponses: true } },
);
