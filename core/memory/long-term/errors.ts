/**
 * Typed errors of the long-term memory layer. Backends throw these (never return partial
 * success), so the archiver can let them propagate and SQS retries the job.
 */

/** Base class of every long-term memory error, for `instanceof` checks that span backends. */
export class LongTermIndexError extends Error {
  override name = "LongTermIndexError";
}

/**
 * What went wrong talking to ArcadeDB, derived from the HTTP status (or the absence of one):
 * - `bad_request` 400 (SQL parsing/validation, e.g. `CommandParsingException`)
 * - `unauthorized` 401 (missing or wrong Basic credentials)
 * - `forbidden` 403 (the user lacks a permission on the database)
 * - `not_found` 404 (unknown database or endpoint)
 * - `conflict` 409 (e.g. `DuplicatedKeyException` from a UNIQUE index)
 * - `server` 500 and any other non-2xx status
 * - `unavailable` 503 (server starting/not ready, or an MVCC conflict: the one retried kind)
 * - `network` the request never got a response (connection refused/reset, DNS)
 * - `timeout` the per-request timeout elapsed
 * - `invalid_response` a 2xx whose body is not the documented `{"result": ...}` JSON
 */
export type ArcadeDbErrorKind =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "server"
  | "unavailable"
  | "network"
  | "timeout"
  | "invalid_response";

/** Construction fields of {@link ArcadeDbError}. */
export interface ArcadeDbErrorInit {
  kind: ArcadeDbErrorKind;
  /** HTTP status; absent for `network` and `timeout`. */
  status?: number;
  /** `error` field of ArcadeDB's error body: a short message. */
  error?: string;
  /** `detail` field of ArcadeDB's error body: the longer explanation. */
  detail?: string;
  /** `exception` field of ArcadeDB's error body: the Java exception class name. */
  exception?: string;
  /** What the client was doing, e.g. `"command"` or `"ready"`, for the message. */
  operation: string;
  cause?: unknown;
}

/**
 * A failed ArcadeDB HTTP call. ArcadeDB answers errors with a JSON body
 * `{ "error": string, "detail": string, "exception": string }`
 * (https://docs.arcadedb.com/#http-api); those fields are kept verbatim here. `cause` holds the
 * underlying fetch/abort error for `network` and `timeout`.
 */
export class ArcadeDbError extends LongTermIndexError {
  override name = "ArcadeDbError";
  readonly kind: ArcadeDbErrorKind;
  readonly status: number | undefined;
  readonly error: string | undefined;
  readonly detail: string | undefined;
  readonly exception: string | undefined;
  readonly operation: string;

  constructor(init: ArcadeDbErrorInit) {
    const where = init.status === undefined ? init.kind : `${init.status} ${init.kind}`;
    const what = [init.error, init.detail].filter(Boolean).join(": ");
    super(`ArcadeDB ${init.operation} failed (${where})${what ? `: ${what}` : ""}`, {
      cause: init.cause,
    });
    this.kind = init.kind;
    this.status = init.status;
    this.error = init.error;
    this.detail = init.detail;
    this.exception = init.exception;
    this.operation = init.operation;
  }

  /** Whether a brief retry may succeed: only 503 (server not ready or MVCC conflict). */
  get retryable(): boolean {
    return this.kind === "unavailable";
  }
}

/**
 * A durable summary item in DynamoDB that does not have the `SummaryRecord` shape
 * (written by something else, or by an older version). Thrown rather than skipped so that a
 * reindex or a search never silently loses a summary. `cause` is the zod error.
 */
export class SummaryItemError extends LongTermIndexError {
  override name = "SummaryItemError";

  constructor(
    readonly pk: string,
    readonly sk: string,
    cause: unknown,
  ) {
    super(`durable summary item ${pk} / ${sk} is malformed`, { cause });
  }
}
