import { secrets } from "./secrets";
import { memoryTable } from "./storage";

/** Environment shared by every function: the names `core/config.ts` reads. */
export const sharedEnvironment = {
  MEMORY_TABLE_NAME: memoryTable.name,
  ANTHROPIC_API_KEY: secrets.anthropicApiKey.value,
  MODEL_MANAGER_API_KEY: secrets.modelManagerApiKey.value,
  MODEL_MANAGER_BASE_URL: process.env.MODEL_MANAGER_BASE_URL ?? "",
  DEFAULT_MODEL: process.env.DEFAULT_MODEL ?? "",
  SLACK_SIGNING_SECRET: secrets.slackSigningSecret.value,
  SLACK_BOT_TOKEN: secrets.slackBotToken.value,
  SLACK_BOT_USER_ID: process.env.SLACK_BOT_USER_ID ?? "",
  LOG_LEVEL: process.env.LOG_LEVEL ?? "INFO",
};
