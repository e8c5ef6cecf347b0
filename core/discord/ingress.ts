import type { Logger } from "@aws-lambda-powertools/logger";
import { validateChatJob } from "../chat/job";
import type { IngressResponse, RawRequest } from "../ingress";
import { type DedupeStore, runOnce } from "../memory/dedupe";
import type { PreferenceStore } from "../memory/preferences";
import type { ConversationRef } from "../memory/table/keys";
import type { ChatJobSink } from "../queue/chat-queue";
import {
  DEFERRED,
  ephemeral,
  forgetMessage,
  type Interaction,
  interactionSchema,
  modelSetMessage,
  routeInteraction,
} from "./interactions";
import type { InteractionVerifier } from "./verify";

/** Clears one conversation; resolves to how many messages and summaries were removed. */
export type ForgetConversation = (
  ref: ConversationRef,
) => Promise<{ messages: number; summaries: number }>;

/** What the Discord interactions endpoint needs, built once per container. */
export interface DiscordIngressDeps {
  /**
   * Checks `X-Signature-Ed25519` / `X-Signature-Timestamp`; built from `DISCORD_PUBLIC_KEY`
   * with `createInteractionVerifier`. When absent the endpoint answers 503.
   */
  verifier?: InteractionVerifier;
  dedupe: DedupeStore;
  queue: ChatJobSink;
  preferences: Pick<PreferenceStore, "put">;
  /** Backs `/forget`. */
  forget: ForgetConversation;
  logger: Logger;
  /** Epoch milliseconds. */
  now: () => number;
}

/** Dedupe scope of Discord interaction ids. */
export const DISCORD_INTERACTION_SCOPE = "discord-interaction";

/** Ephemeral text when storage or the queue fails; the user may simply run the command again. */
export const UNAVAILABLE_MESSAGE =
  "Sorry, I can't do that right now (my storage or queue is unavailable). Please try again in a minute.";

/** Ephemeral text for a second delivery of a `/forget` or `/model` interaction. */
export const DUPLICATE_MESSAGE = "This command was already handled.";

/**
 * Handles one POST to `/discord/interactions`: verify the Ed25519 signature on the raw body,
 * answer PING with PONG, and route application commands (see `routeInteraction`): `/ask` is
 * deduplicated by interaction id (conditional write), enqueued as a chat job and answered with
 * a deferred response (type 5) at once; `/forget` and `/model` do their work inline (one or a
 * few DynamoDB calls, well inside Discord's 3 s) and answer with an ephemeral message. They are
 * deduplicated too, so a replayed interaction cannot clear a conversation twice. Autocomplete
 * (type 4) is answered with no choices (type 8), button presses and modal submissions (types 3
 * and 5) with an ephemeral "not supported" message: a 4xx would show "This interaction failed".
 *
 * Statuses: 200 with an interaction response; 400 malformed JSON or payload, or an interaction
 * type Discord has not defined (with the reason naming the field);
 * 401 missing, malformed, stale or bad signature (Discord probes this with bad signatures and
 * removes endpoints that accept them); 503 Discord not configured. When the dedupe store, the
 * queue or the preference/conversation store fails, the dedupe mark is released and the answer
 * is still 200, with an ephemeral apology: Discord never retries an interaction, so a 5xx would
 * only show the user "interaction failed", while the apology says what to do. Never throws.
 */
export async function handleDiscordInteraction(
  deps: DiscordIngressDeps,
  request: RawRequest,
): Promise<IngressResponse> {
  const { logger } = deps;
  if (!deps.verifier) {
    logger.warn("discord interaction refused: DISCORD_PUBLIC_KEY is not set");
    return { status: 503, body: { error: "discord_not_configured" } };
  }
  const verified = await deps.verifier({
    rawBody: request.rawBody,
    signature: request.headers("x-signature-ed25519"),
    timestamp: request.headers("x-signature-timestamp"),
    nowSeconds: Math.floor(deps.now() / 1000),
  });
  if (!verified.ok) {
    logger.warn("discord interaction refused: signature", { reason: verified.reason });
    return { status: 401, body: { error: verified.reason } };
  }

  const parsed = parseInteraction(request.rawBody);
  if (!parsed.ok) {
    logger.warn("discord interaction refused: body", { reason: parsed.error });
    return { status: 400, body: { error: parsed.error } };
  }
  const interaction = parsed.value;
  const route = routeInteraction(interaction);
  const logKeys = {
    interactionId: interaction.id,
    type: interaction.type,
    command: (interaction.data as { name?: unknown } | undefined)?.name,
  };

  switch (route.action) {
    case "respond":
      if (route.reason)
        logger.info("discord interaction answered", { ...logKeys, reason: route.reason });
      return { status: 200, body: route.response };
    case "reject":
      logger.warn("discord interaction refused: payload", { ...logKeys, reason: route.error });
      return { status: 400, body: { error: route.error } };
    case "ask": {
      // The job crosses a trust boundary (the queue); what is enqueued must parse on the other side.
      const job = validateChatJob(route.job);
      if (!job.ok) {
        logger.warn("discord interaction refused: job", { ...logKeys, reason: job.error });
        return { status: 400, body: { error: job.error } };
      }
      return once(deps, logKeys, DEFERRED, async () => {
        await deps.queue.enqueue(job.job);
        logger.info("discord interaction queued", { ...logKeys, jobId: job.job.jobId });
        return DEFERRED;
      });
    }
    case "forget":
      return once(deps, logKeys, ephemeral(DUPLICATE_MESSAGE), async () => {
        const removed = await deps.forget(route.conversation);
        logger.info("discord conversation forgotten", { ...logKeys, ...removed });
        return ephemeral(forgetMessage(removed));
      });
    case "set-model":
      return once(deps, logKeys, ephemeral(DUPLICATE_MESSAGE), async () => {
        await deps.preferences.put("discord", route.userId, "model", route.model);
        logger.info("discord model preference stored", { ...logKeys, model: route.model });
        return ephemeral(modelSetMessage(route.model, route.resolved));
      });
  }
}

/**
 * Claims the interaction id, then runs `work`. A duplicate gets `duplicate`; a failure of the
 * claim or of `work` gets {@link UNAVAILABLE_MESSAGE}, with the mark released after a failed
 * `work` so that nothing is left half-claimed.
 */
async function once(
  deps: DiscordIngressDeps,
  logKeys: { interactionId: string } & Record<string, unknown>,
  duplicate: unknown,
  work: () => Promise<unknown>,
): Promise<IngressResponse> {
  const { logger } = deps;
  const outcome = await runOnce(
    deps.dedupe,
    DISCORD_INTERACTION_SCOPE,
    logKeys.interactionId,
    work,
  );
  switch (outcome.status) {
    case "done":
      return { status: 200, body: outcome.value };
    case "duplicate":
      logger.info("discord interaction duplicate", logKeys);
      return { status: 200, body: duplicate };
    case "claim_failed":
      logger.error("discord interaction dedupe failed", { ...logKeys, error: outcome.error });
      return { status: 200, body: ephemeral(UNAVAILABLE_MESSAGE) };
    case "work_failed":
      logger.error("discord interaction failed; dedupe mark released", {
        ...logKeys,
        error: outcome.error,
        releaseError: outcome.releaseError,
      });
      return { status: 200, body: ephemeral(UNAVAILABLE_MESSAGE) };
  }
}

function parseInteraction(
  rawBody: string,
): { ok: true; value: Interaction } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return { ok: false, error: "malformed_json" };
  }
  const parsed = interactionSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return {
      ok: false,
      error:
        `invalid_interaction: ${first?.path.join(".") || "body"} ${first?.message ?? ""}`.trim(),
    };
  }
  return { ok: true, value: parsed.data };
}
