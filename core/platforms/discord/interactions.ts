/**
 * Discord interaction payloads and the pure decision of what to do with one.
 *
 * Formats: https://discord.com/developers/docs/interactions/receiving-and-responding
 * (interaction object, interaction response object).
 */
import {
  InteractionResponseFlags,
  InteractionResponseType,
  InteractionType,
} from "discord-interactions";
import * as z from "zod";
import type { ChatJob } from "../../chat/job";
import { TOKEN_MAX_CHARS } from "../../constants/limits";
import { describeIssue } from "../../ingress/zod-issue";
import { MODEL_ALIASES, resolveModel } from "../../llm/models";
import type { ConversationRef } from "../../memory/table/keys";
import { ASK_COMMAND, FORGET_COMMAND, MODEL_COMMAND } from "./commands";
import {
  DISCORD_MAX_COMMAND_NAME_CHARS,
  DISCORD_MAX_OPTION_VALUE_CHARS,
  DISCORD_MAX_OPTIONS,
} from "./limits";

import { snowflakeTime } from "./snowflake";

const snowflake = z.string().regex(/^\d{1,20}$/, "must be a snowflake");

const userSchema = z.object({ id: snowflake });

/**
 * One top-level option of a slash command as sent (`name`, `type`, `value`), within Discord's
 * documented bounds (a name of at most 32 characters, a string value of at most 6000).
 * Sub-command options (`options`) are not read: none of our commands has sub-commands.
 */
const commandOptionSchema = z.object({
  name: z.string().max(DISCORD_MAX_COMMAND_NAME_CHARS),
  type: z.number().int(),
  value: z
    .union([z.string().max(DISCORD_MAX_OPTION_VALUE_CHARS), z.number(), z.boolean()])
    .nullish(),
});

/**
 * `data` of an `APPLICATION_COMMAND` interaction (application command data structure): a name
 * of 1–32 characters and at most 25 options.
 */
const commandDataSchema = z.object({
  name: z.string().min(1).max(DISCORD_MAX_COMMAND_NAME_CHARS),
  options: z.array(commandOptionSchema).max(DISCORD_MAX_OPTIONS).nullish(),
});

/**
 * The interaction object fields this agent reads. Unknown fields are ignored (Discord adds
 * fields over time), and every optional field may be absent or `null`: `member` and
 * `guild_id` are sent in guilds and `user` in DMs; `channel_id` is deprecated in favour of the
 * partial `channel`, so either is accepted.
 */
export const interactionSchema = z.object({
  id: snowflake,
  application_id: snowflake,
  type: z.number().int(),
  /** Continuation token for the interaction webhook, valid 15 minutes. */
  token: z.string().min(1).max(TOKEN_MAX_CHARS),
  /** Kept loose: `data` differs by interaction type; commands are parsed further. */
  data: z.unknown().optional(),
  guild_id: snowflake.nullish(),
  channel_id: snowflake.nullish(),
  channel: z.object({ id: snowflake }).nullish(),
  member: z.object({ user: userSchema }).nullish(),
  user: userSchema.nullish(),
  /** The message a pressed component is on (type 3 only); its text is kept when settled. */
  message: z.object({ content: z.string().max(4000).nullish() }).nullish(),
});

/** See {@link interactionSchema}. */
export type Interaction = z.infer<typeof interactionSchema>;

/** An interaction response (the body of our HTTP 200 answer). */
export type InteractionResponse =
  | { type: InteractionResponseType.PONG }
  | { type: InteractionResponseType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE }
  | {
      type: InteractionResponseType.CHANNEL_MESSAGE_WITH_SOURCE;
      data: {
        content: string;
        flags: InteractionResponseFlags.EPHEMERAL;
        allowed_mentions: { parse: [] };
      };
    }
  | {
      type: InteractionResponseType.APPLICATION_COMMAND_AUTOCOMPLETE_RESULT;
      data: { choices: { name: string; value: string }[] };
    };

/** `{type: 1}`: the answer to a PING. */
export const PONG: InteractionResponse = { type: InteractionResponseType.PONG };

/** `{type: 5}`: "thinking…" now, the answer edits `@original` later. */
export const DEFERRED: InteractionResponse = {
  type: InteractionResponseType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
};

/**
 * `{type: 8, data: {choices: []}}`: the answer to autocomplete. No option of ours declares
 * autocomplete, so a request for it comes from a stale registration; no suggestions leaves the
 * user typing freely, where an error would show "loading options failed".
 */
export const NO_CHOICES: InteractionResponse = {
  type: InteractionResponseType.APPLICATION_COMMAND_AUTOCOMPLETE_RESULT,
  data: { choices: [] },
};

/** Ephemeral text for a button press or modal submission: the agent sends neither. */
export const NOT_SUPPORTED_MESSAGE =
  "Buttons and forms are not supported by this bot. Use /ask, /forget or /model.";

/**
 * A message only the invoking user sees (type 4, flag 64). Mentions never ping: the content
 * may quote user input.
 */
export function ephemeral(content: string): InteractionResponse {
  return {
    type: InteractionResponseType.CHANNEL_MESSAGE_WITH_SOURCE,
    data: { content, flags: InteractionResponseFlags.EPHEMERAL, allowed_mentions: { parse: [] } },
  };
}

/** What the ingress should do with one verified interaction. */
export type InteractionRoute =
  /** Answer at once, with no side effect (PING, or an ephemeral error the user can fix). */
  | { action: "respond"; response: InteractionResponse; reason?: string }
  /** `/ask`: dedupe, enqueue `job`, answer {@link DEFERRED}. */
  | { action: "ask"; interactionId: string; job: ChatJob }
  /** `/forget`: dedupe, clear `conversation`, answer what was removed. */
  | { action: "forget"; interactionId: string; conversation: ConversationRef }
  /** `/model`: dedupe, store `model` (normalised alias or id) as the user's preference. */
  | { action: "set-model"; interactionId: string; userId: string; model: string; resolved: string }
  /** Malformed for its type: answer 400 with `error`. */
  | { action: "reject"; error: string };

/**
 * Text of the ephemeral answer to an unknown model name, listing the aliases; the name is
 * quoted up to 64 characters, so the answer stays within Discord's 2000.
 */
export function unknownModelMessage(name: string): string {
  const shown = name.length <= 64 ? name : `${name.slice(0, 64)}…`;
  return `\`${shown}\` is not a model I can route. Use an alias (${Object.keys(MODEL_ALIASES)
    .map((a) => `\`${a}\``)
    .join(", ")}) or a \`claude…\`, \`gpt…\` or \`o1…/o3…/o4…\` model id.`;
}

/**
 * Decides what one verified interaction means. Pure: no I/O, no clock.
 *
 * - PING (type 1) → `respond` {@link PONG}.
 * - Autocomplete (type 4) → `respond` {@link NO_CHOICES}; a button press (type 3) or a modal
 *   submission (type 5) → `respond` with the ephemeral {@link NOT_SUPPORTED_MESSAGE}.
 * - `/ask prompt:<text> [model:<name>]` → `ask` with a {@link ChatJob}. The `model` option is
 *   passed as a leading `[model-id] ` directive in `job.text`: the turn already takes the model
 *   from `parseModelDirective(job.text)` (before the user's preference) and stores the text
 *   without the directive, so `/ask model:haiku` behaves exactly like typing `[haiku]` in
 *   Slack, with no second way of naming a model in the job contract. An unroutable name is
 *   answered with an ephemeral error instead (it would otherwise stay in the text verbatim).
 * - `/forget` → `forget` for the caller's conversation in that channel.
 * - `/model name:<name>` → `set-model`, or an ephemeral error listing the aliases.
 * - An unknown command name (stale registration) → an ephemeral hint.
 * - Interaction types Discord has not defined, or a command without channel/user → `reject`.
 */
export function routeInteraction(interaction: Interaction): InteractionRoute {
  switch (interaction.type) {
    case InteractionType.PING:
      return { action: "respond", response: PONG };
    case InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE:
      return { action: "respond", response: NO_CHOICES, reason: "autocomplete" };
    // A 4xx would show the user "This interaction failed"; a sentence says what to do instead.
    case InteractionType.MESSAGE_COMPONENT:
    case InteractionType.MODAL_SUBMIT:
      return {
        action: "respond",
        response: ephemeral(NOT_SUPPORTED_MESSAGE),
        reason: "unsupported_interaction_type",
      };
  }
  if (interaction.type !== InteractionType.APPLICATION_COMMAND) {
    return { action: "reject", error: `unsupported_interaction_type: ${interaction.type}` };
  }
  const data = commandDataSchema.safeParse(interaction.data);
  if (!data.success) {
    return {
      action: "reject",
      error: `invalid_command_data: ${describeIssue(data.error, "data", ["data"])}`,
    };
  }
  const channelId = interactionChannelId(interaction);
  const userId = interaction.member?.user.id ?? interaction.user?.id;
  if (!channelId) return { action: "reject", error: "invalid_interaction: channel missing" };
  if (!userId)
    return { action: "reject", error: "invalid_interaction: member.user and user missing" };
  const conversation: ConversationRef = { platform: "discord", channelId, userId };
  const options = data.data.options ?? [];

  switch (data.data.name) {
    case ASK_COMMAND: {
      const prompt = stringOption(options, "prompt")?.trim();
      if (!prompt) return { action: "reject", error: "invalid_command_data: prompt missing" };
      const modelName = stringOption(options, "model")?.trim();
      let text = prompt;
      if (modelName) {
        const resolved = resolveModel(modelName);
        if (!resolved) {
          return {
            action: "respond",
            response: ephemeral(unknownModelMessage(modelName)),
            reason: "unknown_model",
          };
        }
        text = `[${resolved.model}] ${prompt}`;
      }
      return {
        action: "ask",
        interactionId: interaction.id,
        job: {
          v: 2,
          jobId: `discord-interaction:${interaction.id}`,
          source: { kind: "discord-interaction", interactionId: interaction.id },
          conversation,
          text,
          sentAt: snowflakeTime(interaction.id),
          // Edit `@original` of the deferred response, then follow-ups, through the
          // interaction webhook; the token is valid for 15 minutes after the interaction.
          reply: {
            platform: "discord",
            via: "direct",
            address: {
              applicationId: interaction.application_id,
              interactionToken: interaction.token,
              channelId,
            },
          },
        },
      };
    }
    case FORGET_COMMAND:
      return { action: "forget", interactionId: interaction.id, conversation };
    case MODEL_COMMAND: {
      const name = stringOption(options, "name")?.trim().toLowerCase();
      if (!name) return { action: "reject", error: "invalid_command_data: name missing" };
      const resolved = resolveModel(name);
      if (!resolved) {
        return {
          action: "respond",
          response: ephemeral(unknownModelMessage(name)),
          reason: "unknown_model",
        };
      }
      return {
        action: "set-model",
        interactionId: interaction.id,
        userId,
        model: name,
        resolved: resolved.model,
      };
    }
    default:
      return {
        action: "respond",
        response: ephemeral(
          `I don't know \`/${data.data.name}\`. My commands are /${ASK_COMMAND}, /${FORGET_COMMAND} and /${MODEL_COMMAND}.`,
        ),
        reason: "unknown_command",
      };
  }
}

/** The channel an interaction was sent from: the partial `channel`, else `channel_id`. */
export function interactionChannelId(interaction: Interaction): string | undefined {
  return interaction.channel?.id ?? interaction.channel_id ?? undefined;
}

/** The ephemeral answer to a finished `/forget`. */
export function forgetMessage(removed: { messages: number; summaries: number }): string {
  if (removed.messages === 0 && removed.summaries === 0) {
    return "There was nothing to forget: we have no conversation in this channel.";
  }
  const messages = `${removed.messages} message${removed.messages === 1 ? "" : "s"}`;
  const summaries = `${removed.summaries} archived ${removed.summaries === 1 ? "summary" : "summaries"}`;
  return `Forgotten: ${messages} and ${summaries} of our conversation in this channel.`;
}

/** The ephemeral answer to a stored `/model` preference. */
export function modelSetMessage(model: string, resolved: string): string {
  const shown = model === resolved ? `\`${model}\`` : `\`${model}\` (${resolved})`;
  return `Your model is now ${shown}. A \`[model]\` in a message or /ask's model option still wins for that message.`;
}

function stringOption(
  options: z.infer<typeof commandOptionSchema>[],
  name: string,
): string | undefined {
  const value = options.find((o) => o.name === name)?.value;
  return typeof value === "string" ? value : undefined;
}
