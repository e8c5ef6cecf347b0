/**
 * Discord's interactions endpoint, `POST /discord/interactions`
 * (https://discord.com/developers/docs/interactions/receiving-and-responding), as steps of the
 * shared ingress pipeline (`core/ingress/pipeline.ts`).
 */
import { InteractionType } from "discord-interactions";
import { type AccessLists, decideAccess, refusalText } from "../../chat/access";
import type { Config } from "../../config";
import { parseJsonBody, refuse, type Webhook, type WebhookRoute } from "../../ingress/pipeline";
import type { IngressResponse } from "../../ingress/types";
import type { WebhookServices } from "../adapter";
import { decideClick, decidedLine } from "../approval-click";
import { pressReplyTarget, readComponentPress, settledMessage } from "./components";
import {
  DEFERRED,
  ephemeral,
  forgetMessage,
  type Interaction,
  interactionChannelId,
  interactionSchema,
  modelSetMessage,
  routeInteraction,
} from "./interactions";
import { snowflakeTime } from "./snowflake";
import { createInteractionVerifier } from "./verify";

/** Dedupe scope of Discord interaction ids. */
export const DISCORD_INTERACTION_SCOPE = "discord-interaction";

/** Ephemeral text when storage or the queue fails; the user may simply run the command again. */
export const UNAVAILABLE_MESSAGE =
  "Sorry, I can't do that right now (my storage or queue is unavailable). Please try again in a minute.";

/** Ephemeral text for a second delivery of a `/forget` or `/model` interaction. */
export const DUPLICATE_MESSAGE = "This command was already handled.";

/**
 * The Discord interactions webhook: verify the Ed25519 signature on the raw body (with the
 * application's `DISCORD_PUBLIC_KEY`), answer PING with PONG, and route application commands
 * (see `routeInteraction`): `/ask` is deduplicated by interaction id (conditional write),
 * enqueued as a chat job and answered with a deferred response (type 5) at once; `/forget` and
 * `/model` do their work inline (one or a few DynamoDB calls, well inside Discord's 3 s) and
 * answer with an ephemeral message. They are deduplicated too, so a replayed interaction
 * cannot clear a conversation twice. Autocomplete (type 4) is answered with no choices (type
 * 8), modal submissions (type 5) and presses of buttons other than ours with an ephemeral "not
 * supported" message: a 4xx would show "This interaction failed". A press of a pending tool
 * call's Approve / Deny (`custom_id` `tool_approve:{id}` / `tool_deny:{id}`, type 3) records the
 * presser's decision (`services.approvals`; only the requester, once), enqueues the resume job
 * (`approval:{id}`, answered by editing the press's `@original`) and settles the buttons'
 * message (type 7, no components); a refused press (not the requester, decided, expired) gets
 * an ephemeral reason, and a decision that could not be queued is reopened. `/ask` and `/model` from someone the
 * allowlists leave out (`core/chat/access.ts`) get an ephemeral refusal at once, every time
 * (Discord needs an answer, and only that person sees it); nothing is queued or stored.
 *
 * Statuses: 200 with an interaction response; 400 malformed JSON or payload, or an interaction
 * type Discord has not defined (with the reason naming the field); 401 missing, malformed,
 * stale or bad signature (Discord probes this with bad signatures and removes endpoints that
 * accept them); 503 Discord not configured. When the dedupe store, the queue or the
 * preference/conversation store fails, the dedupe mark is released and the answer is still
 * 200, with an ephemeral apology: Discord never retries an interaction, so a 5xx would only
 * show the user "interaction failed", while the apology says what to do.
 */
export function discordWebhook(
  config: Pick<Config, "discord" | "access">,
  services: WebhookServices,
): Webhook<Interaction> {
  const { publicKey } = config.discord;
  const verifier = publicKey ? createInteractionVerifier(publicKey) : undefined;
  return {
    name: "discord interaction",
    scope: DISCORD_INTERACTION_SCOPE,
    async verify(request, nowSeconds) {
      if (!verifier) {
        return {
          ...refuse(503, "discord_not_configured"),
          reason: "DISCORD_PUBLIC_KEY is not set",
        };
      }
      const verified = await verifier({
        rawBody: request.rawBody,
        signature: request.headers("x-signature-ed25519"),
        timestamp: request.headers("x-signature-timestamp"),
        nowSeconds,
      });
      return verified.ok ? verified : refuse(401, verified.reason);
    },
    parse: (rawBody) => parseJsonBody(rawBody, interactionSchema, "invalid_interaction"),
    route: (interaction) =>
      interaction.type === InteractionType.MESSAGE_COMPONENT
        ? routePress(interaction, services, config.access)
        : routeCommand(interaction, services, config.access),
    unavailable: () => ok(ephemeral(UNAVAILABLE_MESSAGE)),
  };
}

/**
 * A button press: an Approve / Deny of a pending tool call is recorded (only the requester's,
 * once) and its resume job enqueued, answering with the buttons' message settled (type 7);
 * a refused press gets an ephemeral sentence. Any other component goes the commands' way.
 */
async function routePress(
  interaction: Interaction,
  services: WebhookServices,
  lists: AccessLists,
): Promise<WebhookRoute> {
  const press = readComponentPress(interaction);
  if (press.action === "other") return routeCommand(interaction, services, lists);
  const keys = { interactionId: interaction.id, type: interaction.type };
  if (press.action === "reject") {
    return {
      action: "respond",
      response: { status: 400, body: { error: press.error } },
      log: { level: "warn", outcome: "refused", reason: press.error, keys },
    };
  }
  const { approvalId, decision } = press;
  const outcome = await decideClick(services.approvals, press, {
    reply: pressReplyTarget(interaction),
    sentAt: snowflakeTime(interaction.id),
  });
  const clickKeys = { ...keys, approvalId, decision };
  if (!outcome.ok) {
    if (outcome.reason === "unavailable") {
      return {
        action: "unavailable",
        error: "store_unavailable",
        cause: outcome.cause,
        keys: clickKeys,
      };
    }
    return {
      action: "respond",
      response: ok(ephemeral(outcome.text)),
      log: { level: "info", outcome: "refused", reason: outcome.reason, keys: clickKeys },
    };
  }
  const settled = ok(
    settledMessage(interaction.message?.content ?? undefined, decidedLine(decision, press.userId)),
  );
  return {
    action: "enqueue",
    id: outcome.job.jobId,
    job: outcome.job,
    answers: { queued: settled, duplicate: settled },
    keys: clickKeys,
    onNotQueued: async () => {
      await services.approvals.reopen(approvalId);
    },
  };
}

function routeCommand(
  interaction: Interaction,
  services: WebhookServices,
  lists: AccessLists,
): WebhookRoute {
  const route = routeInteraction(interaction);
  const keys = {
    interactionId: interaction.id,
    type: interaction.type,
    command: commandName(interaction),
  };
  // Someone the allowlists leave out is told at once, only they see it, and nothing is queued
  // or stored. `/forget` stays open: it only deletes what the caller already stored.
  if (route.action === "ask" || route.action === "set-model") {
    const subject =
      route.action === "ask"
        ? route.job.conversation
        : {
            platform: "discord" as const,
            // routeInteraction rejects a command without a channel, so there is one.
            channelId: interactionChannelId(interaction) ?? "",
            userId: route.userId,
          };
    const decision = decideAccess(lists, subject);
    if (!decision.allowed) {
      return {
        action: "respond",
        response: ok(ephemeral(refusalText(subject, decision.missingFrom))),
        log: {
          level: "info",
          outcome: "refused",
          reason: `not in the ${decision.missingFrom} allowlist`,
          keys,
        },
      };
    }
  }
  // A command answered inline, once per interaction id; a replay is told it was handled.
  const command = (work: Extract<WebhookRoute, { action: "once" }>["work"]): WebhookRoute => ({
    action: "once",
    id: interaction.id,
    duplicate: ok(ephemeral(DUPLICATE_MESSAGE)),
    keys,
    work,
  });
  switch (route.action) {
    case "respond":
      return {
        action: "respond",
        response: ok(route.response),
        ...(route.reason
          ? {
              log: {
                level: "info" as const,
                outcome: "answered" as const,
                reason: route.reason,
                keys,
              },
            }
          : {}),
      };
    case "reject":
      return {
        action: "respond",
        response: { status: 400, body: { error: route.error } },
        log: { level: "warn", outcome: "refused", reason: route.error, keys },
      };
    case "ask":
      return {
        action: "enqueue",
        id: interaction.id,
        job: route.job,
        answers: { queued: ok(DEFERRED), duplicate: ok(DEFERRED) },
        keys,
      };
    case "forget":
      return command(async () => {
        const removed = await services.forget(route.conversation);
        return { response: ok(ephemeral(forgetMessage(removed))), keys: removed };
      });
    case "set-model":
      return command(async () => {
        await services.preferences.put("discord", route.userId, "model", route.model);
        return {
          response: ok(ephemeral(modelSetMessage(route.model, route.resolved))),
          keys: { model: route.model },
        };
      });
  }
}

/** The command's name for the log, only when it looks like one (never a raw payload value). */
function commandName(interaction: Interaction): string | undefined {
  const name = (interaction.data as { name?: unknown } | undefined)?.name;
  return typeof name === "string" && /^[\w-]{1,32}$/.test(name) ? name : undefined;
}

function ok(body: unknown): IngressResponse {
  return { status: 200, body };
}
