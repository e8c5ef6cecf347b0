/**
 * Token accounting (docs/reliability/spend.md): how long the daily counters are kept. Plain
 * data.
 */

/**
 * How long a daily token counter is kept after its UTC day ends, in seconds (2 days): its TTL
 * is the next UTC midnight plus this. Nothing reads a past day's counter (keys carry the day),
 * so this only bounds how long yesterday's figures stay inspectable in the table; DynamoDB then
 * deletes the item within a few days
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html).
 */
export const TOKEN_COUNTER_RETENTION_SECONDS = 2 * 24 * 60 * 60;
