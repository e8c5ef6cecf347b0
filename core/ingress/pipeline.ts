/**
 * The one ingress pipeline every webhook and the KĀDI socket share (docs/architecture.md,
 * "Platforms and transports"): verify → parse → route → dedupe-claim → enqueue → answer. A platform supplies
 * the first three steps as a {@link Webhook}; claiming, enqueueing, logging and the mapping of
 * failures to answers live here once.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type * as z from "zod";
import { type ChatJob, chatJobSchema } from "../chat/job";
import { KEY_ID_MAX_BYTES } from "../constants/limits";
import { INGRESS_RETRY_AFTER_MS } from "../constants/timings";
import { type DedupeStore, runOnce } from "../memory/dedupe";
import type { ChatJobSink } from "../queue/chat-queue";
import { loggableKeys, loggableReason } from "./log-fields";
import type { IngressResponse, RawRequest } from "./types";
import { describeIssue } from "./zod-issue";

/** What the pipeline needs, built once per container and shared by every webhook. */
export interface PipelineDeps {
  dedupe: Pick<DedupeStore, "claim" | "release">;
  queue: ChatJobSink;
  logger: Logger;
  /** Epoch milliseconds. */
  now: () => number;
}

/** A refusal before routing: the answer, and a reason for the log (never a payload value). */
export interface Refusal {
  ok: false;
  response: IngressResponse;
  reason: string;
  /** Log level of the refusal (default `warn`); `debug` for what is acked on purpose. */
  level?: "debug" | "warn";
}

/**
 * Why a request could not be taken now: the claim-and-enqueue (or claim-and-work) step failed
 * (the mark is never left behind), or a store the route's decision needed failed
 * (`store_unavailable`, e.g. Slack's thread participation; nothing was claimed).
 */
export type Unavailable = "dedupe_unavailable" | "queue_unavailable" | "store_unavailable";

/** Log fields of one request: ids only. */
export type LogKeys = Record<string, string | number | undefined>;

/** What to do with a verified, parsed payload. Pure data, decided by {@link Webhook.route}. */
export type WebhookRoute =
  /**
   * Answer at once with no side effect; `log`, when worth a line, is written as
   * `{name} {outcome}` (e.g. `slack event ignored`, `kadi event refused`) with the reason.
   */
  | {
      action: "respond";
      response: IngressResponse;
      log?: {
        level: "debug" | "info" | "warn";
        outcome: "answered" | "ignored" | "refused" | "unreadable";
        reason: string;
        keys?: LogKeys;
      };
    }
  /**
   * Validate `job`, claim `id` in the webhook's dedupe scope, enqueue the job, answer
   * `queued`; a second delivery of `id` gets `duplicate` and enqueues nothing.
   */
  | {
      action: "enqueue";
      id: string;
      job: ChatJob;
      answers: { queued: IngressResponse; duplicate: IngressResponse };
      keys: LogKeys;
      /**
       * Undoes what the route's own I/O did when the job was not queued (invalid, or the store
       * or queue failed), before the answer: an approval's decision is reopened so the person
       * can click again. Its failure is logged, never thrown.
       */
      onNotQueued?: () => Promise<void>;
    }
  /**
   * Claim `id`, then run `work` inline (a command answered at once, e.g. Discord's `/forget`);
   * its `response` is the answer and its `keys` (counts, names) join the log line. A second
   * delivery gets `duplicate`.
   */
  | {
      action: "once";
      id: string;
      work: () => Promise<{ response: IngressResponse; keys?: LogKeys; level?: "info" | "warn" }>;
      duplicate: IngressResponse;
      keys: LogKeys;
    }
  /**
   * A store the decision needed could not be read or written (the route's own I/O, see
   * {@link Webhook.route}): logged as `{name} store failed` with `cause`, answered with
   * {@link Webhook.unavailable}(`store_unavailable`). Nothing was claimed or queued.
   */
  | { action: "unavailable"; error: "store_unavailable"; cause: unknown; keys: LogKeys };

/**
 * One webhook as a platform describes it. `name` prefixes its log lines (`slack event`,
 * `discord interaction`, `kadi event`) and `scope` is the dedupe scope of its ids.
 */
export interface Webhook<P> {
  readonly name: string;
  readonly scope: string;
  /** Signature check on the raw body; also answers 503 when the platform is not configured. */
  verify(
    request: RawRequest,
    nowSeconds: number,
  ): Promise<{ ok: true } | Refusal> | { ok: true } | Refusal;
  /** Body → payload; refuses malformed bodies with a 4xx naming the field. */
  parse(rawBody: string): { ok: true; value: P } | Refusal;
  /**
   * The decision; `request` gives header values worth logging (e.g. Slack's retry number). Pure,
   * unless the decision needs a stored fact (Slack: did the agent take part in this thread?):
   * then the webhook's shell does that I/O around a pure decision and resolves to the route,
   * answering a store failure with the `unavailable` action rather than throwing.
   */
  route(payload: P, request: RawRequest): WebhookRoute | Promise<WebhookRoute>;
  /**
   * The answer when the dedupe store or the queue failed (mark released first):
   * {@link retryLater} for senders that retry a 5xx, a platform-shaped apology for others.
   */
  unavailable(error: Unavailable): IngressResponse;
}

/**
 * Runs one request through a webhook: verify, parse, route, then claim and enqueue (or claim
 * and work), and answer. Never throws: a failure of the dedupe store, the queue, a store the
 * route read, or a command's work is logged with the request's ids and answered with
 * {@link Webhook.unavailable}.
 */
export async function runWebhook<P>(
  webhook: Webhook<P>,
  deps: PipelineDeps,
  request: RawRequest,
): Promise<IngressResponse> {
  const { logger } = deps;
  const verified = await webhook.verify(request, Math.floor(deps.now() / 1000));
  if (!verified.ok) {
    logger[verified.level ?? "warn"](`${webhook.name} refused`, {
      reason: loggableReason(verified.reason),
    });
    return verified.response;
  }
  const parsed = webhook.parse(request.rawBody);
  if (!parsed.ok) {
    logger[parsed.level ?? "warn"](`${webhook.name} refused: body`, {
      reason: loggableReason(parsed.reason),
      bodyBytes: Buffer.byteLength(request.rawBody, "utf8"),
    });
    return parsed.response;
  }
  const route = await webhook.route(parsed.value, request);
  switch (route.action) {
    case "respond":
      if (route.log) {
        logger[route.log.level](`${webhook.name} ${route.log.outcome}`, {
          ...loggableKeys(route.log.keys),
          reason: loggableReason(route.log.reason),
        });
      }
      return route.response;
    case "enqueue": {
      const admitted = await admitJob(deps, webhook, route);
      if (route.onNotQueued && (admitted.outcome === "invalid" || admitted.outcome === "failed")) {
        await route
          .onNotQueued()
          .catch((error: unknown) =>
            logger.error(`${webhook.name} undo failed`, { ...loggableKeys(route.keys), error }),
          );
      }
      switch (admitted.outcome) {
        case "queued":
          return route.answers.queued;
        case "duplicate":
          return route.answers.duplicate;
        case "invalid":
          return { status: 400, body: { error: admitted.error } };
        case "failed":
          return webhook.unavailable(admitted.error);
      }
      break;
    }
    case "once": {
      const done = await claimAndRun(deps, webhook, route.id, loggableKeys(route.keys), route.work);
      if (done.status === "done") {
        logger[done.value.level ?? "info"](
          `${webhook.name} handled`,
          loggableKeys({ ...route.keys, ...done.value.keys }),
        );
        return done.value.response;
      }
      return done.status === "duplicate" ? route.duplicate : webhook.unavailable(done.error);
    }
    case "unavailable":
      logger.error(`${webhook.name} store failed`, {
        ...loggableKeys(route.keys),
        error: route.cause,
      });
      return webhook.unavailable(route.error);
  }
  // Unreachable while the switches above are exhaustive; a 500 is the honest answer if not.
  return { status: 500, body: { error: "internal_error" } };
}

/** What became of one job offered to {@link admitJob}. */
export type AdmitOutcome =
  | { outcome: "queued"; jobId: string }
  | { outcome: "duplicate"; jobId: string }
  /** The job does not parse as a {@link ChatJob}: `invalid_job: {path} {message}`. */
  | { outcome: "invalid"; error: string }
  /** The dedupe store or the queue failed; the mark was released so a redelivery is taken. */
  | { outcome: "failed"; error: Exclude<Unavailable, "store_unavailable"> };

/**
 * Validates `job` (the queue is a trust boundary: what is enqueued must parse on the other
 * side) and the length of `id` (at most `KEY_ID_MAX_BYTES`, 960 bytes: it goes into a key),
 * claims `id` under `source.scope` (conditional write) and enqueues the job. A delivery seen
 * before is a `duplicate` and enqueues nothing; when enqueueing fails the mark is released, so
 * a redelivery is accepted rather than dropped. Never throws; logs each outcome with the ids.
 *
 * @param source - `name` prefixes the log lines, `scope` is the dedupe scope.
 */
export async function admitJob(
  deps: PipelineDeps,
  source: { name: string; scope: string },
  offer: { id: string; job: ChatJob; keys: LogKeys },
): Promise<AdmitOutcome> {
  const parsed = chatJobSchema.safeParse(offer.job);
  if (!parsed.success) {
    const error = `invalid_job: ${describeIssue(parsed.error, "job")}`;
    deps.logger.warn(`${source.name} refused: job`, {
      ...loggableKeys(offer.keys),
      reason: loggableReason(error),
    });
    return { outcome: "invalid", error };
  }
  // The id becomes part of the dedupe mark's key; the platforms' bounds keep it far shorter.
  const idBytes = Buffer.byteLength(offer.id, "utf8");
  if (idBytes > KEY_ID_MAX_BYTES) {
    const error = `invalid_event: id Too big: expected at most ${KEY_ID_MAX_BYTES} bytes of UTF-8`;
    deps.logger.warn(`${source.name} refused: id`, {
      ...loggableKeys(offer.keys),
      idBytes,
      reason: error,
    });
    return { outcome: "invalid", error };
  }
  const job = parsed.data;
  const keys = loggableKeys({ ...offer.keys, jobId: job.jobId });
  const done = await claimAndRun(deps, source, offer.id, keys, () => deps.queue.enqueue(job));
  switch (done.status) {
    case "done":
      deps.logger.info(`${source.name} queued`, keys);
      return { outcome: "queued", jobId: job.jobId };
    case "duplicate":
      return { outcome: "duplicate", jobId: job.jobId };
    case "failed":
      return { outcome: "failed", error: done.error };
  }
}

/** {@link runOnce} with the pipeline's logging of duplicates and failures. */
async function claimAndRun<T>(
  deps: PipelineDeps,
  source: { name: string; scope: string },
  id: string,
  keys: LogKeys,
  work: () => Promise<T>,
): Promise<
  | { status: "done"; value: T }
  | { status: "duplicate" }
  | { status: "failed"; error: Exclude<Unavailable, "store_unavailable"> }
> {
  const { logger } = deps;
  const outcome = await runOnce(deps.dedupe, source.scope, id, work);
  switch (outcome.status) {
    case "done":
      return outcome;
    case "duplicate":
      logger.info(`${source.name} duplicate`, keys);
      return outcome;
    case "claim_failed":
      logger.error(`${source.name} dedupe failed`, { ...keys, error: outcome.error });
      return { status: "failed", error: "dedupe_unavailable" };
    case "work_failed":
      logger.error(`${source.name} failed; dedupe mark released`, {
        ...keys,
        error: outcome.error,
        releaseError: outcome.releaseError,
      });
      return { status: "failed", error: "queue_unavailable" };
  }
}

/**
 * Parses a JSON body with `schema`, refusing with 400 `{error: "{label}: {path} {message}"}`
 * (or `malformed_json`). The shared first half of every webhook's {@link Webhook.parse}.
 */
export function parseJsonBody<T>(
  rawBody: string,
  schema: z.ZodType<T>,
  label: string,
): { ok: true; value: T } | Refusal {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return refuse(400, "malformed_json");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return refuse(400, `${label}: ${describeIssue(parsed.error)}`);
  return { ok: true, value: parsed.data };
}

/**
 * 503 `{error}` with `Retry-After` ({@link INGRESS_RETRY_AFTER_MS}, in seconds): the answer to a
 * sender that retries on 5xx (Slack, a KĀDI broker) when the dedupe store, the queue or another
 * store the route needed failed.
 * Nothing was kept (the mark is released or was never written), so the retry is taken.
 */
export function retryLater(error: Unavailable): IngressResponse {
  return {
    status: 503,
    body: { error },
    headers: { "retry-after": String(Math.ceil(INGRESS_RETRY_AFTER_MS / 1000)) },
  };
}

/** A {@link Refusal} answering `{error}` with `status`; the error doubles as the log reason. */
export function refuse(status: number, error: string): Refusal {
  return { ok: false, response: { status, body: { error } }, reason: error };
}
