/**
 * Replies to chat jobs that came through the broker, through the broker's platform tools
 * (docs/architecture.md, "Platforms and transports"). Which tools, and how a reply is cut into
 * messages, is each platform's `KadiBinding`; this module owns the transport: order, pacing,
 * retries and the circuit breaker.
 */
import type { ReplyTarget } from "../chat/job";
import { PlatformNotConfiguredError, type Replier } from "../chat/replier";
import type { Platform } from "../constants/platforms";
import type { KadiBinding } from "../platforms/adapter";
import { bufferedLiveReply, type LiveReply } from "../reply/live-reply";
import { splitMessage } from "../reply/split";
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

/** The part of each platform's binding the relay uses. */
export type RelayBindings = Partial<
  Record<Platform, Pick<KadiBinding, "maxMessageChars" | "relayCalls" | "repliedTo">>
>;

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
  /** Each relayed platform's tools and message limit (its adapter's `kadi` binding). */
  bindings: RelayBindings;
  /**
   * Deadline of one tool call, ms (default 8000). With 4 attempts and 7 s of backoff one chunk
   * can take 39 s in the worst case, which fits in the 45 s the chat worker's timeout leaves
   * after the model (`CHAT_WORKER_TIMEOUT_MS`).
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
 * Posts `via: "kadi"` replies through the broker: the text is split at the platform's
 * `maxMessageChars`, each chunk posted by the tool call its binding names (Slack:
 * `slack_send_reply` per chunk; Discord: `discord_send_reply`, then `discord_send_message`),
 * about 500 ms apart.
 *
 * Each tool call is retried up to 3 times with 1/2/4 s backoff when it fails with a KadiError
 * of kind `timeout` or `network`; any other failure (the tool answered an error, the client was
 * closed) is thrown at once. Every attempt passes a circuit breaker (closed/open/half-open, the
 * pure transitions of `core/resilience/breaker.ts` with {@link KADI_REPLY_BREAKER_POLICY}): 5
 * consecutive timeout/network failures open it; while open, calls fail at once with
 * {@link KadiReplyError} `circuit_open` so the job goes back to the queue instead of waiting out
 * timeouts; after 60 s one trial call is let through (half-open) and its outcome closes or
 * reopens it. A tool error counts as a success for the breaker: the broker and the platform
 * agent answered. The state lives in this instance (one per container).
 */
export class KadiReplier implements Replier {
  private readonly invoker: KadiToolInvoker;
  private readonly bindings: RelayBindings;
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
    this.bindings = options.bindings;
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
   * The relay cannot edit what it posted (the broker's reply tools only post): the live reply
   * shows nothing while the answer is written and posts it once, at `finish`.
   */
  async open(target: ReplyTarget): Promise<LiveReply> {
    return bufferedLiveReply((text) => this.post(target, text));
  }

  /**
   * Posts `text` in order, chunk by chunk.
   * @returns the message id the first call returned (`ts`, `message_id` or `id` of its result),
   *   else the id replied to (thread ts or Discord message id).
   * @throws {KadiReplyError} when a call fails after its retries or the breaker is open; earlier
   *   chunks stay posted. @throws {RangeError} for a blank text.
   * @throws {PlatformNotConfiguredError} for a platform without a binding;
   *   `InvalidReplyAddressError` for an address its platform cannot read.
   */
  async post(target: ReplyTarget, text: string): Promise<{ messageId: string }> {
    const binding = this.bindings[target.platform];
    if (!binding) {
      throw new PlatformNotConfiguredError(`cannot relay ${target.platform} replies through KĀDI`);
    }
    const chunks = splitMessage(text, binding.maxMessageChars);
    if (chunks.length === 0) throw new RangeError("cannot post a blank reply");
    const calls = binding.relayCalls(target.address, chunks);
    let first: string | undefined;
    for (const [index, call] of calls.entries()) {
      if (index > 0) await this.sleep(this.chunkDelayMs);
      const result = await this.call(call.tool, call.input);
      if (index === 0) first = messageIdOf(result);
    }
    return { messageId: first ?? binding.repliedTo(target.address) };
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
