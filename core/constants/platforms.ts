/**
 * The chat platforms a conversation can live on: the one list every schema, key and tool input
 * takes its platform names from. Adding a platform starts here (see docs/architecture.md,
 * "Adding a platform"). Plain data, so `infra/` may import it too.
 */
export const PLATFORMS = ["slack", "discord"] as const;

/** One of {@link PLATFORMS}. */
export type Platform = (typeof PLATFORMS)[number];
