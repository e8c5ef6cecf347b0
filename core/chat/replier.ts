import type { Platform } from "../constants/platforms";
import type { ReplyTarget } from "./job";

/**
 * Posts answers to a {@link ReplyTarget}: a platform's direct replier
 * (`core/platforms/{platform}/replier.ts`), the KĀDI relay (`core/kadi/replier.ts`), or the
 * {@link createReplyRouter} in front of them. Streaming replies plug in here, one replier per
 * platform (docs/architecture.md, "Adding a platform").
 */
export interface Replier {
  /**
   * Posts `text`, split into as many messages as the platform needs, in order.
   * @returns the platform id of the first message posted (Slack `ts`, Discord message id).
   * @throws the platform client's error; a partial post is possible if a later chunk fails.
   */
  post(target: ReplyTarget, text: string): Promise<{ messageId: string }>;
}

/** Thrown when a job needs a platform or a relay whose credentials are not configured. */
export class PlatformNotConfiguredError extends Error {
  override readonly name = "PlatformNotConfiguredError";
}

/** The repliers one container has; a missing entry means that route is not configured. */
export interface ReplyRoutes {
  /** Each configured platform's own API. */
  direct: Partial<Record<Platform, Replier>>;
  /** The KĀDI relay (one for every platform), when a broker is configured. */
  kadi?: Replier | undefined;
  /** What to set for a missing route, used in the error message. */
  missing?: { direct?: Partial<Record<Platform, string>>; kadi?: string };
}

/**
 * The one reply router: dispatches each reply by `via` and `platform` — `direct` to that
 * platform's replier, `kadi` to the relay, `inline` nowhere (the caller reads the turn's
 * `ReplyRecord.text`; the agent's own `chat` tool).
 * @throws {PlatformNotConfiguredError} (from `post`) for a route with no replier.
 */
export function createReplyRouter(routes: ReplyRoutes): Replier {
  return {
    post(target, text) {
      if (target.via === "inline") return Promise.resolve({ messageId: "inline" });
      const replier = target.via === "kadi" ? routes.kadi : routes.direct[target.platform];
      if (!replier) {
        const hint =
          (target.via === "kadi"
            ? routes.missing?.kadi
            : routes.missing?.direct?.[target.platform]) ?? "it is not configured";
        return Promise.reject(
          new PlatformNotConfiguredError(
            `cannot reply to ${target.platform} (${target.via}): ${hint}`,
          ),
        );
      }
      return replier.post(target, text);
    },
  };
}
