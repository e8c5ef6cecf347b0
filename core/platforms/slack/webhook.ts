/**
 * Slack's Events API webhook, `POST /slack/events`
 * (https://api.slack.com/apis/events-api#receiving-events), as steps of the shared ingress
 * pipeline (`core/ingress/pipeline.ts`).
 */
import type { ChatJob } from "../../chat/job";
import type { Config } from "../../config";
import {
  type LogKeys,
  refuse,
  retryLater,
  type Webhook,
  type WebhookRoute,
} from "../../ingress/pipeline";
import type { IngressResponse } from "../../ingress/types";
import { describeIssue } from "../../ingress/zod-issue";
import type { ThreadRef } from "../../memory/threads";
import { once } from "../../resilience/once";
import type { WebhookServices } from "../adapter";
import type { SlackAssistantThreads } from "./assistant";
import {
  routeSlackEnvelope,
  type SlackEnvelope,
  type SlackThread,
  slackEnvelopeSchema,
} from "./events";
import { verifySlackRequest } from "./verify";

/** Dedupe scope of Slack `event_id`s. */
export const SLACK_EVENT_SCOPE = "slack-event";

const SUPPORTED_TYPES = new Set(["url_verification", "event_callback", "app_rate_limited"]);

/**
 * The Slack events webhook: verify the `v0` signature on the raw body, answer the
 * `url_verification` handshake, dedupe by `event_id` (conditional write), enqueue a chat job,
 * and ack with 200. Slack retries (`X-Slack-Retry-Num`) go through the same path, so a retry
 * of an event we already queued is acked without a second job, while a retry of one we failed
 * to queue is queued now.
 *
 * The routing is `routeSlackEnvelope`'s (pure); this shell adds the I/O it asks for. A
 * person's reply in a channel thread without a mention is looked up (`services.threads.joined`,
 * one GetItem) and queued only if the agent took part (the worker marks a thread when it
 * answers there, `SlackReplier.open`), else acked as ignored. `assistant_thread_started` sets the thread's title and
 * suggested prompts through the Web API (`./assistant.ts`, loaded on that event only), once per
 * `event_id`; without `SLACK_BOT_TOKEN`, or when a call fails, it is logged and acked.
 *
 * Statuses: 200 handled or deliberately ignored (including events of unknown types, events
 * without `event_id`, and mentions or DMs whose fields have another type than documented: a
 * 4xx counts toward Slack's failure limit, which disables the app's events); 400 only for a
 * body that is not JSON, not a JSON object, has no string `type`, or is a `url_verification`
 * without `challenge`, for an id or text longer than Slack sends (`event_id`, `team_id`, the
 * event's ids and `ts` over 64 characters, `text` over 40 000; see `routeSlackEnvelope`), or a
 * message that makes no valid job (the error names the field in each case); 401 bad, stale or
 * missing signature; 503 Slack not configured (`SLACK_SIGNING_SECRET` unset), or
 * `dedupe_unavailable` / `queue_unavailable` with `Retry-After` when the dedupe store or the
 * queue failed (the dedupe mark is released first, so Slack's retry, which a 5xx asks for, is
 * accepted), or `store_unavailable` when a follow-up's thread mark could not be read.
 */
export function slackWebhook(
  config: Pick<Config, "slack">,
  services: Pick<WebhookServices, "threads">,
): Webhook<SlackEnvelope> {
  const { signingSecret, botUserId, botToken, apiUrl, suggestedPrompts } = config.slack;
  // Its chunk (the Web API client) is loaded on the first assistant_thread_started only.
  const assistant =
    botToken &&
    once(async () => {
      const { SlackAssistantThreads } = await import("./assistant");
      return new SlackAssistantThreads({ botToken, apiUrl, prompts: suggestedPrompts });
    });
  /** The job route of `eventId`, with the answers and log keys every Slack job shares. */
  const enqueue = (eventId: string, job: ChatJob, retryNum: string | undefined): WebhookRoute => ({
    action: "enqueue",
    id: eventId,
    job,
    answers: { queued: ok({ ok: true }), duplicate: ok({ ok: true, duplicate: true }) },
    keys: { eventId, retryNum },
  });
  return {
    name: "slack event",
    scope: SLACK_EVENT_SCOPE,
    verify: (request, nowSeconds) => verifySlackRequest(signingSecret, request, nowSeconds),
    parse: parseEnvelope,
    async route(envelope, request) {
      const route = routeSlackEnvelope(envelope, botUserId);
      const retryNum = request.headers("x-slack-retry-num");
      switch (route.action) {
        case "challenge":
          return { action: "respond", response: ok({ challenge: route.challenge }) };
        case "ignore":
          return {
            action: "respond",
            response: ok({ ok: true, ignored: route.reason }),
            log: { level: "debug", outcome: "ignored", reason: route.reason },
          };
        case "unreadable":
          // Acked all the same: Slack would retry a 4xx in vain and count it toward disabling
          // the app.
          return {
            action: "respond",
            response: ok({ ok: true, ignored: route.reason }),
            log: {
              level: "warn",
              outcome: "unreadable",
              reason: route.reason,
              keys: { eventId: eventIdOf(envelope) },
            },
          };
        case "refuse":
          // Slack never sends such a field (its ids are about 11 characters, its texts end at
          // 40 000), so no real traffic counts toward the failure limit; a 400 says what is wrong.
          return {
            action: "respond",
            response: { status: 400, body: { error: route.error } },
            log: {
              level: "warn",
              outcome: "refused",
              reason: route.error,
              keys: { eventId: eventIdOf(envelope) },
            },
          };
        case "enqueue":
          return enqueue(route.eventId, route.job, retryNum);
        case "enqueue_if_thread_joined": {
          const { eventId, job, thread } = route;
          let joined: boolean;
          try {
            joined = await services.threads.joined(threadRef(thread));
          } catch (cause) {
            const keys = { eventId, retryNum };
            return { action: "unavailable", error: "store_unavailable", cause, keys };
          }
          if (!joined) {
            return {
              action: "respond",
              response: ok({ ok: true, ignored: "thread not joined" }),
              log: { level: "debug", outcome: "ignored", reason: "thread not joined" },
            };
          }
          return enqueue(eventId, job, retryNum);
        }
        case "set_up_assistant_thread": {
          const keys = { eventId: route.eventId, retryNum };
          if (!assistant) {
            return {
              action: "respond",
              response: ok({ ok: true, ignored: "slack_bot_token_not_set" }),
              log: {
                level: "warn",
                outcome: "ignored",
                reason: "assistant thread not set up: SLACK_BOT_TOKEN is not set",
                keys,
              },
            };
          }
          return {
            action: "once",
            id: route.eventId,
            work: () => setUpAssistantThread(assistant, route.thread),
            duplicate: ok({ ok: true, duplicate: true }),
            keys,
          };
        }
      }
    },
    unavailable: retryLater,
  };
}

/**
 * Sets up an assistant thread and answers 200 whatever happens: Slack shows the thread all the
 * same, and a 5xx would only make it retry. Each call's outcome (`ok` or an error code) joins
 * the log line, at `warn` when one failed.
 */
async function setUpAssistantThread(
  assistant: () => Promise<SlackAssistantThreads>,
  thread: SlackThread,
): Promise<{ response: IngressResponse; keys: LogKeys; level: "info" | "warn" }> {
  try {
    const { outcomes, failed } = await (await assistant()).setUp(thread);
    return { response: ok({ ok: true }), keys: outcomes, level: failed ? "warn" : "info" };
  } catch {
    // Only loading the client's chunk can throw here; setUp itself never does.
    return { response: ok({ ok: true }), keys: { setUp: "client_unavailable" }, level: "warn" };
  }
}

function threadRef(thread: SlackThread): ThreadRef {
  return { platform: "slack", channelId: thread.channel, threadId: thread.threadTs };
}

function eventIdOf(envelope: SlackEnvelope): string | undefined {
  return envelope.type === "event_callback" ? (envelope.event_id ?? undefined) : undefined;
}

function ok(body: unknown) {
  return { status: 200, body };
}

/**
 * Refuses only what is truly malformed: not JSON, not a JSON object, no string `type`, or a
 * `url_verification` without its `challenge`. Other types are acked as `unsupported_type`:
 * Slack adds envelope types over time, and acking keeps it from retrying what we cannot use.
 */
function parseEnvelope(rawBody: string) {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return refuse(400, "malformed_json");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return refuse(400, "invalid_envelope: body must be a JSON object");
  }
  const type = (json as { type?: unknown }).type;
  if (typeof type !== "string" || type === "") {
    return refuse(400, "invalid_envelope: type must be a non-empty string");
  }
  if (!SUPPORTED_TYPES.has(type)) {
    return {
      ok: false as const,
      response: ok({ ok: true, ignored: "unsupported_type" }),
      reason: "unsupported_type",
      level: "debug" as const,
    };
  }
  const parsed = slackEnvelopeSchema.safeParse(json);
  if (!parsed.success) return refuse(400, `invalid_envelope: ${describeIssue(parsed.error)}`);
  return { ok: true as const, value: parsed.data };
}
