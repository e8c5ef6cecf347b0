/**
 * The platforms this agent speaks: the one registry of {@link PlatformAdapter}s that ingress
 * and the KĀDI transport iterate (docs/architecture.md, "Adding a platform"). Adding a platform
 * means adding its folder under `core/platforms/`, its name to `core/constants/platforms.ts`,
 * its adapter here and its direct replier in `./repliers.ts`.
 */
import type { Config } from "../config";
import type { RemotePlatform } from "../constants/platforms";
import type { BotUserIds } from "../kadi/events";
import type { PlatformAdapter } from "../platforms/adapter";
import { discordPlatform } from "../platforms/discord";
import { slackPlatform } from "../platforms/slack";

/** Every remote platform's adapter, keyed by its name (the local console's `web` has none). */
export const PLATFORM_ADAPTERS: Readonly<Record<RemotePlatform, PlatformAdapter>> = {
  slack: slackPlatform,
  discord: discordPlatform,
};

/** The bot's user id on each platform (names the KĀDI mention channels, spots own messages). */
export function botUserIds(config: Config): BotUserIds {
  return { slack: config.slack.botUserId, discord: config.discord.botUserId };
}
