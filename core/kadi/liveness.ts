/**
 * Liveness of one broker socket, from its opening until it is forgotten: a ping every
 * `pingIntervalMs`; the peer taken for dead once `deadPeerMs` pass without any frame from it (a
 * pong or anything else); and, before a silent socket is used, a probe that must be answered
 * within `probeTimeoutMs`. Silence is measured on the injected clock and timers, so tests can
 * drive it. The numbers: README.md, "Connecting to a KĀDI broker" (30 s, 90 s, 2 s).
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { isKadiError, KadiError } from "./errors";
import type { KadiTimers } from "./types";

/** What a {@link Liveness} needs; timings in ms, as in `KadiClientOptions` (`./types`). */
export interface LivenessOptions {
  pingIntervalMs: number;
  deadPeerMs: number;
  staleAfterMs: number;
  probeTimeoutMs: number;
  /** Clock, epoch ms. */
  now: () => number;
  timers: KadiTimers;
  /**
   * Sends `kadi.session.ping {}` on the socket; settles when answered (an error answer counts:
   * the broker is there), rejects with `KadiError` kind `"timeout"` after `timeoutMs` ms or
   * `"network"`.
   */
  ping: (timeoutMs: number) => Promise<unknown>;
  /** No frame for `deadPeerMs`: called once, after which this has stopped. */
  onDead: () => void;
  /** The probe went unanswered (kind `"network"`): called once, after which this has stopped. */
  onProbeUnanswered: (error: KadiError) => void;
  logger: Logger;
}

/** Watches one socket; {@link stop} when the socket is forgotten. */
export class Liveness {
  readonly #options: LivenessOptions;
  /** `now()` of the last frame, or of the opening. */
  #lastInboundAt: number;
  #cancelDeadPeer: (() => void) | undefined;
  #cancelPing: (() => void) | undefined;
  /** The probe in flight; every caller that finds the socket stale awaits this one. */
  #probe: Promise<void> | undefined;
  #stopped = false;

  /** Starts the dead-peer watch at once: the socket has just opened. */
  constructor(options: LivenessOptions) {
    this.#options = options;
    this.#lastInboundAt = options.now();
    this.#watchDeadPeer(options.deadPeerMs);
  }

  /** Records a frame from the broker. */
  touch(): void {
    this.#lastInboundAt = this.#options.now();
  }

  /** Starts the pings; `./connection` does so once the session is ready. */
  startPinging(): void {
    if (this.#stopped || this.#cancelPing !== undefined) return;
    const beat = (): void => {
      this.#cancelPing = this.#options.timers.schedule(() => {
        beat();
        // Liveness is judged by the dead-peer watch on any frame, not by this answer.
        this.#options.ping(this.#options.deadPeerMs).catch((error: unknown) => {
          if (isKadiError(error) && (error.kind === "network" || error.kind === "closed")) return;
          this.#options.logger.debug("KADI ping failed", { error });
        });
      }, this.#options.pingIntervalMs);
    };
    beat();
  }

  /**
   * When nothing came from the broker for longer than `staleAfterMs`, probes it: pings keep a
   * working session fresh, so this only happens after the process was frozen (a Lambda
   * container between invocations), when the socket may have died without a FIN long before
   * `deadPeerMs` could notice. Returns `undefined` when the socket is fresh; otherwise the
   * shared probe, which never rejects: an unanswered one has called `onProbeUnanswered`.
   */
  probeIfStale(): Promise<void> | undefined {
    if (this.#silentMs() <= this.#options.staleAfterMs) return undefined;
    this.#probe ??= this.#runProbe().finally(() => {
      this.#probe = undefined;
    });
    return this.#probe;
  }

  /** Stops pings, the dead-peer watch and any verdict of a probe in flight. Idempotent. */
  stop(): void {
    this.#stopped = true;
    this.#cancelPing?.();
    this.#cancelDeadPeer?.();
    this.#cancelPing = undefined;
    this.#cancelDeadPeer = undefined;
  }

  #silentMs(): number {
    return this.#options.now() - this.#lastInboundAt;
  }

  #watchDeadPeer(delayMs: number): void {
    this.#cancelDeadPeer = this.#options.timers.schedule(() => {
      const remainingMs = this.#options.deadPeerMs - this.#silentMs();
      if (remainingMs > 0) {
        this.#watchDeadPeer(remainingMs);
        return;
      }
      const { deadPeerMs } = this.#options;
      this.#options.logger.warn("KADI broker silent; terminating socket", { deadPeerMs });
      this.stop();
      this.#options.onDead();
    }, delayMs);
  }

  #runProbe(): Promise<void> {
    const { probeTimeoutMs, logger } = this.#options;
    const silentMs = this.#silentMs();
    logger.info("KADI session silent; probing before use", { silentMs });
    return this.#options.ping(probeTimeoutMs).then(
      () => undefined,
      (error: unknown) => {
        const dead = isKadiError(error) && (error.kind === "timeout" || error.kind === "network");
        if (!dead || this.#stopped) return;
        logger.warn("KADI probe unanswered; reconnecting", { silentMs, probeTimeoutMs });
        this.stop();
        this.#options.onProbeUnanswered(
          new KadiError(
            "network",
            `KADI broker did not answer a probe within ${probeTimeoutMs} ms`,
            {
              cause: error,
            },
          ),
        );
      },
    );
  }
}
