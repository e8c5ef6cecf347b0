import type { Logger } from "@aws-lambda-powertools/logger";
import { validateChatJob } from "../chat/job";
import type { IngressResponse, RawRequest } from "../ingress";
import { type DedupeStore, runOnce } from "../memory/dedupe";
import type { ChatJobSink } from "../queue/chat-queue";
import { routeSlackEnvelope, type SlackEnvelope, slackEnvelopeSchema } from "./events";
import { verifyRequestSignature } from "./signature";

/** What the Slack events endpoint needs, built once per container. */
export interface SlackIngressDeps {
  /** `SLACK_SIGNING_SECRET`; when absent the endpoint answers 503. */
  signingSecret?: string;
  botUserId?: string;
  dedupe: DedupeStore;
  queue: ChatJobSink;
  logger: Logger;
  /** Epoch milliseconds. */
  now: () => number;
}

/** Dedupe scope of Slack `event_id`s. */
export const SLACK_EVENT_SCOPE = "slack-event";

/**
 * Handles one POST to `/slack/events`: verify the signature on the raw body, answer the
 * `url_verification` handshake, dedupe by `event_id` (conditional write), enqueue a chat job,
 * and ack with 200. Slack retries (`X-Slack-Retry-Num`) go through the same path, so a retry
 * of an event we already queued is acked without a second job, while a retry of one we failed
 * to queue is queued now.
 *
 * Statuses: 200 handled or deliberately ignored (including events of unknown types, events
 * without `event_id`, and mentions or DMs whose fields cannot be read: a 4xx counts toward
 * Slack's failure limit, which disables the app's events); 400 only for a body that is not
 * JSON, not a JSON object, has no string `type`, or is a `url_verification` without
 * `challenge` (the error names the field), or a message that makes no valid job (e.g. over
 * 40 000 characters); 401 bad,
 * stale or missing signature; 503 Slack not configured; 500 dedupe store or queue failed (the
 * dedupe mark is released first so Slack's retry is accepted). Never throws.
 */
export async function handleSlackEvents(
  deps: SlackIngressDeps,
  request: RawRequest,
): Promise<IngressResponse> {
  const { logger } = deps;
  if (!deps.signingSecret) {
    logger.warn("slack event refused: SLACK_SIGNING_SECRET is not set");
    return { status: 503, body: { error: "slack_not_configured" } };
  }
  const verified = verifyRequestSignature({
    secret: deps.signingSecret,
    rawBody: request.rawBody,
    timestamp: request.headers("x-slack-request-timestamp"),
    signature: request.headers("x-slack-signature"),
    nowSeconds: Math.floor(deps.now() / 1000),
  });
  if (!verified.ok) {
    logger.warn("slack event refused: signature", { reason: verified.reason });
    return { status: 401, body: { error: verified.reason } };
  }

  const envelope = parseEnvelope(request.rawBody);
  if (!envelope.ok && envelope.error === "unsupported_type") {
    // Slack adds envelope types over time; acking keeps it from retrying what we cannot use.
    return { status: 200, body: { ok: true, ignored: envelope.error } };
  }
  if (!envelope.ok) {
    logger.warn("slack event refused: body", { reason: envelope.error });
    return { status: 400, body: { error: envelope.error } };
  }

  const route = routeSlackEnvelope(envelope.value, deps.botUserId);
  if (route.action === "challenge") return { status: 200, body: { challenge: route.challenge } };
  if (route.action === "ignore") {
    logger.debug("slack event ignored", { reason: route.reason });
    return { status: 200, body: { ok: true, ignored: route.reason } };
  }
  if (route.action === "unreadable") {
    // Acked all the same: Slack would retry a 4xx in vain and count it toward disabling the app.
    logger.warn("slack event unreadable", {
      eventId: envelope.value.event_id,
      reason: route.reason,
    });
    return { status: 200, body: { ok: true, ignored: route.reason } };
  }

  // The job crosses a trust boundary (the queue); what is enqueued must parse on the other side.
  const job = validateChatJob(route.job);
  if (!job.ok) {
    logger.warn("slack event refused: job", { eventId: route.eventId, reason: job.error });
    return { status: 400, body: { error: job.error } };
  }

  const retryNum = request.headers("x-slack-retry-num");
  const logKeys = { eventId: route.eventId, jobId: route.job.jobId, retryNum };
  const queued = await runOnce(deps.dedupe, SLACK_EVENT_SCOPE, route.eventId, () =>
    deps.queue.enqueue(job.job),
  );
  switch (queued.status) {
    case "duplicate":
      logger.info("slack event duplicate acked", logKeys);
      return { status: 200, body: { ok: true, duplicate: true } };
    case "claim_failed":
      logger.error("slack event dedupe failed", { ...logKeys, error: queued.error });
      return { status: 500, body: { error: "dedupe_unavailable" } };
    case "work_failed":
      logger.error("slack event enqueue failed; dedupe mark released", {
        ...logKeys,
        error: queued.error,
        releaseError: queued.releaseError,
      });
      return { status: 500, body: { error: "queue_unavailable" } };
  }
  logger.info("slack event queued", logKeys);
  return { status: 200, body: { ok: true } };
}

const SUPPORTED_TYPES = new Set(["url_verification", "event_callback", "app_rate_limited"]);

/**
 * Refuses only what is truly malformed: not JSON, not a JSON object, no string `type`, or a
 * `url_verification` without its `challenge`. Other types are `unsupported_type`, acked.
 */
function parseEnvelope(
  rawBody: string,
): { ok: true; value: SlackEnvelope } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return { ok: false, error: "malformed_json" };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return { ok: false, error: "invalid_envelope: body must be a JSON object" };
  }
  const type = (json as { type?: unknown }).type;
  if (typeof type !== "string" || type === "") {
    return { ok: false, error: "invalid_envelope: type must be a non-empty string" };
  }
  if (!SUPPORTED_TYPES.has(type)) return { ok: false, error: "unsupported_type" };
  const parsed = slackEnvelopeSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return {
      ok: false,
      error: `invalid_envelope: ${first?.path.join(".") || "body"} ${first?.message ?? ""}`.trim(),
    };
  }
  return { ok: true, value: parsed.data };
}
