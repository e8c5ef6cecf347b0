/**
 * Who may talk to the agent: the optional allowlists `ALLOWED_SLACK_TEAMS`, `ALLOWED_CHANNELS`
 * and `ALLOWED_USERS` (README, "Who may talk to the agent"), and the pure decision over them.
 * Enforced twice: the Discord webhook refuses `/ask` and `/model` at once with a message only
 * the user sees, and the chat worker refuses every other job before any model call or memory
 * write (`./access-gate.ts`).
 */
import type { Config } from "../config";
import type { Platform } from "../constants/platforms";
import type { ChatJob } from "./job";

/** The allowlists as configured; an absent list admits everyone. */
export type AccessLists = Config["access"];

/** Whose message it is: the platform's own ids. */
export interface AccessSubject {
  platform: Platform;
  channelId: string;
  userId: string;
  /**
   * Slack workspace (`team_id` of the Events API envelope); unknown for mentions relayed by a
   * KĀDI broker (its events carry no team) and for Discord.
   */
  slackTeamId?: string | undefined;
}

/** Which list a subject is missing from. */
export type AccessDenial = "team" | "channel" | "user";

/** The verdict on one subject. */
export type AccessDecision = { allowed: true } | { allowed: false; missingFrom: AccessDenial };

/**
 * Decides whether `subject` may talk to the agent: every configured list must name it (the
 * team list only applies to Slack). A Slack message whose workspace is unknown (relayed by a
 * KĀDI broker) passes the team list only when `ALLOWED_CHANNELS` names its channel: Slack
 * channel ids are unique across workspaces, and an allowlist admits only what it can see.
 * Pure.
 */
export function decideAccess(lists: AccessLists, subject: AccessSubject): AccessDecision {
  const channelListed = lists.channels?.includes(subject.channelId) ?? false;
  if (subject.platform === "slack" && lists.slackTeams) {
    const teamListed = subject.slackTeamId
      ? lists.slackTeams.includes(subject.slackTeamId)
      : channelListed;
    if (!teamListed)
      return { allowed: false, missingFrom: subject.slackTeamId ? "team" : "channel" };
  }
  if (lists.channels && !channelListed) {
    return { allowed: false, missingFrom: "channel" };
  }
  if (lists.users && !lists.users.includes(subject.userId)) {
    return { allowed: false, missingFrom: "user" };
  }
  return { allowed: true };
}

/** The subject of a chat job: its conversation, plus the Slack team the webhook saw. */
export function accessSubjectOf(job: ChatJob): AccessSubject {
  return {
    ...job.conversation,
    slackTeamId: job.source.kind === "slack-events" ? job.source.teamId : undefined,
  };
}

/**
 * The short, polite refusal, naming what an operator would add and where. It quotes only ids
 * the platform gave us (never message text).
 */
export function refusalText(subject: AccessSubject, missingFrom: AccessDenial): string {
  const ask = "Ask the person who runs me to add";
  switch (missingFrom) {
    case "team":
      return `Sorry, I'm not enabled in this workspace. ${ask} it (${subject.slackTeamId}) to ALLOWED_SLACK_TEAMS.`;
    case "channel":
      return `Sorry, I'm not enabled in this channel. ${ask} it (${subject.channelId}) to ALLOWED_CHANNELS.`;
    case "user":
      return `Sorry, I'm not enabled for you. ${ask} you (${subject.userId}) to ALLOWED_USERS.`;
  }
}
