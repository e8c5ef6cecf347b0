/**
 * The observable lifecycle state of the KĀDI client (`KadiClientState` in `./types`), its
 * listeners, and callers waiting for `ready` within a deadline. `./connection` decides the
 * transitions; this only records and announces them.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { KadiError } from "./errors";
import type { KadiClientState, KadiTimers } from "./types";

interface ReadyWaiter {
  resolve: () => void;
  reject: (error: KadiError) => void;
}

/**
 * Resolves with `work`, or rejects with `timeoutError()` after `delayMs` ms, whichever comes
 * first; a rejection of `work` passes through.
 */
export function byDeadline(
  work: Promise<void>,
  timers: KadiTimers,
  delayMs: number,
  timeoutError: () => KadiError,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cancel = timers.schedule(() => reject(timeoutError()), Math.max(0, delayMs));
    void work.then(
      () => {
        cancel();
        resolve();
      },
      (error: unknown) => {
        cancel();
        reject(error);
      },
    );
  });
}

/** State of one client, `connecting` at first; `closed` is final. */
export class Lifecycle {
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #timers: KadiTimers;
  #state: KadiClientState = "connecting";
  readonly #listeners = new Set<(state: KadiClientState) => void>();
  readonly #readyWaiters = new Set<ReadyWaiter>();

  /** `now` (epoch ms) and `timers` measure the deadlines of {@link whenReady}. */
  constructor(logger: Logger, now: () => number, timers: KadiTimers) {
    this.#logger = logger;
    this.#now = now;
    this.#timers = timers;
  }

  /** Current state. */
  get state(): KadiClientState {
    return this.#state;
  }

  /** Registers a listener; returns a function that removes it. A throwing listener is logged. */
  onChange(listener: (state: KadiClientState) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Moves to `state` and tells the listeners; entering `ready` releases every waiter. */
  enter(state: KadiClientState): void {
    if (this.#state === state) return;
    this.#state = state;
    for (const listener of [...this.#listeners]) {
      try {
        listener(state);
      } catch (error) {
        this.#logger.error("KADI state listener threw", { state, error });
      }
    }
    if (state === "ready") {
      const waiters = [...this.#readyWaiters];
      this.#readyWaiters.clear();
      for (const waiter of waiters) waiter.resolve();
    }
  }

  /** Rejects every caller waiting for `ready` with `error` (the client will not get there). */
  failWaiters(error: KadiError): void {
    const waiters = [...this.#readyWaiters];
    this.#readyWaiters.clear();
    for (const waiter of waiters) waiter.reject(error);
  }

  /**
   * Resolves once `ready`.
   *
   * @param deadline - `now()` ms at which to give up, with kind `"timeout"`.
   * @param timeoutMs - the caller's budget, only named in that error.
   * @throws KadiError kind `"timeout"`; `"closed"` when closed, or what {@link failWaiters} gives.
   */
  whenReady(deadline: number, timeoutMs: number): Promise<void> {
    if (this.#state === "ready") return Promise.resolve();
    if (this.#state === "closed") {
      return Promise.reject(new KadiError("closed", "KADI client closed"));
    }
    let waiter: ReadyWaiter | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      waiter = { resolve, reject };
      this.#readyWaiters.add(waiter);
    });
    return byDeadline(ready, this.#timers, deadline - this.#now(), () => {
      if (waiter !== undefined) this.#readyWaiters.delete(waiter);
      return new KadiError(
        "timeout",
        `KADI session not ready within ${timeoutMs} ms (state ${this.#state})`,
      );
    });
  }
}
