/**
 * The chat queue and its DLQ. Visibility timeout (6 min) exceeds the worker's timeout
 * (see `infra/workers.ts`, 90 s) several times over, as AWS recommends for Lambda consumers;
 * a job that fails 3 receives moves to the DLQ.
 */
export const chatDlq = new sst.aws.Queue("ChatDlq", { visibilityTimeout: "5 minutes" });

export const chatQueue = new sst.aws.Queue("ChatQueue", {
  visibilityTimeout: "6 minutes",
  dlq: { queue: chatDlq.arn, retry: 3 },
});
