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
  providers: { anthropic: ComponentStatus; "openai-compatible": ComponentStatus };
  /**
   * `discord`: slash commands can be verified and answered (`DISCORD_PUBLIC_KEY` set; replies
   * use the application id and token that each interaction carries).
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
  const openAICompatible = status("openai-compatible");
  const slack = requireAll([
    [config.slack.signingSecret, "SLACK_SIGNING_SECRET"],
    [config.slack.botToken, "SLACK_BOT_TOKEN"],
  ]);
  // Interaction webhooks carry their own application id and token: the public key is all the
  // agent needs to take and answer `/ask` (DISCORD_APPLICATION_ID is for discord:register).
  const discord = requireAll([[config.discord.publicKey, "DISCORD_PUBLIC_KEY"]]);
  // Either way in is enough: a broker session (the key is generated locally, linked on AWS)
  // or the signed HTTP callback.
  const kadi: ComponentStatus =
    config.kadi.brokerUrl || config.kadi.callbackSecret
      ? { configured: true }
      : {
          configured: false,
          reason:
            "KADI_BROKER_URL (broker session) and KADI_CALLBACK_SECRET (POST /kadi/events) not set",
        };
  return {
    status: anthropic.configured || openAICompatible.configured ? "ok" : "degraded",
    providers: { anthropic, "openai-compatible": openAICompatible },
    platforms: { slack, discord, kadi },
  };
}

function requireAll(values: [value: unknown, variable: string][]): ComponentStatus {
  const missing = values.filter(([value]) => !value).map(([, variable]) => variable);
  return missing.length === 0
    ? { configured: true }
    : { configured: false, reason: `${missing.join(" and ")} not set` };
}
