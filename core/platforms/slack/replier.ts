import { WebClient } from "@slack/web-api";
import * as z from "zod";
import type { ReplyTarget } from "../../chat/job";
import type { ApprovalPrompt, Replier } from "../../chat/replier";
import { APPROVAL_ACTIONS } from "../../constants/platforms";
import type { ThreadParticipationStore } from "../../memory/threads";
import type { LiveReply, LiveReplyJob, ReplyLedger } from "../../reply/live-reply";
import { splitMessage } from "../../reply/split";
import { readAddress } from "../address";
import { SLACK_MAX_MESSAGE_CHARS } from "./limits";
import { openSlackLiveReply, type SlackReplyPlace, slackEditor } from "./live-reply";

/**
 * A `via: "direct"` Slack address: the channel, the thread when answering in one, and the
 * workspace and person asking (a stream outside a DM is shown to them:
 * `recipient_team_id` / `recipient_user_id` of `chat.startStream`).
 */
const directAddressSchema = z.object({
  channel: z.string().min(1),
  threadTs: z.string().min(1).optional(),
  teamId: z.string().min(1).optional(),
  userId: z.string().min(1).optional(),
});

/** Where a direct reply goes. @throws {InvalidReplyAddressError} without `channel`. */
function replyPlace(target: ReplyTarget): SlackReplyPlace {
  return readAddress(directAddressSchema, target.address, "slack address");
}

/** Options of {@link SlackReplier}. */
export interface SlackReplierOptions {
  botToken: string;
  /** `SLACK_API_URL`, ending in `/`. */
  apiUrl: string;
  /** Per-call timeout, ms; default 10 000. */
  timeoutMs?: number;
  /** Where each job's posted messages are recorded (see `openSlackLiveReply`). */
  ledger: ReplyLedger;
  /** Told about failures that do not stop a reply. Must not throw. */
  warn: (message: string, fields: Record<string, unknown>) => void;
  /**
   * Where the channel threads the agent answered in are marked, so a person's follow-ups there
   * are answered without a new mention (`ThreadParticipationStore`). Absent: no marks.
   */
  threads?: Pick<ThreadParticipationStore, "join"> | undefined;
}

/**
 * Slack replies through the official `@slack/web-api` client (`chat.postMessage`,
 * https://api.slack.com/methods/chat.postMessage). The base URL comes from `SLACK_API_URL` so
 * tests and self-hosted proxies can stand in for Slack. The client's own retry policy is
 * limited to two quick retries, and a 429 is not waited out (`rejectRateLimitedCalls`): the
 * queue's redelivery is the long-term retry, and a Lambda must not sleep through a
 * `Retry-After` of many seconds. Texts go out as `markdown_text`, so the model's Markdown
 * renders. Live replies stream (see `openSlackLiveReply`).
 */
export class SlackReplier implements Replier {
  private readonly client: WebClient;
  private readonly options: SlackReplierOptions;
  // Channels that refused `chat.startStream`, for this container's life.
  private readonly refusedChannels = new Set<string>();

  constructor(options: SlackReplierOptions) {
    this.options = options;
    this.client = new WebClient(options.botToken, {
      slackApiUrl: options.apiUrl,
      timeout: options.timeoutMs ?? 10_000,
      retryConfig: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 2_000 },
      rejectRateLimitedCalls: true,
    });
  }

  /**
   * Posts `text` in chunks of at most {@link SLACK_MAX_MESSAGE_CHARS}, in the thread when the
   * address names one.
   * @returns the `ts` of the first message.
   * @throws {InvalidReplyAddressError} for an address without `channel`; the Web API's error
   *   when a call fails (earlier chunks stay posted).
   */
  async post(target: ReplyTarget, text: string): Promise<{ messageId: string }> {
    const { channel, threadTs } = replyPlace(target);
    const editor = slackEditor(this.client, channel, threadTs);
    let first: string | undefined;
    for (const chunk of splitMessage(text, SLACK_MAX_MESSAGE_CHARS)) {
      first ??= await editor.create(chunk);
    }
    if (!first) throw new Error("chat.postMessage returned no ts");
    return { messageId: first };
  }

  /**
   * Opens the live reply of `job` (see `openSlackLiveReply`). Once a reply in a channel thread
   * is finished, the thread is marked (`threads`), extending the 30 days in which follow-ups
   * there are answered without a mention; a failed mark is logged, never fails the reply.
   * @throws {InvalidReplyAddressError} for an address without `channel`; the Web API's or the
   *   ledger's error when the opening call fails.
   */
  async open(target: ReplyTarget, job: LiveReplyJob): Promise<LiveReply> {
    const place = replyPlace(target);
    const reply = await openSlackLiveReply(place, job, {
      client: this.client,
      ledger: this.options.ledger,
      refusedChannels: this.refusedChannels,
      warn: this.options.warn,
    });
    const { threads } = this.options;
    const { threadTs, channel } = place;
    // Direct messages are answered without a mention anyway; channel threads need the mark.
    if (!threads || !threadTs || channel.startsWith("D")) return reply;
    return {
      // Everything but `finish` is the reply's own, so a method added to LiveReply passes through.
      ...reply,
      finish: async (text) => {
        const posted = await reply.finish(text);
        try {
          await threads.join({ platform: "slack", channelId: channel, threadId: threadTs });
        } catch (error) {
          this.options.warn("thread not marked; follow-ups there need a mention", {
            jobId: job.jobId,
            error,
          });
        }
        return posted;
      },
    };
  }

  /** Slack direct replies can show buttons (`block_actions` on `/slack/interactions`). */
  canAskApproval(target: ReplyTarget): boolean {
    return target.via === "direct";
  }

  /**
   * Posts the Approve / Deny buttons in the job's thread (`chat.postMessage` with `blocks`,
   * https://api.slack.com/reference/block-kit/blocks#actions): a section saying what will run
   * (plain text: the summary may quote the person's words and must not mention anyone), who
   * may decide and until when, and an `actions` block whose buttons carry `action_id`
   * `tool_approve` / `tool_deny` and the approval id as `value`; `text` is the notification's
   * fallback.
   * @returns the `ts` of the message.
   * @throws {InvalidReplyAddressError} for an address without `channel`; the Web API's error.
   */
  async askApproval(target: ReplyTarget, prompt: ApprovalPrompt): Promise<{ messageId: string }> {
    const { channel, threadTs } = replyPlace(target);
    const question = approvalQuestion(prompt);
    const result = await this.client.chat.postMessage({
      channel,
      ...(threadTs ? { thread_ts: threadTs } : {}),
      text: question,
      blocks: [
        { type: "section", text: { type: "plain_text", text: question, emoji: false } },
        {
          type: "context",
          elements: [
            {
              type: "mrkdwn",
              text: `Only <@${prompt.requesterUserId}> can decide · expires <!date^${Math.floor(prompt.expiresAt / 1000)}^{time}|in a few minutes>`,
            },
          ],
        },
        {
          type: "actions",
          block_id: "approval",
          elements: [
            button("Approve", APPROVAL_ACTIONS.approve, prompt.approvalId, "primary"),
            button("Deny", APPROVAL_ACTIONS.deny, prompt.approvalId, "danger"),
          ],
        },
      ],
    });
    if (!result.ts) throw new Error("chat.postMessage returned no ts");
    return { messageId: result.ts };
  }

  /**
   * Replaces the buttons message with `text` and no blocks (`chat.update` with `blocks: []`:
   * "To remove previous blocks, include an empty array", https://api.slack.com/methods/chat.update).
   * @throws {InvalidReplyAddressError} for an address without `channel`; the Web API's error.
   */
  async settleApproval(target: ReplyTarget, messageId: string, text: string): Promise<void> {
    const { channel } = replyPlace(target);
    await this.client.chat.update({ channel, ts: messageId, text, blocks: [] });
  }
}

/** Longest section text Slack takes (https://api.slack.com/reference/block-kit/blocks#section). */
const SECTION_TEXT_MAX_CHARS = 3000;

/** "Approve ssh_execute? ssh_execute on build: uptime", within a section's 3000 characters. */
function approvalQuestion(prompt: ApprovalPrompt): string {
  return `Approve ${prompt.toolName}? ${prompt.summary}`.slice(0, SECTION_TEXT_MAX_CHARS);
}

function button(label: string, actionId: string, value: string, style: "primary" | "danger") {
  return {
    type: "button" as const,
    text: { type: "plain_text" as const, text: label },
    action_id: actionId,
    value,
    style,
  };
}
