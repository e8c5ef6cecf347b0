import { sharedEnvironment } from "./environment";
import { chatQueue } from "./queues";
import { memoryTable } from "./storage";

/** The HTTP ingress (`functions/http.ts`) behind a Lambda function URL. */
export const http = new sst.aws.Function("Http", {
  handler: "functions/http.handler",
  runtime: "nodejs20.x",
  memory: "512 MB",
  timeout: "10 seconds",
  url: true,
  link: [memoryTable, chatQueue],
  environment: { ...sharedEnvironment, CHAT_QUEUE_URL: chatQueue.url },
});
