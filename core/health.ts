import type { Config } from "./config";
import { configuredProviders, UNCONFIGURED_REASONS } from "./llm/configured";

/** Readiness of one dependency, derived from configuration (no network calls). */
export interface ComponentStatus {
  configured: boolean;
  /** Why it is unconfigured, naming the variables to set. */
  reason?: string;
}

/** Body of `GET /health`. `degraded` means the agent runs but cannot answer (no LLM). */
export interface HealthReport {
  status: "ok" | "degraded";
  providers: { anthropic: ComponentStatus; "model-manager": ComponentStatus };
  /**
   * `discord`: slash commands can be verified and answered (public key and application id set).
   * `kadi`: a broker session can be opened (URL and key set; `npm start` generates the key).
   */
  platforms: { slack: ComponentStatus; discord: ComponentStatus; kadi: ComponentStatus };
}

/**
 * What is configured, from the validated config alone, so `/health` stays cheap and needs
 * none of the LLM SDKs on the ingress path. Never includes secret values.
 */
export function configuredComponents(config: Config): HealthReport {
  const configured = configuredProviders(config);
  const status = (id: keyof typeof configured): ComponentStatus =>
    configured[id] ? { configured: true } : { configured: false, reason: UNCONFIGURED_REASONS[id] };
  const anthropic = status("anthropic");
  const modelManager = status("model-manager");
  const missingSlack = [
    !config.slack.signingSecret && "SLACK_SIGNING_SECRET",
    !config.slack.botToken && "SLACK_BOT_TOKEN",
  ].filter(Boolean);
  const slack: ComponentStatus =
    missingSlack.length === 0
      ? { configured: true }
      : { configured: false, reason: `${missingSlack.join(" and ")} not set` };
  const missingDiscord = [
    !config.discord.publicKey && "DISCORD_PUBLIC_KEY",
    !config.discord.applicationId && "DISCORD_APPLICATION_ID",
  ].filter(Boolean);
  const discord: ComponentStatus =
    missingDiscord.length === 0
      ? { configured: true }
      : { configured: false, reason: `${missingDiscord.join(" and ")} not set` };
  const missingKadi = [
    !config.kadi.brokerUrl && "KADI_BROKER_URL",
    !config.kadi.privateKeyPem && "KADI_PRIVATE_KEY",
  ].filter(Boolean);
  const kadi: ComponentStatus =
    missingKadi.length === 0
      ? { configured: true }
      : { configured: false, reason: `${missingKadi.join(" and ")} not set` };
  return {
    status: anthropic.configured || modelManager.configured ? "ok" : "degraded",
    providers: { anthropic, "model-manager": modelManager },
    platforms: { slack, discord, kadi },
  };
}
