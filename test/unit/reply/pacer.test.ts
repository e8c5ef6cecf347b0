import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createPacer } from "../../../core/reply/pacer";

describe("createPacer", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("flushes the first request at once and coalesces the next ones into one flush per interval", async () => {
    const starts: number[] = [];
    const pacer = createPacer({
      intervalMs: 1000,
      flush: async () => {
        starts.push(Date.now());
      },
    });
    pacer.request();
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 10; i++) {
      pacer.request();
      await vi.advanceTimersByTimeAsync(100);
    }
    await vi.advanceTimersByTimeAsync(2000);
    expect(starts[0]).toBe(0);
    expect(starts).toHaveLength(2);
    expect(starts[1]).toBe(1000);
  });

  it("never starts a flush while one is in flight", async () => {
    let inFlight = 0;
    let most = 0;
    const pacer = createPacer({
      intervalMs: 10,
      flush: async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 50));
        inFlight--;
      },
    });
    for (let i = 0; i < 20; i++) {
      pacer.request();
      await vi.advanceTimersByTimeAsync(7);
    }
    await vi.advanceTimersByTimeAsync(500);
    expect(most).toBe(1);
  });

  it("drain cancels a pending flush and reports the first failure; later requests do nothing", async () => {
    let calls = 0;
    const boom = new Error("edit failed");
    const pacer = createPacer({
      intervalMs: 1000,
      flush: async () => {
        calls++;
        throw boom;
      },
    });
    pacer.request();
    await vi.advanceTimersByTimeAsync(0);
    pacer.request();
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(1);
    await expect(pacer.drain()).resolves.toBe(boom);
  });

  it("drain waits for the flush in flight and resolves undefined when all went well", async () => {
    let done = false;
    const pacer = createPacer({
      intervalMs: 1000,
      flush: async () => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        done = true;
      },
    });
    pacer.request();
    const drained = pacer.drain();
    await vi.advanceTimersByTimeAsync(300);
    await expect(drained).resolves.toBeUndefined();
    expect(done).toBe(true);
  });
});
