/**
 * Broker chat events in: the one path both the listener's socket deliveries and
 * `POST /kadi/events` take from a delivery to a queued {@link ChatJob}.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { validateChatJob } from "../chat/job";
import type { IngressResponse, RawRequest } from "../ingress";
import { type DedupeStore, runOnce } from "../memory/dedupe";
import type { ChatJobSink } from "../queue/chat-queue";
import { verifyKadiCallback } from "./callback";
import { type KadiBotIds, kadiDeliverySchema, routeKadiDelivery } from "./events";

/** What accepting deliveries needs, built once per container. */
export interface KadiIngressDeps {
  /** `KADI_CALLBACK_SECRET`; when absent `POST /kadi/events` answers 503. */
  callbackSecret?: string | undefined;
  /** The bot's user ids, naming the mention channels and its own messages. */
  bots: KadiBotIds;
  dedupe: DedupeStore;
  queue: ChatJobSink;
  logger: Logger;
  /** Epoch milliseconds. */
  now: () => number;
}

/** Dedupe scope of KĀDI chat events, shared by the socket and the HTTP callback. */
export const KADI_EVENT_SCOPE = "kadi-event";

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
 * logged here with the ids and returned as `failed`.
 */
export async function acceptDelivery(
  deps: KadiIngressDeps,
  delivery: { channel: string; data: unknown },
): Promise<DeliveryOutcome> {
  const { logger } = deps;
  const route = routeKadiDelivery(delivery, deps.bots, deps.now());
  if (route.action === "ignore") {
    logger.debug("kadi event ignored", { channel: delivery.channel, reason: route.reason });
    return { outcome: "ignored", reason: route.reason };
  }
  if (route.action === "invalid") {
    // The reason names a field and its expected type; the payload's values never reach the log.
    logger.warn("kadi event refused", {
      channel: delivery.channel,
      eventId: route.eventId,
      reason: route.error,
    });
    return { outcome: "invalid", error: `invalid_event: ${route.error}` };
  }
  // The job crosses a trust boundary (the queue); what is enqueued must parse on the other side.
  const job = validateChatJob(route.job);
  if (!job.ok) {
    logger.warn("kadi event refused: job", { channel: delivery.channel, reason: job.error });
    return { outcome: "invalid", error: job.error };
  }

  const jobId = job.job.jobId;
  const logKeys = { channel: delivery.channel, dedupeId: route.dedupeId, jobId };
  const queued = await runOnce(deps.dedupe, KADI_EVENT_SCOPE, route.dedupeId, () =>
    deps.queue.enqueue(job.job),
  );
  switch (queued.status) {
    case "duplicate":
      logger.info("kadi event duplicate", logKeys);
      return { outcome: "duplicate", jobId };
    case "claim_failed":
      logger.error("kadi event dedupe failed", { ...logKeys, error: queued.error });
      return { outcome: "failed", error: "dedupe_unavailable" };
    case "work_failed":
      logger.error("kadi event enqueue failed; dedupe mark released", {
        ...logKeys,
        error: queued.error,
        releaseError: queued.releaseError,
      });
      return { outcome: "failed", error: "queue_unavailable" };
  }
  logger.info("kadi event queued", logKeys);
  return { outcome: "queued", jobId };
}

/**
 * Handles one `POST /kadi/events` (body `{channel, data}`, design.md): verify the HMAC
 * signature on the raw body (`X-Kadi-Request-Timestamp`, `X-Kadi-Signature`), then
 * {@link acceptDelivery}.
 *
 * Statuses: 200 queued, duplicate or deliberately ignored (body says which); 400 malformed JSON,
 * not `{channel, data}`, or an unusable chat event on a mention channel; 401 bad, stale or
 * missing signature; 503 `KADI_CALLBACK_SECRET` unset; 500 dedupe store or queue failed (safe
 * to resend). Never throws.
 */
export async function handleKadiEvent(
  deps: KadiIngressDeps,
  request: RawRequest,
): Promise<IngressResponse> {
  const { logger } = deps;
  if (!deps.callbackSecret) {
    logger.warn("kadi event refused: KADI_CALLBACK_SECRET is not set");
    return { status: 503, body: { error: "kadi_callback_not_configured" } };
  }
  const verified = verifyKadiCallback({
    secret: deps.callbackSecret,
    rawBody: request.rawBody,
    headers: request.headers,
    nowSeconds: Math.floor(deps.now() / 1000),
  });
  if (!verified.ok) {
    logger.warn("kadi event refused: signature", { reason: verified.reason });
    return { status: 401, body: { error: verified.reason } };
  }
  let json: unknown;
  try {
    json = JSON.parse(request.rawBody);
  } catch {
    return { status: 400, body: { error: "malformed_json" } };
  }
  const delivery = kadiDeliverySchema.safeParse(json);
  if (!delivery.success) {
    const first = delivery.error.issues[0];
    const where = first?.path.join(".") || "body";
    return { status: 400, body: { error: `invalid_delivery: ${where} ${first?.message}` } };
  }
  const result = await acceptDelivery(deps, delivery.data);
  switch (result.outcome) {
    case "queued":
      return { status: 200, body: { ok: true } };
    case "duplicate":
      return { status: 200, body: { ok: true, duplicate: true } };
    case "ignored":
      return { status: 200, body: { ok: true, ignored: result.reason } };
    case "invalid":
      return { status: 400, body: { error: result.error } };
    case "failed":
      return { status: 500, body: { error: result.error } };
  }
}
