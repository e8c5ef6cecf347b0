/**
 * Pacing and failure of the LLM fakes' streamed answers: when each text delta goes out, and
 * whether the stream errors, drops or stalls part-way. The wire format itself (Anthropic's
 * events, OpenAI's chunks) stays in each fake; this decides only the timing.
 */
import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * How a fake streams an answer to a request with `stream: true`. A "token" is one word-sized
 * text delta (see `streamChunks` in `./http-fake`), so an answer of 400 words is 400 tokens,
 * and the usage the fake reports counts the same words; a tool call adds one token for its
 * start (id and name) and one per fragment of its arguments (see `argumentFragments` in
 * `./llm-tools`), after the text. Every field is optional; `{}` streams everything at once, as a
 * fake without pacing always did.
 */
export interface StreamBehaviour {
  /**
   * Ms from the request to the first text delta. The stream's opening (Anthropic
   * `message_start` / `content_block_start` / `ping`; OpenAI's role chunk) goes out at once,
   * as the real APIs send it when generation starts. Default 0.
   */
  firstTokenMs?: number;
  /**
   * Deltas per second after the first: delta `i` (0-based) is due at
   * `firstTokenMs + i × 1000 / tokensPerSecond` ms after the request, so timer lateness does
   * not accumulate. Default: no pacing (all at once).
   */
  tokensPerSecond?: number;
  /**
   * After this many deltas (0 = before the first; capped at the answer's length), the stream
   * fails as selected by {@link failWith}. For a failure before the stream starts (an HTTP
   * status), use the fake's `failNext`.
   */
  failAfterTokens?: number;
  /**
   * How {@link failAfterTokens} fails. `"error"` (default): the in-stream error the provider
   * documents, then the connection closes: Anthropic `event: error` with `overloaded_error`
   * (the SDK raises an `APIError` without a status), OpenAI-compatible
   * `data: {"error": {"type": "server_error", …}}` (the SDK raises an `APIError` without a
   * status). `"drop"`: the connection closes in the middle of the body (the SDKs raise a connection
   * error).
   */
  failWith?: "error" | "drop";
  /**
   * After this many deltas (0 = before the first; capped at the answer's length), nothing more
   * is sent and the connection is held open until the client gives up (an idle timeout) or the
   * fake closes. Wins over {@link failAfterTokens} when both are due.
   */
  stallAfterTokens?: number;
}

/** The stream settings of one fake: a default plus a queue of one-off overrides. */
export class StreamSettings {
  #initial: StreamBehaviour;
  #current: StreamBehaviour;
  #queue: StreamBehaviour[] = [];

  constructor(initial: StreamBehaviour = {}) {
    this.#initial = { ...initial };
    this.#current = { ...initial };
  }

  /** Replaces the default behaviour; no argument restores the one from the fake's options. */
  set(behaviour?: StreamBehaviour): void {
    this.#current = { ...(behaviour ?? this.#initial) };
  }

  /** The next `times` streamed requests use `behaviour`, laid over the default. */
  next(behaviour: StreamBehaviour, times = 1): void {
    for (let i = 0; i < times; i++) this.#queue.push(behaviour);
  }

  /** The behaviour for the streamed request now arriving (consumes one queued override). */
  take(): StreamBehaviour {
    const override = this.#queue.shift();
    return override ? { ...this.#current, ...override } : this.#current;
  }

  /** Drops queued overrides and restores the default from the fake's options. */
  reset(): void {
    this.#queue = [];
    this.#current = { ...this.#initial };
  }
}

/** What a fake writes at each point of a stream, in its own wire format. */
export interface StreamWriter<T = string> {
  /** One token: a text delta, or a piece of a tool call (see {@link StreamBehaviour}). */
  token(piece: T): void;
  /** The in-stream error event (`failWith: "error"`); the caller then ends the response. */
  error(): void;
  /** Everything after the last delta (stop events, usage, `[DONE]`); then the response ends. */
  finish(): void;
}

/**
 * Plays `pieces` through `writer` under `behaviour`, measured from `startedAt` (epoch ms, when
 * the request arrived). Stops writing as soon as the client has gone away.
 */
export async function playStream<T>(
  res: ServerResponse,
  pieces: T[],
  behaviour: StreamBehaviour,
  writer: StreamWriter<T>,
  startedAt: number = Date.now(),
): Promise<void> {
  const cap = (n: number | undefined) => (n === undefined ? undefined : Math.min(n, pieces.length));
  const stallAt = cap(behaviour.stallAfterTokens);
  const failAt = cap(behaviour.failAfterTokens);
  const interval = behaviour.tokensPerSecond ? 1000 / behaviour.tokensPerSecond : 0;
  const firstAt = startedAt + (behaviour.firstTokenMs ?? 0);
  for (let i = 0; ; i++) {
    if (res.destroyed) return;
    if (i === stallAt) return;
    if (i === failAt) {
      if (behaviour.failWith === "drop") {
        // end() flushes what was written, then closes mid-body (no final chunk): a dropped
        // connection to the client. destroy() could discard the unflushed deltas.
        res.socket?.end();
      } else {
        writer.error();
        res.end();
      }
      return;
    }
    if (i === pieces.length) break;
    const wait = firstAt + i * interval - Date.now();
    if (wait > 0) await sleep(wait);
    if (res.destroyed) return;
    writer.token(pieces[i] as T);
  }
  writer.finish();
  res.end();
}
