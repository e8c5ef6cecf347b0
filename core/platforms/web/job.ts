/**
 * The local console's platform, `web` (docs/architecture.md, "Local console"): what a person
 * types into the console page or `npm run chat`, as a {@link ChatJob}. It has no webhook and
 * no KĀDI binding: only the local stack builds these jobs, behind its per-start token.
 */
import { randomUUID } from "node:crypto";
import * as z from "zod";
import type { ChatJob } from "../../chat/job";
import { MESSAGE_TEXT_MAX_CHARS, PLATFORM_ID_MAX_CHARS } from "../../constants/limits";
import { resolveModel } from "../../llm/models";
import type { ConversationRef } from "../../memory/table/keys";
import { readAddress } from "../address";

/** Who talks when the console names nobody. */
export const WEB_DEFAULT_USER = "me";

/** The channel of a console conversation that names none. */
export const WEB_DEFAULT_CHANNEL = "console";

/**
 * A console user or channel name: letters, digits, `.`, `_`, `-`, up to
 * `PLATFORM_ID_MAX_CHARS`. No `#`: conversation keys and summary ids join ids with it.
 */
const webId = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9._-]+$/, "must be letters, digits, '.', '_' or '-'")
  .max(PLATFORM_ID_MAX_CHARS);

/** Whose conversation a console request is about: `user` and `channel`, defaulted. */
export const webConversationSchema = z.object({
  user: webId.default(WEB_DEFAULT_USER),
  channel: webId.default(WEB_DEFAULT_CHANNEL),
});

/** A console conversation: who and where (see {@link webConversationSchema}). */
export type WebConversation = z.infer<typeof webConversationSchema>;

/** Body of `POST /console/api/messages`: the text, and whose conversation it joins. */
export const webMessageSchema = webConversationSchema.extend({
  text: z.string().trim().min(1).max(MESSAGE_TEXT_MAX_CHARS),
});

/** Body of `POST /console/api/model`: the model preference to store (an alias or id). */
export const webModelSchema = webConversationSchema.extend({
  model: z
    .string()
    .trim()
    .min(1)
    .refine((m) => resolveModel(m) !== undefined, { error: "is not a known model or alias" }),
});

/** The memory key of a console conversation (platform `web`). */
export function webConversationRef(c: WebConversation): ConversationRef {
  return { platform: "web", channelId: c.channel, userId: c.user };
}

/**
 * A console message as a chat job answered by the web replier (`via: "direct"`, address
 * `{user, channel}`). The job id, `web:{channel}:{uuid}`, is new for every message: a console
 * request is never redelivered by a sender, so there is nothing to dedupe.
 * @param nowMs - when the message was sent, epoch ms.
 */
export function webChatJob(message: z.infer<typeof webMessageSchema>, nowMs: number): ChatJob {
  return {
    v: 2,
    jobId: `web:${message.channel}:${randomUUID()}`,
    source: { kind: "web-console" },
    conversation: webConversationRef(message),
    text: message.text,
    sentAt: nowMs,
    reply: {
      platform: "web",
      via: "direct",
      address: { user: message.user, channel: message.channel },
    },
  };
}

const addressSchema = z.object({ user: webId, channel: webId });

/**
 * The console conversation a reply goes to.
 * @throws {InvalidReplyAddressError} when the address lacks `user` or `channel`.
 */
export function webReplyConversation(address: Record<string, string>): WebConversation {
  return readAddress(addressSchema, address, "web reply address");
}
