import * as z from "zod";
import type { ReplyTarget } from "../../chat/job";
import type { Replier } from "../../chat/replier";
import { splitMessage } from "../../chat/split";
import { readAddress } from "../address";
import { DISCORD_MAX_MESSAGE_CHARS } from "./limits";
import { type DiscordRestOptions, discordRequest } from "./rest";

/** A `via: "direct"` Discord address: the interaction whose deferred response is answered. */
const directAddressSchema = z.object({
  applicationId: z.string().min(1),
  interactionToken: z.string().min(1),
});

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
  constructor(private readonly rest: DiscordRestOptions) {}

  /**
   * @returns the id of the `@original` message.
   * @throws {InvalidReplyAddressError} for an address without the interaction's ids.
   * @throws {RangeError} when `text` is blank (Discord rejects empty messages).
   * @throws {DiscordApiError} when a call fails (see {@link discordRequest}).
   */
  async post(target: ReplyTarget, text: string): Promise<{ messageId: string }> {
    const { applicationId, interactionToken } = readAddress(
      directAddressSchema,
      target.address,
      "discord address",
    );
    const [first, ...rest] = splitMessage(text, DISCORD_MAX_MESSAGE_CHARS);
    if (first === undefined) throw new RangeError("cannot post an empty Discord message");
    const webhook = `/webhooks/${applicationId}/${encodeURIComponent(interactionToken)}`;
    const original = await discordRequest<DiscordMessage>(this.rest, {
      method: "PATCH",
      path: `${webhook}/messages/@original`,
      route: "/webhooks/{application_id}/{token}/messages/@original",
      body: message(first),
    });
    for (const chunk of rest) {
      await discordRequest<DiscordMessage>(this.rest, {
        method: "POST",
        path: webhook,
        route: "/webhooks/{application_id}/{token}",
        body: message(chunk),
      });
    }
    return { messageId: original.id };
  }
}

function message(content: string) {
  return { content, allowed_mentions: { parse: [] } };
}
