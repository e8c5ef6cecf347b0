/**
 * Sizes every edge and store agrees on: how long an id or a text may be when it arrives, when it
 * is stored, when it becomes part of a DynamoDB key, and when it is copied into a log record
 * (docs/architecture.md, "Accepted payloads"). Platform-specific limits live next to their
 * platform (`core/platforms/{name}/limits.ts`). Plain data.
 */

/**
 * Largest request body a webhook accepts, in bytes (1 MiB); larger bodies get 413 before they
 * are read (Slack and Discord payloads are a few KiB; a 40 000-character message is under
 * 160 KiB of UTF-8).
 */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * DynamoDB's key limits: a partition key of at most 2048 bytes and a sort key of at most 1024
 * bytes (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-partition-sort-keys).
 * A longer key fails the write with a `ValidationException`.
 */
export const DYNAMODB_PARTITION_KEY_MAX_BYTES = 2048;

/** See {@link DYNAMODB_PARTITION_KEY_MAX_BYTES}. */
export const DYNAMODB_SORT_KEY_MAX_BYTES = 1024;

/**
 * Longest id embedded in a key (a dedupe id, a job id in a `TURN#` sort key), in bytes of UTF-8:
 * with the longest prefix the table uses (`DEDUPE#discord-interaction#`, 27 bytes) it stays under
 * {@link DYNAMODB_SORT_KEY_MAX_BYTES}.
 */
export const KEY_ID_MAX_BYTES = 960;

/**
 * Longest platform id accepted at the edge, in characters: Slack team, channel, user, bot and
 * event ids and message `ts`, KĀDI event fields, Discord ids relayed by a broker. Slack
 * documents no maximum and asks apps not to assume the characters of an id
 * (https://api.slack.com/changelog/2016-08-11-user-id-format-changes); its ids are 9–11
 * characters today and Discord snowflakes at most 20 digits, so 64 leaves room to grow while a
 * key composed of two ids (`discord:{channel}:{id}`) stays far below {@link KEY_ID_MAX_BYTES}
 * even at 4 bytes per character.
 */
export const PLATFORM_ID_MAX_CHARS = 64;

/**
 * Longest conversation id (channel, user) a chat job may carry, in characters: at most 512
 * bytes each, so `CONV#{platform}#{channel}#{user}` stays under
 * {@link DYNAMODB_PARTITION_KEY_MAX_BYTES}. The agent's KĀDI tools take ids up to this length.
 */
export const CONVERSATION_ID_MAX_CHARS = 128;

/**
 * Longest message text taken from any platform, in characters: Slack truncates message text
 * past 40 000 characters (https://api.slack.com/methods/chat.postMessage#truncating), the
 * longest of the platforms.
 */
export const MESSAGE_TEXT_MAX_CHARS = 40_000;

/** Longest opaque token accepted at the edge (a Discord interaction token, a Slack challenge). */
export const TOKEN_MAX_CHARS = 1000;

/**
 * Longest payload value (an id, an event type, a channel name) copied into a log record; a
 * longer or non-string value is logged by its size only.
 */
export const LOGGED_VALUE_MAX_CHARS = 64;

/**
 * Longest path a refusal names (`event.files.3.name`), in characters; a deeper path keeps its
 * first and last segments.
 */
export const ISSUE_PATH_MAX_CHARS = 120;

/**
 * Largest pending approval item, in bytes of its stored texts (the paused loop's JSON, the
 * original job's JSON, the summary): DynamoDB refuses items over 400 KB
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items),
 * and the rest of the item (keys, ids, status, times) fits in what is left.
 */
export const APPROVAL_ITEM_MAX_BYTES = 350_000;
