/**
 * Slack as a platform (docs/architecture.md, "Adding a platform"): the Events API webhook, the
 * interactivity webhook (Approve / Deny buttons) and the KĀDI binding. The direct replier is `./replier.ts` (`SlackReplier`), built by the chat
 * worker's composition only.
 */
import type { PlatformAdapter } from "../adapter";
import { slackKadiBinding } from "./kadi";

/** Slack's {@link PlatformAdapter}. */
export const slackPlatform: PlatformAdapter = {
  platform: "slack",
  path: "/slack/events",
  webhook: async (config, services) => (await import("./webhook")).slackWebhook(config, services),
  kadi: slackKadiBinding,
  moreWebhooks: [
    {
      path: "/slack/interactions",
      webhook: async (config, services) =>
        (await import("./interactions")).slackInteractionsWebhook(config, services),
    },
  ],
};
