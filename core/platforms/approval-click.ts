/**
 * An Approve / Deny click on a pending tool call, the same on every platform
 * (docs/architecture.md, "The agent turn"): record the decision (one conditional write, so of a
 * double click one counts), build the job that resumes the paused turn, or say why not in a
 * sentence for the clicker. The platform's webhook parses the click and answers it.
 */
import type { ApprovalDecision, ApprovalRecord, DecideRefusal } from "../agent/approvals";
import { approvalResumeJob } from "../chat/approval-jobs";
import type { ChatJob, ReplyTarget } from "../chat/job";
import type { ApprovalDecider } from "./adapter";

/** One click as a platform reads it. */
export interface ApprovalClick {
  approvalId: string;
  /** Platform user id of who clicked. */
  userId: string;
  decision: ApprovalDecision;
}

/** What became of a click. */
export type ClickOutcome =
  /** Decided: enqueue `job` (id `approval:{approvalId}`), or reopen the approval if that fails. */
  | { ok: true; approval: ApprovalRecord; job: ChatJob }
  /** Refused (wrong person, decided, expired, unknown): tell the clicker `text`. */
  | { ok: false; reason: DecideRefusal["reason"]; text: string }
  /** The store failed, or the stored job did not make a resume job: tell the clicker `text`. */
  | { ok: false; reason: "unavailable"; cause: unknown; text: string };

/** What the clicker is told when the decision could not be recorded. */
export const CLICK_UNAVAILABLE_TEXT =
  "I couldn't record your decision just now. Please try again in a minute.";

/**
 * Records `click` and builds the resume job from the approval's stored job; `answer.reply`,
 * when given, replaces the original job's reply target and `answer.sentAt` its time (Discord:
 * the click's own interaction, whose token lives 15 minutes from the click). Never throws.
 */
export async function decideClick(
  approvals: ApprovalDecider,
  click: ApprovalClick,
  answer: { reply?: ReplyTarget; sentAt?: number } = {},
): Promise<ClickOutcome> {
  let decided: Awaited<ReturnType<ApprovalDecider["decide"]>>;
  try {
    decided = await approvals.decide(click.approvalId, click);
  } catch (cause) {
    return { ok: false, reason: "unavailable", cause, text: CLICK_UNAVAILABLE_TEXT };
  }
  if (!decided.ok) return { ok: false, reason: decided.reason, text: refusalText(decided) };
  try {
    const job = approvalResumeJob(decided.approval.job, click.approvalId, click.decision, answer);
    return { ok: true, approval: decided.approval, job };
  } catch (cause) {
    // A stored job that no longer parses: give the decision back rather than strand it.
    await approvals.reopen(click.approvalId).catch(() => undefined);
    return { ok: false, reason: "unavailable", cause, text: CLICK_UNAVAILABLE_TEXT };
  }
}

/** The sentence for a refused click; names no one and quotes nothing of the request. */
export function refusalText(refusal: DecideRefusal): string {
  switch (refusal.reason) {
    case "not_requester":
      return "Only the person who asked can approve or deny this.";
    case "already_decided":
      return `This request was already decided (${refusal.status}).`;
    case "expired":
      return "This request expired before it was decided. Ask again if you still want it.";
    case "not_found":
      return "This request is no longer pending.";
  }
}

/** The line that replaces the buttons once decided: "Approved by <@U1> — running…". */
export function decidedLine(decision: ApprovalDecision, userId: string): string {
  return decision === "approve" ? `Approved by <@${userId}> — running…` : `Denied by <@${userId}>`;
}
