import type { ReplyTarget, ReplyTargetOf } from "./job";

/** Posts answers to one chat platform (or through one relay) for targets of kind `K`. */
export interface Replier<K extends ReplyTarget["kind"] = ReplyTarget["kind"]> {
  /**
   * Posts `text`, split into as many messages as the platform needs, in order.
   * @returns the platform id of the first message posted (Slack `ts`, Discord message id).
   * @throws the platform client's error; a partial post is possible if a later chunk fails.
   */
  post(target: ReplyTargetOf<K>, text: string): Promise<{ messageId: string }>;
}

/** Thrown when a job needs a platform whose credentials are not configured. */
export class PlatformNotConfiguredError extends Error {
  override readonly name = "PlatformNotConfiguredError";
}

/** One replier per reply-target kind; a missing entry means that platform is unconfigured. */
export type ReplierTable = { [K in ReplyTarget["kind"]]?: Replier<K> };

/**
 * Dispatches each reply to the replier for its target's `kind`.
 * @param missing - names the variables to set for each kind, used in the error message.
 * @throws {PlatformNotConfiguredError} (from `post`) for a kind with no replier.
 */
export function createReplyRouter(
  repliers: ReplierTable,
  missing: Partial<Record<ReplyTarget["kind"], string>> = {},
): Replier {
  return {
    post(target, text) {
      const replier = repliers[target.kind] as Replier<typeof target.kind> | undefined;
      if (!replier) {
        const hint = missing[target.kind] ?? "its platform is not configured";
        return Promise.reject(
          new PlatformNotConfiguredError(`cannot reply to a ${target.kind} target: ${hint}`),
        );
      }
      return replier.post(target, text);
    },
  };
}

/** The `inline` replier: posts nothing, the caller reads the turn's `ReplyRecord.text`. */
export const inlineReplier: Replier<"inline"> = {
  post: () => Promise.resolve({ messageId: "inline" }),
};
