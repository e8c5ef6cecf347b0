/**
 * Characters per Discord message; longer answers are split. Discord rejects `content` over
 * 2000 characters (https://discord.com/developers/docs/resources/message#create-message).
 */
export const DISCORD_MAX_MESSAGE_CHARS = 2000;
