import { FUNCTION_DEFAULTS } from "./environment";
import type { Queues } from "./queues";
import type { Secrets } from "./secrets";

/**
 * The HTTP ingress (`functions/http.ts`: Slack events, Discord interactions, KĀDI callbacks,
 * health) behind a Lambda function URL. It only verifies, deduplicates and enqueues, so it is
 * linked to the table, the chat queue, the three verification secrets, the ArcadeDB password
 * (for `/forget`) and the Slack bot token (for `assistant_thread_started`), nothing else.
 * Its work (a conditional write and a SendMessage; two bounded Slack calls on a new assistant
 * thread) ends well inside the 3 s Slack and Discord wait; the 10 s timeout only bounds a
 * stuck invocation.
 */
export function createHttpApi(deps: {
  memoryTable: sst.aws.Dynamo;
  queues: Queues;
  secrets: Secrets;
  environment: Record<string, $util.Input<string>>;
}) {
  const http = new sst.aws.Function("Http", {
    ...FUNCTION_DEFAULTS,
    handler: "functions/http.handler",
    memory: "512 MB",
    timeout: "10 seconds",
    url: true,
    link: [
      deps.memoryTable,
      deps.queues.chatQueue,
      deps.secrets.slackSigningSecret,
      // A new assistant thread gets its title and suggested prompts from the ingress.
      deps.secrets.slackBotToken,
      deps.secrets.discordPublicKey,
      deps.secrets.kadiCallbackSecret,
      // Discord `/forget` also removes the conversation's summaries from ArcadeDB.
      deps.secrets.arcadedbPassword,
    ],
    environment: deps.environment,
  });
  return { http };
}
