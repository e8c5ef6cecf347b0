/**
 * Pacing of a live reply's platform calls: text arrives token by token, but each platform call
 * (a Slack append, an edit) may start only `intervalMs` after the previous one, and never while
 * one is in flight. Pure scheduling; the caller's `flush` does the I/O.
 */

/** Options of {@link createPacer}. */
export interface PacerOptions {
  /** Least time between the starts of two flushes, ms. */
  intervalMs: number;
  /**
   * Sends whatever the caller has accumulated. A rejection is kept (see {@link Pacer.drain})
   * and stops further paced flushes: the caller's final flush decides what to do.
   */
  flush: () => Promise<void>;
  /** Epoch-ms clock; default `Date.now`. */
  now?: () => number;
}

/** What {@link createPacer} returns. */
export interface Pacer {
  /** Asks for a flush: at once when the interval has passed and none is in flight, else later. */
  request(): void;
  /**
   * Cancels a pending flush and waits for the one in flight.
   * @returns the first error a paced flush threw, if any (never rejects).
   */
  drain(): Promise<unknown>;
}

/**
 * Builds a pacer: at most one `flush` in flight, consecutive flushes at least `intervalMs`
 * apart, requests made meanwhile coalesced into one later flush.
 */
export function createPacer(options: PacerOptions): Pacer {
  const now = options.now ?? Date.now;
  let lastStart = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wanted = false;
  let failure: unknown;
  let failed = false;

  function run(): void {
    timer = undefined;
    if (failed || inFlight || !wanted) return;
    const wait = lastStart + options.intervalMs - now();
    if (wait > 0) {
      timer = setTimeout(run, wait);
      return;
    }
    wanted = false;
    lastStart = now();
    inFlight = options.flush().then(
      () => {
        inFlight = undefined;
        if (wanted && !timer) run();
      },
      (error: unknown) => {
        inFlight = undefined;
        failed = true;
        failure = error;
      },
    );
  }

  return {
    request() {
      wanted = true;
      if (!timer && !inFlight) run();
    },
    async drain() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      wanted = false;
      while (inFlight) await inFlight;
      return failed ? failure : undefined;
    },
  };
}
