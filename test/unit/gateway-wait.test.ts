import { describe, expect, it } from "vitest";
import type { HealthProbe } from "../../core/ops/gateway/admin";
import { DEFAULT_HEALTH_WAIT, nextProbeDelayMs, waitForHealthy } from "../../core/ops/gateway/wait";

const BACKOFF = { budgetMs: 10_000, initialDelayMs: 500, maxDelayMs: 3_000 };

describe("nextProbeDelayMs", () => {
  it("doubles from the initial delay up to the cap", () => {
    const delays = [1, 2, 3, 4, 5, 6].map((n) => nextProbeDelayMs(n, 0, BACKOFF));
    expect(delays).toEqual([500, 1_000, 2_000, 3_000, 3_000, 3_000]);
  });

  it("cuts the pause to the remaining budget and stops once it is spent", () => {
    expect(nextProbeDelayMs(4, 9_000, BACKOFF)).toBe(1_000);
    expect(nextProbeDelayMs(4, 10_000, BACKOFF)).toBeUndefined();
    expect(nextProbeDelayMs(1, 12_000, BACKOFF)).toBeUndefined();
  });

  it("never returns a zero pause while budget remains", () => {
    expect(nextProbeDelayMs(1, 0, { ...BACKOFF, initialDelayMs: 0 })).toBe(1);
  });

  it("defaults to a five-minute budget", () => {
    expect(DEFAULT_HEALTH_WAIT.budgetMs).toBe(300_000);
  });
});

/** Virtual time; `probeCostMs` is how long each probe takes in it. */
function harness(answers: (probe: number) => HealthProbe, probeCostMs = 0) {
  let now = 0;
  const sleeps: number[] = [];
  const timeouts: number[] = [];
  let probes = 0;
  const probe = async (timeoutMs: number) => {
    timeouts.push(timeoutMs);
    probes += 1;
    now += probeCostMs;
    return answers(probes);
  };
  const deps = {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
  return { probe, deps, sleeps, timeouts, now: deps.now };
}

const options = { ...BACKOFF, probeTimeoutMs: 2_000 };

describe("waitForHealthy", () => {
  it("returns at once when the first probe passes", async () => {
    const h = harness(() => ({ healthy: true }));
    expect(await waitForHealthy(h.probe, options, h.deps)).toEqual({
      ok: true,
      probes: 1,
      elapsedMs: 0,
    });
    expect(h.sleeps).toEqual([]);
    expect(h.timeouts).toEqual([2_000]);
  });

  it("keeps probing with backoff until a probe passes", async () => {
    const h = harness((n) => (n < 4 ? { healthy: false, reason: "502" } : { healthy: true }));
    const result = await waitForHealthy(h.probe, options, h.deps);
    expect(result).toEqual({ ok: true, probes: 4, elapsedMs: 3_500 });
    expect(h.sleeps).toEqual([500, 1_000, 2_000]);
  });

  it("gives up at the budget with the last reason, counting time spent in probes", async () => {
    const h = harness((n) => ({ healthy: false, reason: `refused #${n}` }), 1_000);
    const result = await waitForHealthy(h.probe, options, h.deps);
    // Probes start at 0, 1500, 3500, 6500 and 10000 ms (each takes 1000 ms); the last pause
    // is cut from 3000 to the 2500 ms left, so the last probe starts exactly at the deadline.
    expect(result).toEqual({ ok: false, probes: 5, elapsedMs: 11_000, lastReason: "refused #5" });
    expect(h.sleeps).toEqual([500, 1_000, 2_000, 2_500]);
    expect(h.now()).toBeLessThanOrEqual(options.budgetMs + options.probeTimeoutMs);
  });
});

describe("waitForHealthy with an abort signal", () => {
  const unhealthy = (): HealthProbe => ({ healthy: false, reason: "503" });

  it("stops during a pause when the sleep rejects on the signal", async () => {
    const h = harness(unhealthy);
    const controller = new AbortController();
    const sleep = async (ms: number, signal?: AbortSignal) => {
      await h.deps.sleep(ms);
      if (h.sleeps.length === 2) controller.abort();
      signal?.throwIfAborted();
    };
    const result = await waitForHealthy(h.probe, options, {
      ...h.deps,
      sleep,
      signal: controller.signal,
    });
    expect(result).toEqual({ ok: false, interrupted: true, probes: 2, elapsedMs: 1_500 });
  });

  it("stops after a probe the signal cut short, and hands the probe the signal", async () => {
    const controller = new AbortController();
    const seen: (AbortSignal | undefined)[] = [];
    const probe = async (_timeoutMs: number, signal?: AbortSignal): Promise<HealthProbe> => {
      seen.push(signal);
      controller.abort();
      return { healthy: false, reason: "GET /health failed: interrupted" };
    };
    const h = harness(unhealthy);
    const result = await waitForHealthy(probe, options, { ...h.deps, signal: controller.signal });
    expect(result).toMatchObject({ ok: false, interrupted: true, probes: 1 });
    expect(seen).toEqual([controller.signal]);
    expect(h.sleeps).toEqual([]);
  });

  it("still rethrows a sleep failure that is not the signal's", async () => {
    const h = harness(unhealthy);
    const sleep = async () => {
      throw new RangeError("bad timer");
    };
    await expect(
      waitForHealthy(h.probe, options, { ...h.deps, sleep, signal: new AbortController().signal }),
    ).rejects.toThrow("bad timer");
  });
});
