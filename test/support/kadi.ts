import { PLATFORM_ADAPTERS } from "../../core/compose/platforms";
import type { BotUserIds, KadiRouting } from "../../core/kadi/events";
import { DISCORD_MENTION_CHANNEL_PREFIX } from "../../core/platforms/discord/kadi";
import { SLACK_MENTION_CHANNEL_PREFIX } from "../../core/platforms/slack/kadi";

/** `slack.app_mention.{id}`: where the broker's Slack agent publishes mentions of bot `id`. */
export function slackMentionChannel(botUserId: string): string {
  return `${SLACK_MENTION_CHANNEL_PREFIX}${botUserId}`;
}

/** `discord.mention.{id}`: where the broker's Discord agent publishes mentions of bot `id`. */
export function discordMentionChannel(botUserId: string): string {
  return `${DISCORD_MENTION_CHANNEL_PREFIX}${botUserId}`;
}

/** The production routing (every platform's adapter) with the given bot user ids. */
export function kadiRouting(bots: BotUserIds): KadiRouting {
  return { adapters: Object.values(PLATFORM_ADAPTERS), bots };
}
