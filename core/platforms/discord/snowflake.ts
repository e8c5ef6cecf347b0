/**
 * Discord snowflake ids (https://discord.com/developers/docs/reference#snowflakes). Kept apart
 * from the interaction schemas so that the KĀDI binding, which every ingress cold start loads,
 * does not load them.
 */

/** Discord's epoch, 2015-01-01T00:00:00Z, in epoch milliseconds. */
export const DISCORD_EPOCH_MS = 1_420_070_400_000n;

/**
 * When a snowflake was created, epoch milliseconds: the top 42 bits count milliseconds since
 * {@link DISCORD_EPOCH_MS}. An interaction id therefore tells when the user ran the command.
 * @throws {SyntaxError} if `id` is not a decimal integer string.
 */
export function snowflakeTime(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH_MS);
}
