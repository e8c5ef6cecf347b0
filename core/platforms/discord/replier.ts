import * as z from "zod";
import type { ReplyTarget } from "../../chat/job";
import type { ApprovalPrompt, Replier } from "../../chat/replier";
import { STREAMING } from "../../constants/timings";
import { openEditedReply } from "../../reply/edited-reply";
import {
  bufferedLiveReply,
  type LiveReply,
  type LiveReplyJob,
  type ReplyLedger,
} from "../../reply/live-reply";
import { splitMessage } from "../../reply/split";
import { readAddress } from "../address";
import { approvalButtons } from "./components";
import { DISCORD_MAX_MESSAGE_CHARS } from "./limits";
import { type DiscordRestOptions, discordRequest } from "./rest";

/**
 * A `via: "direct"` Discord address: the interaction whose deferred response is answered, and
 * its channel (where a bot token can still speak once the interaction token has expired).
 */
const directAddressSchema = z.object({
  applicationId: z.string().min(1),
  interactionToken: z.string().min(1),
  channelId: z.string().min(1).optional(),
});
type DirectAddress = z.infer<typeof directAddressSchema>;

/** What the person is told in the channel when a job starts after its token expired. */
export const TOO_LATE_NOTE =
  "Sorry, I could not answer your /ask in time: Discord only lets me reply for 15 minutes. " +
  "Please ask again.";

/** Options of {@link DiscordInteractionReplier} besides the REST base. */
export interface DiscordReplierOptions {
  /** Where each job's follow-up ids are recorded, so a redelivery edits them. */
  ledger: ReplyLedger;
  /**
   * REST options carrying `Authorization: Bot …` (`DISCORD_BOT_TOKEN`), for the channel
   * message of a job that starts too late; absent: that is only logged.
   */
  bot?: DiscordRestOptions | undefined;
  /** Told about a job that starts too late, or a ledger write that failed. Must not throw. */
  warn: (message: string, fields: Record<string, unknown>) => void;
  /** Epoch-ms clock; default `Date.now`. */
  now?: () => number;
}

/** The message object fields we read from Discord's answers. */
interface DiscordMessage {
  id: string;
}

/**
 * Answers `/ask` through the interaction webhook
 * (https://discord.com/developers/docs/interactions/receiving-and-responding#followup-messages):
 * the first chunk replaces the deferred "thinking…" response with
 * `PATCH /webhooks/{application_id}/{token}/messages/@original`, each further chunk is a
 * follow-up `POST /webhooks/{application_id}/{token}`. The interaction token authorises these
 * calls, so no bot token is involved; it is valid for 15 minutes after the interaction.
 *
 * Mentions in the answer never ping (`allowed_mentions: {parse: []}`): the text comes from a
 * model and may echo `@everyone`. A rate limit of up to 2 s is waited out; a longer one, or any
 * other failure, throws {@link DiscordApiError} so the queue redelivers the job. Editing
 * `@original` again on redelivery is harmless; follow-ups posted before a failure are posted
 * again.
 */
export class DiscordInteractionReplier implements Replier {
  constructor(
    private readonly rest: DiscordRestOptions,
    private readonly options: DiscordReplierOptions,
  ) {}

  /**
   * Opens the live reply of `job`: the deferred "thinking…" already shows, so text arriving is
   * shown by editing `@original` at most once per `STREAMING.editIntervalMs` (Discord allows 5
   * edits per 5 s per message), continuing in follow-ups past 2000 characters; follow-up ids go
   * to the ledger, and a redelivery edits the messages it finds there. A job that starts when
   * less than `STREAMING.discordTokenMarginMs` of the token's 15 minutes is left gets an
   * `expired` reply: the person is told in the channel when a bot token is configured, else
   * the job is only logged.
   * @throws {InvalidReplyAddressError} for an address without the interaction's ids; the
   *   ledger's error when it cannot be read.
   */
  async open(target: ReplyTarget, job: LiveReplyJob): Promise<LiveReply> {
    const address = readAddress(directAddressSchema, target.address, "discord address");
    const now = this.options.now ?? Date.now;
    const left = job.sentAt + STREAMING.discordTokenMs - now();
    if (left < STREAMING.discordTokenMarginMs) return this.tooLate(address.channelId, job);
    const webhook = this.webhook(address);
    const earlier = await this.options.ledger.read(job.jobId);
    return openEditedReply({
      editor: {
        create: async (text) => (await webhook.create(message(text))).id,
        edit: async (id, text) => {
          await webhook.edit(id, message(text));
        },
      },
      maxChars: DISCORD_MAX_MESSAGE_CHARS,
      intervalMs: STREAMING.editIntervalMs,
      existing: earlier.length > 0 ? earlier : [ORIGINAL],
      record: (ids) => this.options.ledger.write(job.jobId, ids),
      onRecordError: (error) =>
        this.options.warn("reply ledger not written; a redelivery may post again", {
          jobId: job.jobId,
          error,
        }),
      now,
    });
  }

  /** The `expired` reply of a job whose interaction token is (nearly) spent. */
  private async tooLate(channelId: string | undefined, job: LiveReplyJob): Promise<LiveReply> {
    const bot = this.options.bot;
    if (bot && channelId) {
      await discordRequest<DiscordMessage>(bot, {
        method: "POST",
        path: `/channels/${encodeURIComponent(channelId)}/messages`,
        route: "/channels/{channel_id}/messages",
        body: message(TOO_LATE_NOTE),
      });
    }
    this.options.warn("interaction token expired before the job started; not answered", {
      jobId: job.jobId,
      toldInChannel: Boolean(bot && channelId),
    });
    return { ...bufferedLiveReply(async () => ({ messageId: "" })), state: "expired" };
  }

  /**
   * @returns the id of the `@original` message.
   * @throws {InvalidReplyAddressError} for an address without the interaction's ids.
   * @throws {RangeError} when `text` is blank (Discord rejects empty messages).
   * @throws {DiscordApiError} when a call fails (see {@link discordRequest}).
   */
  async post(target: ReplyTarget, text: string): Promise<{ messageId: string }> {
    const webhook = this.webhook(target);
    const [first, ...rest] = splitMessage(text, DISCORD_MAX_MESSAGE_CHARS);
    if (first === undefined) throw new RangeError("cannot post an empty Discord message");
    const original = await webhook.edit(ORIGINAL, message(first));
    for (const chunk of rest) await webhook.create(message(chunk));
    return { messageId: original.id };
  }

  /** Discord direct replies can show buttons (message components on `/discord/interactions`). */
  canAskApproval(target: ReplyTarget): boolean {
    return target.via === "direct";
  }

  /**
   * Posts the Approve / Deny buttons as a follow-up through the interaction webhook: the
   * question, who may decide and until when (`<t:…:R>`), and an action row (type 1) of two
   * buttons (type 2; style 3 success, 4 danger) whose `custom_id` is `tool_approve:{id}` /
   * `tool_deny:{id}` (https://discord.com/developers/docs/interactions/message-components).
   * Mentions never ping.
   * @returns the follow-up's message id.
   * @throws {InvalidReplyAddressError} for an address without the interaction's ids;
   *   {@link DiscordApiError} when the call fails.
   */
  async askApproval(target: ReplyTarget, prompt: ApprovalPrompt): Promise<{ messageId: string }> {
    const question = `Approve **${prompt.toolName}**? ${prompt.summary}`;
    const footer = `\nOnly <@${prompt.requesterUserId}> can decide · expires <t:${Math.floor(prompt.expiresAt / 1000)}:R>`;
    const posted = await this.webhook(target).create({
      ...message(`${question.slice(0, DISCORD_MAX_MESSAGE_CHARS - footer.length)}${footer}`),
      components: [approvalButtons(prompt.approvalId)],
    });
    return { messageId: posted.id };
  }

  /**
   * Edits the buttons follow-up `messageId` to `text` with no components left.
   * @throws {InvalidReplyAddressError} for an address without the interaction's ids;
   *   {@link DiscordApiError} when the call fails.
   */
  async settleApproval(target: ReplyTarget, messageId: string, text: string): Promise<void> {
    await this.webhook(target).edit(messageId, {
      ...message(text.slice(0, DISCORD_MAX_MESSAGE_CHARS)),
      components: [],
    });
  }

  /**
   * The messages of the interaction webhook `/webhooks/{application_id}/{token}` of a direct
   * address (or of the target carrying one): `create` posts a follow-up, `edit` patches
   * `@original` or a follow-up by id; each answers the message object.
   * @throws {InvalidReplyAddressError} for a target without the interaction's ids.
   */
  private webhook(at: ReplyTarget | DirectAddress) {
    const { applicationId, interactionToken } =
      "address" in at ? readAddress(directAddressSchema, at.address, "discord address") : at;
    const path = `/webhooks/${applicationId}/${encodeURIComponent(interactionToken)}`;
    return {
      create: (body: unknown) =>
        discordRequest<DiscordMessage>(this.rest, {
          method: "POST",
          path,
          route: "/webhooks/{application_id}/{token}",
          body,
        }),
      edit: (id: string, body: unknown) =>
        discordRequest<DiscordMessage>(this.rest, {
          method: "PATCH",
          ...(id === ORIGINAL
            ? {
                path: `${path}/messages/${ORIGINAL}`,
                route: "/webhooks/{application_id}/{token}/messages/@original",
              }
            : {
                path: `${path}/messages/${encodeURIComponent(id)}`,
                route: "/webhooks/{application_id}/{token}/messages/{message_id}",
              }),
          body,
        }),
    };
  }
}

/** The interaction's first message, addressed by this alias instead of an id. */
const ORIGINAL = "@original";

function message(content: string) {
  return { content, allowed_mentions: { parse: [] } };
}
