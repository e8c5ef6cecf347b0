/**
 * Typed failures of the KĀDI client (`./client`) and of tool handlers served through it.
 */

/**
 * What went wrong, so callers can decide on retries without parsing messages:
 * - `timeout`: a deadline passed (request or tool call); retryable.
 * - `network`: the socket failed or dropped mid-call; retryable.
 * - `closed`: `close()` was called on the client; not retryable on this client.
 * - `auth`: the broker refused hello/authenticate (bad key or signature).
 * - `tool_error`: the broker or the remote tool answered a JSON-RPC error (`code` set when given).
 * - `protocol`: a message did not match the wire schema.
 * - `invalid_params`: thrown by a tool handler to answer JSON-RPC `-32602`.
 */
export type KadiErrorKind =
  | "timeout"
  | "network"
  | "closed"
  | "auth"
  | "tool_error"
  | "protocol"
  | "invalid_params";

/** JSON-RPC 2.0 error codes used on the KĀDI wire (JSON-RPC 2.0 spec §5.1, plus -32000). */
export const JSON_RPC_ERRORS = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** Application error of a tool handler, as the broker's agents answer it. */
  toolFailed: -32000,
} as const;

/** Error of the KĀDI client; `cause` chains the underlying error when there is one. */
export class KadiError extends Error {
  override readonly name = "KadiError";
  /** Category, see {@link KadiErrorKind}. */
  readonly kind: KadiErrorKind;
  /** JSON-RPC error code from the wire, when the failure came from one. */
  readonly code: number | undefined;
  /** JSON-RPC `error.data` from the wire, when present. */
  readonly data: unknown;

  constructor(
    kind: KadiErrorKind,
    message: string,
    options: { code?: number; data?: unknown; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.code = options.code;
    this.data = options.data;
  }

  /** True for failures worth retrying on a later attempt (`timeout`, `network`). */
  get retryable(): boolean {
    return this.kind === "timeout" || this.kind === "network";
  }
}

/** Narrowing helper for `catch` blocks. */
export function isKadiError(error: unknown): error is KadiError {
  return error instanceof KadiError;
}
