/**
 * The archival thresholds that configuration validates against and the memory code archives
 * by (docs/architecture.md, "Memory lifecycle", "The numbers"). Plain data.
 */

/** Live messages an archive run leaves; everything older is summarised. */
export const ARCHIVE_KEEP_MESSAGES = 20;

/**
 * Default high-water mark (`MEMORY_ARCHIVE_HIGH_WATER`): a conversation is archived once it
 * holds more live messages than this, down to {@link ARCHIVE_KEEP_MESSAGES}. The gap makes each
 * summary cover at least `highWater - keep + 1` messages (12 with the defaults: a turn adds 2)
 * and costs one summary call per 6 turns instead of one per turn.
 */
export const DEFAULT_ARCHIVE_HIGH_WATER = 30;
