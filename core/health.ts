import type { Config } from "./config";

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
  platforms: { slack: ComponentStatus };
}

/**
 * What is configured, from the validated config alone, so `/health` stays cheap and needs
 * none of the LLM SDKs on the ingress path. Never includes secret values.
 */
export function configuredComponents(config: Config): HealthReport {
  const anthropic: ComponentStatus = config.anthropic.apiKey
    ? { configured: true }
    : { configured: false, reason: "ANTHROPIC_API_KEY is not set" };
  const modelManager: ComponentStatus = config.modelManager.baseUrl
    ? { configured: true }
    : { configured: false, reason: "MODEL_MANAGER_BASE_URL is not set" };
  const missingSlack = [
    !config.slack.signingSecret && "SLACK_SIGNING_SECRET",
    !config.slack.botToken && "SLACK_BOT_TOKEN",
  ].filter(Boolean);
  const slack: ComponentStatus =
    missingSlack.length === 0
      ? { configured: true }
      : { configured: false, reason: `${missingSlack.join(" and ")} not set` };
  return {
    status: anthropic.configured || modelManager.configured ? "ok" : "degraded",
    providers: { anthropic, "model-manager": modelManager },
    platforms: { slack },
  };
}
