/** Secrets, set per stage with `npx sst secret set <Name> <value>`. */
export const secrets = {
  anthropicApiKey: new sst.Secret("AnthropicApiKey", ""),
  modelManagerApiKey: new sst.Secret("ModelManagerApiKey", ""),
  slackSigningSecret: new sst.Secret("SlackSigningSecret"),
  slackBotToken: new sst.Secret("SlackBotToken"),
};
