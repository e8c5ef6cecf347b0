/**
 * Broker chat events in: the one path both the listener's socket deliveries and
 * `POST /kadi/events` take from a delivery to a queued chat job, through the shared ingress
 * pipeline (`core/ingress/pipeline.ts`).
 */

import { loggableOrShape } from "../ingress/log-fields";
import {
  admitJob,
  type PipelineDeps,
  parseJsonBody,
  refuse,
  retryLater,
  type Webhook,
} from "../ingress/pipeline";
import { verifyKadiCallback } from "./callback";
import { type KadiRouting, kadiDeliverySchema, routeKadiDelivery } from "./events";

/** What accepting deliveries needs, built once per container. */
export interface KadiIngressDeps extends PipelineDeps {
  /** `KADI_CALLBACK_SECRET`; when absent `POST /kadi/events` answers 503. */
  callbackSecret?: string | undefined;
  /** The platforms a broker relays, and the bot's user id on each. */
  routing: KadiRouting;
}

/** Dedupe scope of KĀDI chat events, shared by the socket and the HTTP callback. */
export const KADI_EVENT_SCOPE = "kadi-event";

const SOURCE = { name: "kadi event", scope: KADI_EVENT_SCOPE };

/** What became of one delivery. */
export type DeliveryOutcome =
  | { outcome: "queued"; jobId: string }
  | { outcome: "duplicate"; jobId: string }
  | { outcome: "ignored"; reason: string }
  | { outcome: "invalid"; error: string }
  /** The dedupe store or the queue failed; the mark was released so a redelivery is taken. */
  | { outcome: "failed"; error: "dedupe_unavailable" | "queue_unavailable" };

/**
 * Routes one delivery (see `routeKadiDelivery`), claims its dedupe mark (conditional write
 * under {@link KADI_EVENT_SCOPE}), and enqueues the job. A delivery seen before, through either
 * path and on any network, is a `duplicate` and enqueues nothing. When enqueueing fails the mark
 * is released, so a redelivery is accepted rather than dropped. Never throws; failures are
 * logged with the ids and returned as `failed`.
 */
export async function acceptDelivery(
  deps: KadiIngressDeps,
  delivery: { channel: string; data: unknown },
): Promise<DeliveryOutcome> {
  const { logger } = deps;
  const channel = loggableOrShape(delivery.channel);
  const route = routeKadiDelivery(delivery, deps.routing, deps.now());
  if (route.action === "ignore") {
    logger.debug("kadi event ignored", { channel, reason: route.reason });
    return { outcome: "ignored", reason: route.reason };
  }
  if (route.action === "invalid") {
    // The reason names a field and its expected type; the payload's values never reach the log.
    logger.warn("kadi event refused", {
      channel,
      eventId: route.eventId,
      reason: route.error,
    });
    return { outcome: "invalid", error: `invalid_event: ${route.error}` };
  }
  return admitJob(deps, SOURCE, {
    id: route.dedupeId,
    job: route.job,
    keys: { channel: delivery.channel, dedupeId: route.dedupeId },
  });
}

/**
 * `POST /kadi/events` (body `{channel, data}` as in `kadi.event.delivery`, docs/architecture.md
 * "Platforms and transports"): verify the HMAC signature on the raw body
 * (`X-Kadi-Request-Timestamp`, `X-Kadi-Signature`), then {@link acceptDelivery}.
 *
 * Statuses: 200 queued, duplicate or deliberately ignored (body says which); 400 malformed JSON,
 * not `{channel, data}`, or an unusable chat event on a mention channel; 401 bad, stale or
 * missing signature; 503 `KADI_CALLBACK_SECRET` unset, or `dedupe_unavailable` /
 * `queue_unavailable` with `Retry-After` when the dedupe store or queue failed (safe to resend).
 */
export function kadiWebhook(deps: KadiIngressDeps): Webhook<{ channel: string; data: unknown }> {
  return {
    ...SOURCE,
    verify(request, nowSeconds) {
      if (!deps.callbackSecret) {
        return {
          ...refuse(503, "kadi_callback_not_configured"),
          reason: "KADI_CALLBACK_SECRET is not set",
        };
      }
      const verified = verifyKadiCallback({
        secret: deps.callbackSecret,
        rawBody: request.rawBody,
        headers: request.headers,
        nowSeconds,
      });
      return verified.ok ? verified : refuse(401, verified.reason);
    },
    parse: (rawBody) => parseJsonBody(rawBody, kadiDeliverySchema, "invalid_delivery"),
    route(delivery) {
      const route = routeKadiDelivery(delivery, deps.routing, deps.now());
      switch (route.action) {
        case "ignore":
          return {
            action: "respond",
            response: { status: 200, body: { ok: true, ignored: route.reason } },
            log: {
              level: "debug",
              outcome: "ignored",
              reason: route.reason,
              keys: { channel: delivery.channel },
            },
          };
        case "invalid":
          return {
            action: "respond",
            response: { status: 400, body: { error: `invalid_event: ${route.error}` } },
            log: {
              level: "warn",
              outcome: "refused",
              reason: route.error,
              keys: { channel: delivery.channel, eventId: route.eventId },
            },
          };
        case "enqueue":
          return {
            action: "enqueue",
            id: route.dedupeId,
            job: route.job,
            answers: {
              queued: { status: 200, body: { ok: true } },
              duplicate: { status: 200, body: { ok: true, duplicate: true } },
            },
            keys: { channel: delivery.channel, dedupeId: route.dedupeId },
          };
      }
    },
    unavailable: retryLater,
  };
}
