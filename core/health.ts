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
  platforms: { slack: ComponentStatus };
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
  return {
    status: anthropic.configured || modelManager.configured ? "ok" : "degraded",
    providers: { anthropic, "model-manager": modelManager },
    platforms: { slack },
  };
}
