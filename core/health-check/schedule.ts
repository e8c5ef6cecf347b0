/**
 * The in-process schedule of the health check, for the local stack (on AWS an EventBridge
 * Scheduler schedule invokes `functions/health-check.ts` instead). Runs never overlap.
 */
import type { HealthRecord } from "./records";

/** A running schedule from {@link startHealthCheckSchedule}. */
export interface HealthCheckSchedule {
  /**
   * Runs a check now, after the one in flight (if any) finishes, and resolves with its
   * records; rejects with the run's error.
   * @throws {Error} when the schedule was stopped.
   */
  runNow(): Promise<HealthRecord[]>;
  /** Stops the interval and waits for a run in flight. */
  stop(): Promise<void>;
}

/**
 * Calls `run` every `intervalMs` (the timer does not keep the process alive). A tick that
 * finds a run in flight is skipped rather than queued, so a slow dependency cannot pile up
 * checks. The first run is the caller's: `runNow()` right after starting.
 *
 * @param options.onError - receives a scheduled run's rejection (runs from `runNow` reject
 *   to their caller instead). Must not throw.
 */
export function startHealthCheckSchedule(
  run: () => Promise<HealthRecord[]>,
  options: { intervalMs: number; onError: (error: unknown) => void },
): HealthCheckSchedule {
  let stopped = false;
  let inFlight = 0;
  let tail: Promise<unknown> = Promise.resolve();

  const enqueue = (): Promise<HealthRecord[]> => {
    inFlight++;
    const result = tail.then(run).finally(() => {
      inFlight--;
    });
    tail = result.catch(() => undefined);
    return result;
  };

  const timer = setInterval(() => {
    if (inFlight === 0) enqueue().catch(options.onError);
  }, options.intervalMs);
  timer.unref();

  return {
    runNow() {
      if (stopped) return Promise.reject(new Error("the health check schedule is stopped"));
      return enqueue();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await tail;
    },
  };
}
