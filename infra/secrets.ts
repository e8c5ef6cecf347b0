/**
 * Every secret, one `sst.Secret` each, set per stage with
 * `npx sst secret set <Name> <value> --stage <stage>` (https://sst.dev/docs/component/secret/).
 * The link names are the ones `core/config.ts` maps (`LINKED_RESOURCES`); a function sees only
 * the secrets it is linked to. Each has a blank placeholder so a stage deploys before every
 * platform is set up: `core/config.ts` reads a blank value as unset and reports that platform
 * as unconfigured. `ModelManagerApiKey` is written by `npm run gateway:bootstrap`;
 * `GatewayAdminKey` and `GatewayUpstreamKey` go to the gateway droplet (`infra/gateway.ts`).
 */
export function createSecrets() {
  return {
    anthropicApiKey: new sst.Secret("AnthropicApiKey", ""),
    modelManagerApiKey: new sst.Secret("ModelManagerApiKey", ""),
    slackSigningSecret: new sst.Secret("SlackSigningSecret", ""),
    slackBotToken: new sst.Secret("SlackBotToken", ""),
    discordPublicKey: new sst.Secret("DiscordPublicKey", ""),
    discordBotToken: new sst.Secret("DiscordBotToken", ""),
    arcadedbPassword: new sst.Secret("ArcadedbPassword", ""),
    kadiPrivateKey: new sst.Secret("KadiPrivateKey", ""),
    kadiCallbackSecret: new sst.Secret("KadiCallbackSecret", ""),
    gatewayAdminKey: new sst.Secret("GatewayAdminKey", ""),
    // Only the gateway droplet reads this one (as GATEWAY_UPSTREAM_KEY_ENV, default
    // OPENAI_API_KEY); no function is linked to it.
    gatewayUpstreamKey: new sst.Secret("GatewayUpstreamKey", ""),
  };
}

/** The stage's secrets, as {@link createSecrets} makes them. */
export type Secrets = ReturnType<typeof createSecrets>;
