/**
 * The chat worker's side of the allowlists (`./access.ts`): a job from someone the lists leave
 * out gets a short refusal instead of a turn (no model call, nothing stored), at most once per
 * {@link ACCESS_REFUSAL_INTERVAL_MS} per user and channel.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { ACCESS_REFUSAL_INTERVAL_MS } from "../constants/timings";
import type { DedupeStore } from "../memory/dedupe";
import {
  type AccessDenial,
  type AccessLists,
  accessSubjectOf,
  decideAccess,
  refusalText,
} from "./access";
import type { ChatJob } from "./job";
import type { Replier } from "./replier";

/**
 * Dedupe scope of the refusal marks: one item `DEDUPE#access-refusal#{platform}:{channelId}:
 * {userId}` / `DEDUPE` per person and channel, expiring (TTL) an interval after the refusal.
 */
export const ACCESS_REFUSAL_SCOPE = "access-refusal";

/** What {@link gateByAccess} needs. */
export interface AccessGateDeps {
  lists: AccessLists;
  /** The refusal marks (conditional put with TTL; released when posting the refusal fails). */
  marks: Pick<DedupeStore, "claim" | "release">;
  replier: Replier;
  logger: Logger;
}

/** A job the gate did not run. `told`: the refusal was posted now (else within the interval). */
export interface AccessRefused {
  outcome: "refused";
  missingFrom: AccessDenial;
  told: boolean;
}

/**
 * Runs `run` for jobs the allowlists admit, and refuses the others: the first refused job of a
 * user in a channel claims a mark (conditional write, lifetime one interval) and posts the
 * refusal where the answer would have gone; later ones within the interval are dropped
 * silently. Jobs of the agent's own `chat` tool pass: who may call it is decided by
 * `KADI_TRUSTED_AGENTS`; so do the local console's (`web-console`). With no list configured
 * every job runs.
 *
 * @throws the mark store's or the replier's error, so the queue redelivers the job; a mark
 *   claimed for a refusal that could not be posted is released first, so the redelivery
 *   tells the person instead of staying silent.
 */
export function gateByAccess<R>(
  deps: AccessGateDeps,
  run: (job: ChatJob) => Promise<R>,
): (job: ChatJob) => Promise<R | AccessRefused> {
  const { lists } = deps;
  if (!lists.slackTeams && !lists.channels && !lists.users) return run;
  return async (job) => {
    // The console is the operator's own (127.0.0.1 and a per-start token), like the chat tool's
    // callers are decided by KADI_TRUSTED_AGENTS.
    if (job.source.kind === "kadi-tool" || job.source.kind === "web-console") return run(job);
    const subject = accessSubjectOf(job);
    const decision = decideAccess(lists, subject);
    if (decision.allowed) return run(job);
    const { missingFrom } = decision;
    const markId = `${subject.platform}:${subject.channelId}:${subject.userId}`;
    const told = await deps.marks.claim(
      ACCESS_REFUSAL_SCOPE,
      markId,
      ACCESS_REFUSAL_INTERVAL_MS / 1000,
    );
    if (told) {
      try {
        await deps.replier.post(job.reply, refusalText(subject, missingFrom));
      } catch (error) {
        await deps.marks.release(ACCESS_REFUSAL_SCOPE, markId).catch((releaseError: unknown) =>
          deps.logger.error("could not release a refusal mark; the retry stays silent", {
            jobId: job.jobId,
            releaseError,
          }),
        );
        throw error;
      }
    }
    deps.logger.info("chat job refused by the allowlists", {
      jobId: job.jobId,
      platform: subject.platform,
      missingFrom,
      told,
    });
    return { outcome: "refused", missingFrom, told };
  };
}
