/**
 * Replies to chat jobs that came from the broker, through the broker's platform tools
 * (design.md, "KĀDI wire protocol", Replies).
 */
import type { ReplyTargetOf } from "../chat/job";
import type { Replier } from "../chat/replier";
import { splitMessage } from "../chat/split";
import {
  admitCall,
  type BreakerPolicy,
  type BreakerState,
  CLOSED,
  recordFailure,
  recordSuccess,
} from "../resilience/breaker";
import { isKadiError } from "./errors";
import type { KadiClient } from "./types";

/**
 * The slice of the KĀDI client the replier uses (see `KadiClient.invokeTool`); its `KadiError`
 * kinds `timeout` and `network` are the ones the replier retries.
 */
export type KadiToolInvoker = Pick<KadiClient, "invokeTool">;

/** Characters per Slack message through `slack_send_reply` (design.md: split at 4000). */
export const KADI_SLACK_MAX_CHARS = 4000;

/** Characters per Discord message through the broker tools (design.md: split at 2000). */
export const KADI_DISCORD_MAX_CHARS = 2000;

/** Circuit breaker of the reply tools: open after 5 consecutive failures, half-open after 60 s. */
export const KADI_REPLY_BREAKER_POLICY: Readonly<BreakerPolicy> = {
  failureThreshold: 5,
  openMs: 60_000,
};

/** Waits between a failed attempt and the next one, ms: up to 3 retries (1, 2, 4 s). */
export const KADI_REPLY_RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000, 4_000];

/** Options of {@link KadiReplier}. */
export interface KadiReplierOptions {
  invoker: KadiToolInvoker;
  /**
   * Deadline of one tool call, ms (default 8000). With 4 attempts and 7 s of backoff one chunk
   * can take 39 s in the worst case, which next to the 45 s model budget stays inside the chat
   * worker's 90 s Lambda timeout.
   */
  callTimeoutMs?: number;
  /** Pause between the chunks of a long answer, ms (default 500), so they arrive in order. */
  chunkDelayMs?: number;
  /** Backoff before each retry, ms; its length is the number of retries (default 1, 2, 4 s). */
  retryDelaysMs?: readonly number[];
  /** Breaker thresholds (default {@link KADI_REPLY_BREAKER_POLICY}). */
  breakerPolicy?: BreakerPolicy;
  /** Agent to route the tools to; default none, so the broker picks whoever registered them. */
  targetAgent?: string;
  /** Injectable for tests (default `setTimeout`). */
  sleep?: (ms: number) => Promise<void>;
  /** Epoch-ms clock (default `Date.now`). */
  now?: () => number;
}

/** Why a reply through the broker failed. */
export class KadiReplyError extends Error {
  override readonly name = "KadiReplyError";
  constructor(
    message: string,
    /** `circuit_open`: refused untried; `call_failed`: the tool call failed (see `cause`). */
    readonly kind: "circuit_open" | "call_failed",
    /** Broker tool that was being called. */
    readonly toolName: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/**
 * Posts replies of kinds `kadi-slack` and `kadi-discord` through the broker:
 * - Slack: `slack_send_reply {channel, thread_ts, text}` per chunk of at most 4000 characters;
 * - Discord: `discord_send_reply {channel, message_id, text}` for the first chunk of at most
 *   2000 characters, then `discord_send_message {channel, text}` for each further chunk;
 * - about 500 ms between chunks.
 *
 * Each tool call is retried up to 3 times with 1/2/4 s backoff when it fails with a KadiError
 * of kind `timeout` or `network`; any other failure (the tool answered an error, the client was
 * closed) is thrown at once. Every attempt passes a circuit breaker (closed/open/half-open, the
 * pure transitions of `core/llm/breaker.ts` with {@link KADI_REPLY_BREAKER_POLICY}): 5
 * consecutive timeout/network failures open it; while open, calls fail at once with
 * {@link KadiReplyError} `circuit_open` so the job goes back to the queue instead of waiting out
 * timeouts; after 60 s one trial call is let through (half-open) and its outcome closes or
 * reopens it. A tool error counts as a success for the breaker: the broker and the platform
 * agent answered. The state lives in this instance (one per container).
 */
export class KadiReplier implements Replier<"kadi-slack" | "kadi-discord"> {
  private readonly invoker: KadiToolInvoker;
  private readonly callTimeoutMs: number;
  private readonly chunkDelayMs: number;
  private readonly retryDelaysMs: readonly number[];
  private readonly policy: BreakerPolicy;
  private readonly targetAgent: string | undefined;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private breaker: BreakerState = { ...CLOSED };

  constructor(options: KadiReplierOptions) {
    this.invoker = options.invoker;
    this.callTimeoutMs = options.callTimeoutMs ?? 8_000;
    this.chunkDelayMs = options.chunkDelayMs ?? 500;
    this.retryDelaysMs = options.retryDelaysMs ?? KADI_REPLY_RETRY_DELAYS_MS;
    this.policy = options.breakerPolicy ?? KADI_REPLY_BREAKER_POLICY;
    this.targetAgent = options.targetAgent;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
  }

  /** Current breaker state (for logs and tests). */
  get breakerState(): Readonly<BreakerState> {
    return this.breaker;
  }

  /**
   * Posts `text` in order, chunk by chunk.
   * @returns the message id the first call returned (`ts`, `message_id` or `id` of its result),
   *   else the id replied to (thread ts or Discord message id).
   * @throws {KadiReplyError} when a call fails after its retries or the breaker is open; earlier
   *   chunks stay posted. @throws {RangeError} for a blank text.
   */
  async post(
    target: ReplyTargetOf<"kadi-slack"> | ReplyTargetOf<"kadi-discord">,
    text: string,
  ): Promise<{ messageId: string }> {
    const isSlack = target.kind === "kadi-slack";
    const chunks = splitMessage(text, isSlack ? KADI_SLACK_MAX_CHARS : KADI_DISCORD_MAX_CHARS);
    if (chunks.length === 0) throw new RangeError("cannot post a blank reply");
    let first: string | undefined;
    for (const [index, chunk] of chunks.entries()) {
      if (index > 0) await this.sleep(this.chunkDelayMs);
      let result: unknown;
      if (target.kind === "kadi-slack") {
        result = await this.call("slack_send_reply", {
          channel: target.channel,
          thread_ts: target.threadTs,
          text: chunk,
        });
      } else if (index === 0) {
        result = await this.call("discord_send_reply", {
          channel: target.channel,
          message_id: target.messageId,
          text: chunk,
        });
      } else {
        result = await this.call("discord_send_message", { channel: target.channel, text: chunk });
      }
      if (index === 0) first = messageIdOf(result);
    }
    return {
      messageId: first ?? (target.kind === "kadi-slack" ? target.threadTs : target.messageId),
    };
  }

  private async call(toolName: string, input: Record<string, string>): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const admission = admitCall(this.breaker, this.now(), this.policy);
      this.breaker = admission.next;
      if (!admission.allowed) {
        throw new KadiReplyError(
          `${toolName}: circuit breaker open after repeated broker failures`,
          "circuit_open",
          toolName,
        );
      }
      try {
        const result = await this.invoker.invokeTool(
          this.targetAgent,
          toolName,
          input,
          this.callTimeoutMs,
        );
        this.breaker = recordSuccess(this.breaker);
        return result;
      } catch (error) {
        const retryable = isKadiError(error) && error.retryable;
        this.breaker = this.afterFailure(error, retryable);
        const delay = this.retryDelaysMs[attempt];
        if (!retryable || delay === undefined) {
          throw new KadiReplyError(
            `${toolName} failed after ${attempt + 1} attempt(s)`,
            "call_failed",
            toolName,
            { cause: error },
          );
        }
        await this.sleep(delay);
      }
    }
  }

  private afterFailure(error: unknown, retryable: boolean): BreakerState {
    if (retryable) return recordFailure(this.breaker, this.now(), this.policy);
    if (isKadiError(error) && error.kind === "tool_error") return recordSuccess(this.breaker);
    // Says nothing about the broker (closed client, malformed answer, our own bug). A half-open
    // trial that ends so hands the trial to the next caller instead of blocking it for 60 s.
    if (this.breaker.state === "half-open") {
      const { trialStartedAt: _, ...rest } = this.breaker;
      return { ...rest, state: "open" };
    }
    return this.breaker;
  }
}

function messageIdOf(result: unknown): string | undefined {
  if (typeof result !== "object" || result === null) return undefined;
  const fields = result as Record<string, unknown>;
  for (const name of ["ts", "message_id", "messageId", "id"]) {
    const value = fields[name];
    if (typeof value === "string" && value) return value;
  }
  return undefined;
}
