/**
 * The approval half of the agent turn (docs/architecture.md, "The agent turn"): a call to a
 * risky tool pauses the loop — the paused loop is stored with a TTL, the person gets Approve /
 * Deny buttons, and an expiry job is queued — and the decision comes back as a chat job
 * (`source.kind: "approval"`) that resumes the loop in another invocation.
 */
import { createHash } from "node:crypto";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { ApprovalStore } from "../agent/approvals";
import { type AgentLoopDeps, type LoopOutcome, resumeAgentLoop } from "../agent/loop";
import { cutResult, redact } from "../agent/redact";
import type { Toolbox } from "../agent/types";
import { TOOL_RECORD_INPUT_MAX_BYTES } from "../constants/agent";
import type { Completion } from "../llm/types";
import type { LiveReply } from "../reply/live-reply";
import { type ReplyRecord, settleReply } from "./agent-reply";
import { type DelayingJobSink, scheduleApprovalExpiry } from "./approval-jobs";
import { type ChatJob, chatJobSchema } from "./job";
import type { Replier } from "./replier";
import { withLastParagraph } from "./reply-text";

/** What pausing and resuming need, built once per container. */
export interface ApprovalDeps {
  store: ApprovalStore;
  /** The chat queue, which takes the delayed expiry job (`scheduleApprovalExpiry`). */
  queue: DelayingJobSink;
  /** How long a request waits for a decision, ms (`TOOL_APPROVAL_TTL_MS`). */
  ttlMs: number;
}

/** The parts of the turn's dependencies the approval flow uses. */
export interface ApprovalTurnDeps {
  approvals: ApprovalDeps;
  replier: Replier;
  toolbox: Toolbox;
  loop: AgentLoopDeps;
  logger: Logger;
  now: () => number;
  modelFooter: boolean;
  /** Counts each round's tokens (the daily budget). */
  onRound?: (completion: Completion, job: ChatJob) => Promise<void>;
}

/** The text under what was shown when a call waits for approval. */
export function approvalRequestText(label: string, ttlMs: number): string {
  const minutes = Math.max(1, Math.round(ttlMs / 60_000));
  return `I need your approval to run **${label}**: use the buttons below within ${minutes} minutes.`;
}

/** What the buttons message says once decided (`<@id>` mentions render on Slack and Discord). */
export function approvalDecidedText(
  label: string,
  decision: "approve" | "deny",
  decidedBy: string | undefined,
): string {
  const by = decidedBy ? ` by <@${decidedBy}>` : "";
  return decision === "approve"
    ? `Approved${by}: running **${label}**.`
    : `Denied${by}: **${label}** did not run.`;
}

/** The text posted when nobody decided in time. */
export function approvalExpiredText(label: string): string {
  return `Nobody approved running **${label}** in time, so it did not run.`;
}

/**
 * Pauses a turn whose loop waits on a call that needs approval: stores the paused loop (TTL
 * `ttlMs`), finishes the live reply with what was shown and the request, posts the buttons,
 * records the buttons message and queues the expiry job.
 * @throws the store's, the platform's or the queue's error (the job is redelivered).
 */
export async function pauseForApproval(
  deps: ApprovalTurnDeps,
  job: ChatJob,
  live: LiveReply,
  outcome: Extract<LoopOutcome, { kind: "paused" }>,
): Promise<ReplyRecord> {
  const { paused, tool } = outcome;
  const now = deps.now();
  const expiresAt = now + deps.approvals.ttlMs;
  const summary = `${tool.label}: ${cutResult(redact(paused.pending.input), TOOL_RECORD_INPUT_MAX_BYTES)}`;
  // One approval per paused job and call, so a redelivered turn finds the one it stored.
  const approvalId = createHash("sha256")
    .update(`${job.jobId}\n${paused.pending.id}`)
    .digest("base64url")
    .slice(0, 32);
  const jobJson = JSON.stringify(job);
  await deps.approvals.store.create({
    approvalId,
    jobId: job.jobId,
    job: jobJson,
    requesterUserId: job.conversation.userId,
    platform: job.conversation.platform,
    toolName: tool.name,
    summary,
    loop: paused,
    createdAt: now,
    expiresAt,
  });
  live.progress?.({ id: paused.pending.id, label: tool.label, state: "waiting" });
  const text = withLastParagraph(
    outcome.text.trim(),
    approvalRequestText(tool.label, deps.approvals.ttlMs),
  ).trim();
  const posted = await live.finish(text);
  if (!deps.replier.askApproval) throw new Error("this replier cannot ask for approval");
  const prompt = await deps.replier.askApproval(job.reply, {
    approvalId,
    requesterUserId: job.conversation.userId,
    toolName: tool.name,
    summary,
    expiresAt,
  });
  await deps.approvals.store.setPromptMessage(approvalId, prompt.messageId);
  await scheduleApprovalExpiry(deps.approvals.queue, jobJson, approvalId, deps.approvals.ttlMs);
  deps.logger.info("tool call waits for approval", {
    jobId: job.jobId,
    approvalId,
    tool: tool.name,
    expiresAt,
  });
  return {
    outcome: "awaiting_approval",
    text,
    ...(paused.model ? { model: paused.model } : {}),
    tokens: paused.tokens,
    ...(paused.actions.length ? { actions: paused.actions } : {}),
    messageId: posted.messageId,
    postedAt: deps.now(),
  };
}

/**
 * Runs a decision job: `expire` tells the person nothing ran (if nobody decided first);
 * `approve` runs the call once (`claimRun`) and resumes the loop; `deny` resumes it with the
 * refusal, which the model is told. The answer goes to `job.reply`. A decision on a request
 * that is gone, already ran, or was decided otherwise posts nothing (`outcome: "failed"`,
 * `messageId: ""`).
 * @throws the store's, the platform's or the queue's error (the job is redelivered).
 */
export async function resumeAfterDecision(
  deps: ApprovalTurnDeps,
  job: ChatJob & { source: { kind: "approval" } },
  live: () => Promise<LiveReply>,
): Promise<ReplyRecord> {
  const { approvalId, decision } = job.source;
  const nothing: ReplyRecord = { outcome: "failed", text: "", messageId: "", postedAt: deps.now() };
  const record = await deps.approvals.store.get(approvalId);
  if (!record) {
    deps.logger.warn("decision on an approval that is gone; nothing to do", {
      jobId: job.jobId,
      approvalId,
    });
    return nothing;
  }
  const original = chatJobSchema.parse(JSON.parse(record.job));
  const label = record.loop.pendingLabel;
  if (decision === "expire") {
    const expired = await deps.approvals.store.expire(approvalId, deps.now());
    if (!expired.ok && expired.reason === "not_due") {
      // A TTL longer than one SQS delay: wait out the rest.
      await scheduleApprovalExpiry(
        deps.approvals.queue,
        record.job,
        approvalId,
        expired.approval.expiresAt - deps.now(),
      );
      return nothing;
    }
    if (!expired.ok) return nothing;
    if (record.promptMessageId && deps.replier.settleApproval) {
      await deps.replier
        .settleApproval(original.reply, record.promptMessageId, approvalExpiredText(label))
        .catch((error: unknown) =>
          deps.logger.warn("could not update the expired approval message", {
            jobId: job.jobId,
            approvalId,
            error,
          }),
        );
    }
  }
  if (decision === "approve" && !(await deps.approvals.store.claimRun(approvalId))) {
    deps.logger.warn("approved call already ran; not running it again", {
      jobId: job.jobId,
      approvalId,
    });
    return nothing;
  }
  // A Discord press answered in place (its own interaction token is the new reply target); a
  // Slack click cannot, so the buttons are replaced here, before the answer starts.
  const samePlace = JSON.stringify(job.reply) === JSON.stringify(original.reply);
  if (decision !== "expire" && samePlace && record.promptMessageId && deps.replier.settleApproval) {
    await deps.replier
      .settleApproval(
        original.reply,
        record.promptMessageId,
        approvalDecidedText(label, decision, record.decidedBy),
      )
      .catch((error: unknown) =>
        deps.logger.warn("could not update the approval message", {
          jobId: job.jobId,
          approvalId,
          error,
        }),
      );
  }
  const reply = await live();
  if (reply.state === "expired") {
    return { outcome: "expired", text: "", messageId: "", postedAt: deps.now() };
  }
  const tools = await deps.toolbox.toolsFor({ canAskApproval: true });
  const outcome = await resumeAgentLoop(
    deps.loop,
    {
      context: { conversation: original.conversation, jobId: job.jobId },
      tools,
      onText: (delta) => reply.append(delta),
      onStep: (step) => reply.progress?.(step),
      ...(deps.onRound
        ? { onRound: (c: Completion) => deps.onRound?.(c, job) ?? Promise.resolve() }
        : {}),
    },
    record.loop,
    decision,
  );
  if (decision === "approve") {
    // The approved call is the first one the resumed loop recorded.
    const actions = outcome.kind === "paused" ? outcome.paused.actions : outcome.actions;
    const ran = actions[record.loop.actions.length];
    await deps.approvals.store.finish(approvalId, ran?.outcome ?? "failed");
  }
  if (outcome.kind === "paused") return pauseForApproval(deps, job, reply, outcome);
  return settleReply(outcome, reply, {
    jobId: job.jobId,
    logger: deps.logger,
    now: deps.now,
    modelFooterOn: deps.modelFooter,
  });
}
