/**
 * JSON-RPC 2.0 correlation of the KĀDI client (https://www.jsonrpc.org/specification, §4–5):
 * request ids, the deadline of each outstanding request, matching answers to their requests,
 * and the pending → `kadi.ability.response` two-step of tool calls. It knows nothing of sockets:
 * frames go out through an injected `send` and come back already parsed by `./protocol`, which
 * tolerates the broker's string ids and a missing `"jsonrpc"` (hence ids are matched as
 * `String(id)`). Behaviour: README.md, "Connecting to a KĀDI broker".
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { loggableOrShape } from "../ingress/log-fields";
import { KadiError } from "./errors";
import {
  AbilityPendingResultSchema,
  type AbilityRequestParams,
  AbilityResponseParamsSchema,
  describe,
  encodeRequest,
  type JsonRpcErrorObject,
  type JsonRpcMessage,
  KADI_METHODS,
} from "./protocol";
import type { KadiTimers } from "./types";

/** How a call ended: the `result` of its answer, or why there is none. */
export type RpcOutcome = { ok: true; result: unknown } | { ok: false; error: KadiError };

/** Receives the outcome of one call, exactly once. */
export type RpcSettle = (outcome: RpcOutcome) => void;

/**
 * A parsed frame that may answer one of our requests. An `invalid` frame with `hadMethod` is a
 * malformed request, not an answer; the caller answers it instead of handing it here.
 */
export type RpcAnswer = Extract<JsonRpcMessage, { kind: "success" | "failure" | "invalid" }>;

/** What an {@link RpcCorrelator} needs. */
export interface RpcCorrelatorOptions {
  /**
   * Writes one text frame on the current connection; returns false when none is open, and the
   * call then fails at once with kind `"network"`.
   */
  send: (text: string) => boolean;
  /** Deadline timers of outstanding calls. */
  timers: KadiTimers;
  logger: Logger;
}

/**
 * Outstanding requests of one client, across its connections. Settling is synchronous with the
 * answering frame, so a caller can act on an answer (record a subscription, await a
 * `kadi.ability.response`) before the next frame is handled.
 */
export class RpcCorrelator {
  readonly #send: (text: string) => boolean;
  readonly #timers: KadiTimers;
  readonly #logger: Logger;
  #nextId = 1;
  /** Outstanding requests, keyed by `String(id)` (the broker may echo ids as strings). */
  readonly #pending = new Map<string, RpcSettle>();
  /** Tool calls answered `pending`, keyed by `String(requestId)`. */
  readonly #abilityWaiters = new Map<string, RpcSettle>();

  constructor(options: RpcCorrelatorOptions) {
    this.#send = options.send;
    this.#timers = options.timers;
    this.#logger = options.logger;
  }

  /**
   * Sends a request with a fresh numeric id. `settle` runs exactly once: synchronously with the
   * answering frame; with kind `"timeout"` after `timeoutMs` ms; at once with kind `"network"`
   * when no connection is open; or with the error of {@link failAll}.
   */
  call(method: string, params: unknown, timeoutMs: number, settle: RpcSettle): void {
    const id = this.#nextId++;
    const key = String(id);
    let done = false;
    const finish: RpcSettle = (outcome) => {
      if (done) return;
      done = true;
      cancelTimer();
      this.#pending.delete(key);
      settle(outcome);
    };
    const cancelTimer = this.#timers.schedule(() => {
      finish({
        ok: false,
        error: new KadiError("timeout", `${method} got no answer within ${timeoutMs} ms`),
      });
    }, timeoutMs);
    this.#pending.set(key, finish);
    if (!this.#send(encodeRequest(method, params, id))) {
      finish({ ok: false, error: new KadiError("network", "not connected to the KADI broker") });
    }
  }

  /**
   * {@link call} as a promise: resolves with the answer's `result`.
   *
   * @throws KadiError kind `"timeout"`, `"network"`, `"closed"`, `"tool_error"` (a JSON-RPC
   *   error answer; `code` and `data` from the wire) or `"protocol"` (malformed answer).
   */
  request(method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      this.call(method, params, timeoutMs, (outcome) => {
        if (outcome.ok) resolve(outcome.result);
        else reject(outcome.error);
      });
    });
  }

  /**
   * Sends `kadi.ability.request`. An answer `{status:"pending", requestId}` makes the call wait
   * for the notification `kadi.ability.response {requestId}` (see {@link settleAbilityResponse});
   * any other result is the tool's result itself.
   *
   * @param timeoutMs - deadline of both steps together, in ms.
   * @param timeoutError - the error to reject with at that deadline.
   * @throws KadiError as {@link request}, and `timeoutError()` at the deadline.
   */
  invokeAbility(
    params: AbilityRequestParams,
    timeoutMs: number,
    timeoutError: () => KadiError,
  ): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      let requestKey: string | undefined;
      let done = false;
      const finish: RpcSettle = (outcome) => {
        if (done) return;
        done = true;
        cancelTimer();
        if (requestKey !== undefined) this.#abilityWaiters.delete(requestKey);
        if (outcome.ok) resolve(outcome.result);
        else reject(outcome.error);
      };
      // Scheduled before the request's own deadline of the same length, so it fires first and
      // the caller sees the tool call's timeout rather than the request's.
      const cancelTimer = this.#timers.schedule(
        () => finish({ ok: false, error: timeoutError() }),
        timeoutMs,
      );
      // Settling is synchronous with the answer frame, so the waiter for the response
      // notification exists before the next frame (which may be that notification).
      this.call(KADI_METHODS.abilityRequest, params, timeoutMs, (outcome) => {
        if (!outcome.ok) return finish(outcome);
        const pending = AbilityPendingResultSchema.safeParse(outcome.result);
        if (!pending.success) return finish(outcome);
        if (done) return;
        requestKey = String(pending.data.requestId);
        this.#abilityWaiters.set(requestKey, finish);
      });
    });
  }

  /** Settles the request `answer` names; an answer to no outstanding request is dropped. */
  settleAnswer(answer: RpcAnswer): void {
    switch (answer.kind) {
      case "success":
        this.#pending.get(String(answer.id))?.({ ok: true, result: answer.result });
        return;
      case "failure": {
        const settle = answer.id === null ? undefined : this.#pending.get(String(answer.id));
        if (settle === undefined) {
          // The broker's error may carry `data` of any shape: its code is what is worth a line.
          this.#logger.warn("KADI error without a matching request", { code: answer.error.code });
          return;
        }
        settle({ ok: false, error: errorFromWire(answer.error) });
        return;
      }
      case "invalid":
        if (answer.id === null) return;
        this.#pending.get(String(answer.id))?.({
          ok: false,
          error: new KadiError("protocol", `malformed answer: ${answer.reason}`),
        });
        return;
    }
  }

  /**
   * Settles the tool call waiting for the `kadi.ability.response` notification with `params`:
   * `error` absent or null resolves it with `result` (null when absent); an error object or a
   * bare message string rejects it with kind `"tool_error"`.
   */
  settleAbilityResponse(params: unknown): void {
    const parsed = AbilityResponseParamsSchema.safeParse(params);
    if (!parsed.success) {
      this.#logger.warn("KADI malformed ability response", { reason: describe(parsed.error) });
      return;
    }
    const { requestId, result, error } = parsed.data;
    const settle = this.#abilityWaiters.get(String(requestId));
    if (settle === undefined) {
      // Typically the answer to a call that already timed out on our side.
      this.#logger.info("KADI ability response without a waiting call", {
        requestId: loggableOrShape(requestId),
      });
      return;
    }
    if (error === undefined || error === null) {
      settle({ ok: true, result: result ?? null });
    } else {
      settle({
        ok: false,
        error:
          typeof error === "string" ? new KadiError("tool_error", error) : errorFromWire(error),
      });
    }
  }

  /**
   * Fails every outstanding request and tool call with `error`: called when the connection they
   * went out on is gone, since their answers could only have come on it.
   */
  failAll(error: KadiError): void {
    const settles = [...this.#pending.values(), ...this.#abilityWaiters.values()];
    this.#pending.clear();
    this.#abilityWaiters.clear();
    for (const settle of settles) settle({ ok: false, error });
  }
}

function errorFromWire(error: JsonRpcErrorObject): KadiError {
  return new KadiError("tool_error", error.message, {
    code: error.code,
    ...(error.data === undefined ? {} : { data: error.data }),
  });
}
