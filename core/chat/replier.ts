import type { Platform } from "../constants/platforms";
import { bufferedLiveReply, type LiveReply, type LiveReplyJob } from "../reply/live-reply";
import type { ReplyTarget } from "./job";

/**
 * Posts answers to a {@link ReplyTarget}: a platform's direct replier
 * (`core/platforms/{platform}/replier.ts`), the KĀDI relay (`core/kadi/replier.ts`), or the
 * {@link createReplyRouter} in front of them. Streaming replies plug in here, one replier per
 * platform (docs/architecture.md, "Adding a platform", "Live replies").
 */
export interface Replier {
  /**
   * Posts `text`, split into as many messages as the platform needs, in order.
   * @returns the platform id of the first message posted (Slack `ts`, Discord message id).
   * @throws the platform client's error; a partial post is possible if a later chunk fails.
   */
  post(target: ReplyTarget, text: string): Promise<{ messageId: string }>;
  /**
   * Opens the live reply of one job: shows at once that the agent is working (a status, a
   * placeholder, an opening stream) and resumes the messages an earlier run of the job posted
   * (its reply ledger) instead of posting new ones. Repliers that cannot edit (the KĀDI relay)
   * post once, at `finish`.
   * @throws the platform client's or the ledger's error when the opening call fails.
   */
  open(target: ReplyTarget, job: LiveReplyJob): Promise<LiveReply>;
  /**
   * Whether {@link Replier.askApproval} can show buttons at `target`: Slack and Discord direct
   * replies can; the KĀDI relay, `inline` replies and the web console cannot (risky tools are
   * then not offered).
   */
  canAskApproval?(target: ReplyTarget): boolean;
  /**
   * Posts the Approve / Deny buttons for one pending tool call under the job's answer: a Slack
   * message with an `actions` block (`block_actions`), a Discord follow-up with a
   * message-components action row (interaction type 3). Button values carry
   * `prompt.approvalId` only.
   * @returns the platform id of the message with the buttons.
   * @throws the platform client's error.
   */
  askApproval?(target: ReplyTarget, prompt: ApprovalPrompt): Promise<{ messageId: string }>;
  /**
   * Replaces the buttons message `messageId` with `text` and no buttons (decided, expired).
   * @throws the platform client's error.
   */
  settleApproval?(target: ReplyTarget, messageId: string, text: string): Promise<void>;
}

/** What the Approve / Deny message shows. */
export interface ApprovalPrompt {
  /** Key of the pending approval (`ApprovalStore`); the only thing the buttons carry. */
  approvalId: string;
  /** Platform user id of the person who asked: the only one who may decide. */
  requesterUserId: string;
  /** The tool's name as the broker advertises it. */
  toolName: string;
  /** One line saying what will run, with secret-looking values redacted. */
  summary: string;
  /** When the request expires unanswered, epoch ms. */
  expiresAt: number;
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
 * `ReplyRecord.text`; the agent's own `chat` tool). The approval methods go the same way;
 * `canAskApproval` is `false` where the route's replier has no buttons (or none is configured).
 * @throws {PlatformNotConfiguredError} (from `post`, `open`, `askApproval`, `settleApproval`)
 *   for a route with no replier, or (the approval methods) one without buttons.
 */
export function createReplyRouter(routes: ReplyRoutes): Replier {
  const find = (target: ReplyTarget): Replier | undefined =>
    target.via === "kadi" ? routes.kadi : routes.direct[target.platform];
  function route(target: ReplyTarget): Replier {
    const replier = find(target);
    if (replier) return replier;
    const hint =
      (target.via === "kadi" ? routes.missing?.kadi : routes.missing?.direct?.[target.platform]) ??
      "it is not configured";
    throw new PlatformNotConfiguredError(
      `cannot reply to ${target.platform} (${target.via}): ${hint}`,
    );
  }
  const inline = async () => ({ messageId: "inline" });
  return {
    async post(target, text) {
      if (target.via === "inline") return inline();
      return route(target).post(target, text);
    },
    async open(target, job) {
      if (target.via === "inline") return bufferedLiveReply(inline);
      return route(target).open(target, job);
    },
    // Buttons only where the route's replier has them: never inline, the relay has none.
    canAskApproval(target) {
      if (target.via === "inline") return false;
      const replier = find(target);
      return Boolean(replier?.askApproval && replier.canAskApproval?.(target));
    },
    async askApproval(target, prompt) {
      const replier = route(target);
      if (target.via === "inline" || !replier.askApproval) {
        throw new PlatformNotConfiguredError(
          `cannot ask for approval on ${target.platform} (${target.via}): no buttons there`,
        );
      }
      return replier.askApproval(target, prompt);
    },
    async settleApproval(target, messageId, text) {
      const replier = route(target);
      if (target.via === "inline" || !replier.settleApproval) {
        throw new PlatformNotConfiguredError(
          `cannot settle an approval on ${target.platform} (${target.via}): no buttons there`,
        );
      }
      await replier.settleApproval(target, messageId, text);
    },
  };
}
