/**
 * Characters per Discord message; longer answers are split. Discord rejects `content` over
 * 2000 characters (https://discord.com/developers/docs/resources/message#create-message).
 */
export const DISCORD_MAX_MESSAGE_CHARS = 2000;

/**
 * Longest message a person can send, in characters: 2000, or 4000 with Nitro
 * (https://discord.com/developers/docs/resources/message#create-message). A relayed mention's
 * text over this is not Discord's.
 */
export const DISCORD_MAX_INCOMING_MESSAGE_CHARS = 4000;

/**
 * Longest command or option name: 1–32 characters
 * (https://discord.com/developers/docs/interactions/application-commands#application-command-object-application-command-naming).
 */
export const DISCORD_MAX_COMMAND_NAME_CHARS = 32;

/**
 * Most options one command carries: 25
 * (https://discord.com/developers/docs/interactions/application-commands#application-command-object).
 */
export const DISCORD_MAX_OPTIONS = 25;

/**
 * Longest string option value: `max_length` may be at most 6000
 * (https://discord.com/developers/docs/interactions/application-commands#application-command-object-application-command-option-structure).
 */
export const DISCORD_MAX_OPTION_VALUE_CHARS = 6000;

/** Longest channel name: 1–100 characters (https://discord.com/developers/docs/resources/channel). */
export const DISCORD_MAX_CHANNEL_NAME_CHARS = 100;
