/**
 * The watchdog both providers' `stream` run under: one `AbortController` that fires when the
 * stream is silent for longer than its idle timeout, or runs longer than its whole-call
 * timeout. The SDKs' own `timeout` only covers the wait for the response headers, so neither
 * limit would hold once the body has started without this.
 */
import { LlmError, toLlmError } from "./errors";
import type { ProviderId } from "./types";

/** Limits of {@link watchStream}. */
export interface StreamLimits {
  /** Longest silence between two stream events (and before the first one), ms. */
  idleTimeoutMs: number;
  /** Longest whole call, headers and body, ms (the request's `timeoutMs`). */
  timeoutMs: number;
}

/**
 * Runs `body` under an abort signal that fires after `limits.idleTimeoutMs` without a `touch()`
 * (each stream event calls it) or after `limits.timeoutMs` in all. The idle clock starts with
 * the request, so a server that accepts the connection and then says nothing also times out.
 *
 * @param body - sends the request with `signal` and calls `touch` on every stream event.
 * @returns what `body` resolved to, unless a limit fired meanwhile.
 * @throws {LlmError} kind `timeout` ("no stream event for N ms" / "stream took longer than
 *   N ms") when a limit fired, whatever `body` did after the abort (the SDKs end an aborted
 *   stream quietly or with an abort error); otherwise `body`'s error mapped by `toLlmError`.
 */
export async function watchStream<T>(
  provider: ProviderId,
  limits: StreamLimits,
  body: (signal: AbortSignal, touch: () => void) => Promise<T>,
  nowMs: () => number = Date.now,
): Promise<T> {
  const controller = new AbortController();
  let expired: LlmError | undefined;
  const expire = (message: string) => {
    expired ??= new LlmError({ kind: "timeout", provider, message: `${provider}: ${message}` });
    controller.abort(expired);
  };
  const idle = setTimeout(
    () => expire(`no stream event for ${limits.idleTimeoutMs} ms`),
    limits.idleTimeoutMs,
  );
  const whole = setTimeout(
    () => expire(`stream took longer than ${limits.timeoutMs} ms`),
    limits.timeoutMs,
  );
  // refresh() re-arms the same timer: cheaper than clear + set on every token.
  const touch = () => {
    if (!expired) idle.refresh();
  };
  try {
    const result = await body(controller.signal, touch);
    if (expired) throw expired;
    return result;
  } catch (err) {
    if (expired) throw expired;
    throw toLlmError(provider, err, nowMs());
  } finally {
    clearTimeout(idle);
    clearTimeout(whole);
  }
}

/**
 * The failure of a stream whose body ended before its end marker (`expected`: Anthropic's
 * `message_stop`, OpenAI's `finish_reason`): the connection closed early, kind `network`
 * (transient, so retried before the first delta).
 */
export function streamEndedEarly(provider: ProviderId, expected: string): LlmError {
  return new LlmError({
    kind: "network",
    provider,
    message: `${provider}: stream ended before ${expected}`,
  });
}
