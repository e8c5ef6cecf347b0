/**
 * Discord as a platform (docs/architecture.md, "Adding a platform"): the interactions webhook
 * (slash commands over HTTP) and the KĀDI binding. The direct replier is `./replier.ts`
 * (`DiscordInteractionReplier`), built by the chat worker's composition only.
 */
import type { PlatformAdapter } from "../adapter";
import { discordKadiBinding } from "./kadi";

/** Discord's {@link PlatformAdapter}. */
export const discordPlatform: PlatformAdapter = {
  platform: "discord",
  path: "/discord/interactions",
  webhook: async (config, services) => (await import("./webhook")).discordWebhook(config, services),
  kadi: discordKadiBinding,
};
