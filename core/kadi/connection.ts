/**
 * Connection lifecycle of the KĀDI client: one socket at a time, opened, watched (heartbeat,
 * dead peer and the probe of a silent socket: `./liveness`), and re-opened with exponential
 * backoff after every loss until `close()`; callers wait here for a live, ready session. What a
 * session says on the socket (handshake, frames, the ping itself) is the caller's (`./client`),
 * passed in as {@link KadiConnectionOptions} hooks; the socket itself is `./socket`. The
 * numbers: README.md, "Connecting to a KĀDI broker".
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { reconnectDelayMs } from "../resilience/backoff";
import { isKadiError, KadiError } from "./errors";
import { byDeadline, Lifecycle } from "./lifecycle";
import { Liveness, type LivenessOptions } from "./liveness";
import { type KadiSocket, type OpenKadiSocket, openWebSocket } from "./socket";
import type { KadiClientOptions, KadiClientState, KadiTimers } from "./types";

/**
 * Defaults of the optional timings of {@link KadiConnectionOptions}, in ms (30 s ping, 90 s
 * dead peer, 2 s probe, backoff 1…60 s). The default `staleAfterMs` is `pingIntervalMs +
 * staleAfterSlackMs`: one ping cycle plus time for its pong, so only a missed cycle (a frozen
 * process) makes a connection stale.
 */
export const KADI_CONNECTION_DEFAULTS = {
  pingIntervalMs: 30_000,
  deadPeerMs: 90_000,
  staleAfterSlackMs: 5_000,
  probeTimeoutMs: 2_000,
  reconnect: { initialMs: 1_000, maxMs: 60_000 },
} as const;

/** {@link KadiTimers} on the process's `setTimeout`. */
export const SYSTEM_TIMERS: KadiTimers = {
  schedule(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    return () => clearTimeout(timer);
  },
};

/** The states a handshake moves through between opening the socket and `ready`. */
export type KadiHandshakeState = Extract<KadiClientState, "authenticating" | "registering">;

/**
 * Settings and hooks of a {@link KadiConnection}. Settings mean what they mean in
 * {@link KadiClientOptions}; timings default to {@link KADI_CONNECTION_DEFAULTS}, `now` to
 * `Date.now`, `timers` to {@link SYSTEM_TIMERS}.
 */
export interface KadiConnectionOptions
  extends Pick<
    KadiClientOptions,
    | "url"
    | "logger"
    | "pingIntervalMs"
    | "deadPeerMs"
    | "staleAfterMs"
    | "probeTimeoutMs"
    | "reconnect"
    | "random"
    | "now"
    | "timers"
  > {
  /** Limit of the WebSocket opening handshake, in ms. */
  openTimeoutMs: number;
  /** Default {@link openWebSocket}; tests may replace the network. */
  openSocket?: OpenKadiSocket;
  /**
   * Sets up the session on a freshly opened socket (which {@link KadiConnection.send} writes
   * to), reporting each step through `enter`. Resolves with the fields of the "session ready"
   * log line; rejects with `KadiError` (kind `"auth"` means the broker refused us).
   */
  handshake: (enter: (state: KadiHandshakeState) => void) => Promise<Record<string, unknown>>;
  /**
   * Each text frame from the current socket. `reply` writes on the socket the frame came in on,
   * never on a later one, so an answer cannot reach a session that did not ask.
   */
  onFrame: (text: string, reply: (text: string) => void) => void;
  /** Sends `kadi.session.ping {}` on the current socket (see `LivenessOptions.ping`). */
  ping: (timeoutMs: number) => Promise<unknown>;
  /** The current socket is gone: fail everything that awaited an answer on it with `error`. */
  onDetach: (error: KadiError) => void;
}

/**
 * One broker connection at a time, re-established after every loss until `close()`. Owns the
 * client's {@link KadiClientState}; the handshake moves it through `authenticating` and
 * `registering`.
 */
export class KadiConnection {
  readonly #options: KadiConnectionOptions;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #timers: KadiTimers;
  readonly #timings: Pick<
    LivenessOptions,
    "pingIntervalMs" | "deadPeerMs" | "staleAfterMs" | "probeTimeoutMs"
  >;
  readonly #lifecycle: Lifecycle;
  #socket: KadiSocket | undefined;
  /** Liveness of the current socket, from its opening. */
  #liveness: Liveness | undefined;
  #connectPromise: Promise<void> | undefined;
  /** True while a session is being set up, so a dropped socket is not also handed to reconnect. */
  #establishing = false;
  #closePromise: Promise<void> | undefined;
  #reconnectAttempt = 0;
  #cancelSleep: (() => void) | undefined;

  constructor(options: KadiConnectionOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#now = options.now ?? (() => Date.now());
    this.#timers = options.timers ?? SYSTEM_TIMERS;
    const defaults = KADI_CONNECTION_DEFAULTS;
    const pingIntervalMs = options.pingIntervalMs ?? defaults.pingIntervalMs;
    this.#timings = {
      pingIntervalMs,
      deadPeerMs: options.deadPeerMs ?? defaults.deadPeerMs,
      staleAfterMs: options.staleAfterMs ?? pingIntervalMs + defaults.staleAfterSlackMs,
      probeTimeoutMs: options.probeTimeoutMs ?? defaults.probeTimeoutMs,
    };
    this.#lifecycle = new Lifecycle(this.#logger, this.#now, this.#timers);
  }

  /** Current lifecycle state. */
  get state(): KadiClientState {
    return this.#lifecycle.state;
  }

  /** Registers a state listener; returns a function that removes it. */
  onStateChange(listener: (state: KadiClientState) => void): () => void {
    return this.#lifecycle.onChange(listener);
  }

  /**
   * First connect; idempotent. Failure leaves the connection `closed`; after success, losses
   * are retried in the background. Errors as `KadiClient.connect` (`./types`).
   */
  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(new KadiError("closed", "KADI client is closed"));
    this.#connectPromise ??= this.#firstConnect();
    return this.#connectPromise;
  }

  /** Writes `text` on the current socket; false when none is open. */
  send(text: string): boolean {
    const socket = this.#socket;
    if (socket === undefined || !socket.isOpen) return false;
    socket.send(text);
    return true;
  }

  /**
   * Waits for `ready` and, when nothing came from the broker for longer than `staleAfterMs`,
   * for a probe to confirm the connection (`Liveness.probeIfStale`). An unanswered probe
   * abandons the socket, and this waits for the reconnect.
   *
   * @param deadline - `now()` ms at which to give up.
   * @param timeoutMs - the caller's budget, only named in the error.
   * @throws KadiError kind `"timeout"` at `deadline`, `"closed"` when closed.
   */
  async whenLive(deadline: number, timeoutMs: number): Promise<void> {
    await this.#lifecycle.whenReady(deadline, timeoutMs);
    const probe = this.#liveness?.probeIfStale();
    if (probe === undefined) return;
    await byDeadline(probe, this.#timers, deadline - this.#now(), () => {
      return new KadiError(
        "timeout",
        `KADI session not confirmed alive within ${timeoutMs} ms (probing a silent connection)`,
      );
    });
    await this.#lifecycle.whenReady(deadline, timeoutMs);
  }

  /**
   * Closes for good: stops timers and any reconnect, fails waiters and (through `onDetach`)
   * pending calls with kind `"closed"`. Idempotent; resolves once the socket is closed.
   */
  close(): Promise<void> {
    if (this.#closePromise !== undefined) return this.#closePromise;
    this.#lifecycle.enter("closed");
    this.#wakeFromSleep();
    const error = new KadiError("closed", "KADI client closed");
    this.#lifecycle.failWaiters(error);
    const socket = this.#socket;
    this.#detach(error);
    this.#closePromise = socket === undefined ? Promise.resolve() : socket.close();
    return this.#closePromise;
  }

  /** `closed` is final: set by {@link close} or a failed first connect. */
  get #closed(): boolean {
    return this.#lifecycle.state === "closed";
  }

  // --- Establishing -------------------------------------------------------------------------

  async #firstConnect(): Promise<void> {
    try {
      await this.#establish();
    } catch (error) {
      const failure = asKadiError(error);
      if (this.#closed) {
        // close() intervened; whatever broke the handshake is a consequence of that.
        throw failure.kind === "closed"
          ? failure
          : new KadiError("closed", "KADI client closed during connect", { cause: failure });
      }
      this.#logger.error("KADI connect failed", { kind: failure.kind, error: failure });
      this.#closePromise = Promise.resolve();
      this.#lifecycle.enter("closed");
      this.#lifecycle.failWaiters(failure);
      throw failure;
    }
  }

  /** Opens a socket and runs the handshake; throws `KadiError` with the socket discarded. */
  async #establish(): Promise<void> {
    this.#establishing = true;
    try {
      const socket = await this.#open();
      const readyLog = await this.#options.handshake((state) => this.#lifecycle.enter(state));
      if (this.#closed) throw new KadiError("closed", "KADI client closed during connect");
      if (this.#socket !== socket || !socket.isOpen) {
        throw new KadiError("network", "broker connection lost during handshake");
      }
      this.#reconnectAttempt = 0;
      this.#liveness?.startPinging();
      this.#lifecycle.enter("ready");
      this.#logger.info("KADI session ready", readyLog);
    } catch (error) {
      const failure = asKadiError(error);
      const socket = this.#socket;
      this.#detach(failure);
      socket?.terminate();
      throw failure;
    } finally {
      this.#establishing = false;
    }
  }

  async #open(): Promise<KadiSocket> {
    const openSocket = this.#options.openSocket ?? openWebSocket;
    const socket: KadiSocket = openSocket(
      {
        url: this.#options.url,
        openTimeoutMs: this.#options.openTimeoutMs,
        logger: this.#logger,
        timers: this.#timers,
      },
      {
        onFrame: (text) => this.#onFrame(socket, text),
        onClose: (error) => this.#lose(socket, error),
      },
    );
    this.#socket = socket;
    await socket.opened;
    if (this.#closed) throw new KadiError("closed", "KADI client closed during connect");
    this.#liveness = new Liveness({
      ...this.#timings,
      now: this.#now,
      timers: this.#timers,
      ping: this.#options.ping,
      onDead: () => socket.terminate(),
      onProbeUnanswered: (error) => this.#abandon(socket, error),
      logger: this.#logger,
    });
    return socket;
  }

  #onFrame(socket: KadiSocket, text: string | undefined): void {
    if (socket !== this.#socket) return;
    this.#liveness?.touch();
    if (text === undefined) {
      this.#logger.warn("KADI binary frame ignored");
      return;
    }
    this.#options.onFrame(text, (reply) => socket.send(reply));
  }

  // --- Loss and reconnect ----------------------------------------------------------------------

  /**
   * Gives up on `socket` at once instead of waiting for its close event, which may take minutes on a
   * connection that died without a FIN; that event then finds the socket already forgotten.
   */
  #abandon(socket: KadiSocket, error: KadiError): void {
    if (socket !== this.#socket) return;
    this.#lose(socket, error);
    socket.terminate();
  }

  /** Forgets a lost `socket`; a loss of the ready session (not a handshake's) starts a reconnect. */
  #lose(socket: KadiSocket, error: KadiError): void {
    if (socket !== this.#socket) return;
    const lostReady = this.#lifecycle.state === "ready" && !this.#establishing;
    this.#detach(error);
    if (lostReady && !this.#closed) {
      this.#logger.warn("KADI connection lost; reconnecting", { reason: error.message });
      void this.#reconnectLoop();
    }
  }

  /** Forgets the current socket: stops its timers and hands `error` to `onDetach`. */
  #detach(error: KadiError): void {
    this.#socket = undefined;
    this.#liveness?.stop();
    this.#liveness = undefined;
    this.#options.onDetach(error);
  }

  async #reconnectLoop(): Promise<void> {
    while (!this.#closed) {
      this.#reconnectAttempt += 1;
      this.#lifecycle.enter("reconnecting");
      const delayMs = reconnectDelayMs(this.#reconnectAttempt, {
        ...(this.#options.reconnect ?? KADI_CONNECTION_DEFAULTS.reconnect),
        random: this.#options.random,
      });
      this.#logger.info("KADI reconnect scheduled", { attempt: this.#reconnectAttempt, delayMs });
      await this.#sleep(delayMs);
      if (this.#closed) return;
      try {
        await this.#establish();
        return;
      } catch (error) {
        const failure = asKadiError(error);
        if (failure.kind === "closed") return;
        const log = failure.kind === "auth" ? this.#logger.error : this.#logger.warn;
        log.call(this.#logger, "KADI reconnect attempt failed", {
          attempt: this.#reconnectAttempt,
          kind: failure.kind,
          error: failure,
        });
      }
    }
  }

  /** Waits `ms`, or less when {@link close} wakes it. */
  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const cancel = this.#timers.schedule(() => {
        this.#cancelSleep = undefined;
        resolve();
      }, ms);
      this.#cancelSleep = () => {
        cancel();
        resolve();
      };
    });
  }

  #wakeFromSleep(): void {
    const wake = this.#cancelSleep;
    this.#cancelSleep = undefined;
    wake?.();
  }
}

function asKadiError(error: unknown): KadiError {
  return isKadiError(error)
    ? error
    : new KadiError("protocol", error instanceof Error ? error.message : String(error), {
        cause: error,
      });
}
