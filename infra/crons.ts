import { HEALTH_CHECK, KADI_LISTENER } from "../core/constants/timings";
import { FUNCTION_DEFAULTS } from "./environment";
import type { Queues } from "./queues";
import type { Secrets } from "./secrets";

/**
 * The scheduled functions, as SST `CronV2` components (EventBridge Scheduler; SST marks the
 * EventBridge-rule `Cron` deprecated): the health check (`functions/health-check.ts`) and,
 * when the stage has a KĀDI broker (`KADI_BROKER_URL` at deploy time), the KĀDI listener
 * (`functions/kadi-listener.ts`); timings and their reasoning are in
 * `core/constants/timings.ts`.
 *
 * The health check is linked to what it probes: the table, both queues (plus read access to
 * their DLQs' attributes, for `DlqDepth`) and both model providers' keys. The listener runs
 * chat turns for the agent's `chat` tool and forwards mentions, so it gets the chat worker's
 * links plus the chat queue.
 */
export function createCrons(deps: {
  memoryTable: sst.aws.Dynamo;
  queues: Queues;
  secrets: Secrets;
  environment: Record<string, $util.Input<string>>;
  kadiBroker: boolean;
}) {
  const { memoryTable, queues, secrets, environment } = deps;
  const healthCheck = new sst.aws.CronV2("HealthCheck", {
    schedule: HEALTH_CHECK.schedule,
    function: {
      ...FUNCTION_DEFAULTS,
      handler: "functions/health-check.handler",
      memory: "256 MB",
      timeout: `${HEALTH_CHECK.timeoutMs / 1000} seconds`,
      link: [
        memoryTable,
        queues.chatQueue,
        queues.archiveQueue,
        secrets.anthropicApiKey,
        secrets.modelManagerApiKey,
      ],
      permissions: [
        {
          actions: ["sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
          resources: [queues.chatDlq.arn, queues.archiveDlq.arn],
        },
      ],
      environment,
    },
  });

  const kadiListener = deps.kadiBroker
    ? new sst.aws.CronV2("KadiListener", {
        schedule: KADI_LISTENER.schedule,
        function: {
          ...FUNCTION_DEFAULTS,
          handler: "functions/kadi-listener.handler",
          memory: "512 MB",
          timeout: `${KADI_LISTENER.timeoutMs / 1000} seconds`,
          link: [
            memoryTable,
            queues.chatQueue,
            queues.archiveQueue,
            secrets.kadiPrivateKey,
            secrets.anthropicApiKey,
            secrets.modelManagerApiKey,
            secrets.slackBotToken,
            secrets.arcadedbPassword,
          ],
          environment: { ...environment, KADI_SESSION_MS: String(KADI_LISTENER.sessionMs) },
        },
      })
    : undefined;
  return { healthCheck, kadiListener };
}
