/**
 * The Approve / Deny buttons of a pending tool call on Discord: message components
 * (https://discord.com/developers/docs/interactions/message-components) whose `custom_id` is
 * `tool_approve:{approvalId}` or `tool_deny:{approvalId}`, pressed as a `MESSAGE_COMPONENT`
 * interaction (type 3), and the interaction responses that answer the press.
 */
import {
  type ActionRow,
  type Button,
  ButtonStyleTypes,
  InteractionResponseType,
  MessageComponentTypes,
} from "discord-interactions";
import * as z from "zod";
import type { ApprovalDecision } from "../../agent/approvals";
import type { ReplyTarget } from "../../chat/job";
import { APPROVAL_ACTIONS } from "../../constants/platforms";
import { describeIssue } from "../../ingress/zod-issue";
import { type Interaction, interactionChannelId } from "./interactions";
import { DISCORD_MAX_MESSAGE_CHARS } from "./limits";

/** `data` of a `MESSAGE_COMPONENT` interaction: a `custom_id` of at most 100 characters. */
const componentDataSchema = z.object({
  custom_id: z.string().min(1).max(100),
  component_type: z.number().int(),
});

/** What a component press means. */
export type ComponentPress =
  | { action: "approval"; approvalId: string; decision: ApprovalDecision; userId: string }
  /** Not one of our approval buttons. */
  | { action: "other" }
  /** Malformed: answer 400 with `error` (names the field). */
  | { action: "reject"; error: string };

/**
 * The action row (type 1) of the Approve / Deny buttons (type 2; style 3 success, 4 danger) of
 * approval `approvalId` (https://discord.com/developers/docs/components/reference#button).
 */
export function approvalButtons(approvalId: string): ActionRow {
  const button = (decision: ApprovalDecision, label: string, style: ButtonStyle): Button => ({
    type: MessageComponentTypes.BUTTON,
    style,
    label,
    custom_id: approvalCustomId(decision, approvalId),
  });
  return {
    type: MessageComponentTypes.ACTION_ROW,
    components: [
      button("approve", "Approve", ButtonStyleTypes.SUCCESS),
      button("deny", "Deny", ButtonStyleTypes.DANGER),
    ],
  };
}

type ButtonStyle = ButtonStyleTypes.SUCCESS | ButtonStyleTypes.DANGER;

/**
 * The `custom_id` of a button: `tool_approve:{approvalId}` / `tool_deny:{approvalId}`; with a
 * UUID approval id, 49 of Discord's 100 characters.
 */
function approvalCustomId(decision: ApprovalDecision, approvalId: string): string {
  return `${APPROVAL_ACTIONS[decision]}:${approvalId}`;
}

/** Reads a `MESSAGE_COMPONENT` interaction (type 3). Pure. */
export function readComponentPress(interaction: Interaction): ComponentPress {
  const data = componentDataSchema.safeParse(interaction.data);
  if (!data.success) {
    return {
      action: "reject",
      error: `invalid_component_data: ${describeIssue(data.error, "data", ["data"])}`,
    };
  }
  const [prefix, approvalId] = splitOnce(data.data.custom_id);
  const decision =
    prefix === APPROVAL_ACTIONS.approve
      ? "approve"
      : prefix === APPROVAL_ACTIONS.deny
        ? "deny"
        : undefined;
  if (!decision) return { action: "other" };
  if (!approvalId) {
    return { action: "reject", error: "invalid_component_data: data.custom_id has no approval id" };
  }
  const userId = interaction.member?.user.id ?? interaction.user?.id;
  if (!userId) {
    return { action: "reject", error: "invalid_interaction: member.user and user missing" };
  }
  return { action: "approval", approvalId, decision, userId };
}

/**
 * Where the resumed turn answers: the press's own interaction (its token is valid 15 minutes
 * from the press, where the `/ask` token may be nearly spent); `@original` of a component
 * interaction is the message with the buttons.
 */
export function pressReplyTarget(interaction: Interaction): ReplyTarget {
  const channelId = interactionChannelId(interaction);
  return {
    platform: "discord",
    via: "direct",
    address: {
      applicationId: interaction.application_id,
      interactionToken: interaction.token,
      ...(channelId ? { channelId } : {}),
    },
  };
}

/**
 * `{type: 7}` (UPDATE_MESSAGE): the message with the buttons becomes its text plus `line`, with
 * no components left, so nobody presses again. Mentions never ping.
 */
export function settledMessage(promptText: string | undefined, line: string) {
  const room = DISCORD_MAX_MESSAGE_CHARS - line.length - 2;
  const prompt = (promptText ?? "").slice(0, Math.max(0, room));
  return {
    type: InteractionResponseType.UPDATE_MESSAGE,
    data: {
      content: prompt ? `${prompt}\n\n${line}` : line,
      components: [],
      allowed_mentions: { parse: [] },
    },
  } as const;
}

function splitOnce(customId: string): [string, string] {
  const at = customId.indexOf(":");
  return at < 0 ? [customId, ""] : [customId.slice(0, at), customId.slice(at + 1)];
}
