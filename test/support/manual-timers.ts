import type { KadiTimers } from "../../core/kadi/types";

/**
 * A clock and timers that move only when told: `now()` is `nowMs` (epoch ms, starts at 0), and
 * `advance(ms)` runs every timer due by then in due order, moving `nowMs` to each one's time.
 */
export class ManualTimers implements KadiTimers {
  nowMs = 0;
  #seq = 0;
  readonly #timers: { at: number; seq: number; callback: () => void }[] = [];

  readonly now = (): number => this.nowMs;

  schedule(callback: () => void, delayMs: number): () => void {
    const timer = { at: this.nowMs + Math.max(0, delayMs), seq: this.#seq++, callback };
    this.#timers.push(timer);
    return () => {
      const index = this.#timers.indexOf(timer);
      if (index >= 0) this.#timers.splice(index, 1);
    };
  }

  /** Timers not yet run nor cancelled. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves the clock `ms` forward, running due timers (and those they schedule) on the way. */
  advance(ms: number): void {
    const end = this.nowMs + ms;
    for (;;) {
      const next = this.#timers
        .filter((t) => t.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (next === undefined) break;
      this.#timers.splice(this.#timers.indexOf(next), 1);
      this.nowMs = next.at;
      next.callback();
    }
    this.nowMs = end;
  }
}
