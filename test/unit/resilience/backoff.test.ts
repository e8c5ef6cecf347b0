import { describe, expect, it } from "vitest";
import { backoffDelayMs, retryDelayMs } from "../../../core/resilience/backoff";

const base = { baseMs: 100, maxMs: 1_000 };

describe("backoffDelayMs (full jitter)", () => {
  it("doubles the window per attempt up to maxMs", () => {
    const top = () => 0.999_999;
    expect(backoffDelayMs(1, { ...base, random: top })).toBe(99);
    expect(backoffDelayMs(2, { ...base, random: top })).toBe(199);
    expect(backoffDelayMs(3, { ...base, random: top })).toBe(399);
    expect(backoffDelayMs(5, { ...base, random: top })).toBe(999);
    expect(backoffDelayMs(60, { ...base, random: top })).toBe(999);
  });

  it("can be as short as zero", () => {
    expect(backoffDelayMs(4, { ...base, random: () => 0 })).toBe(0);
  });

  it("stays inside [0, window) for any random value", () => {
    for (let attempt = 1; attempt <= 8; attempt++) {
      const window = Math.min(base.maxMs, base.baseMs * 2 ** (attempt - 1));
      for (const r of [0, 0.25, 0.5, 0.75, 0.999, 1]) {
        const d = backoffDelayMs(attempt, { ...base, random: () => r });
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(window);
        expect(Number.isInteger(d)).toBe(true);
      }
    }
  });

  it("is uniform: the midpoint maps to half the window", () => {
    expect(backoffDelayMs(3, { ...base, random: () => 0.5 })).toBe(200);
  });
});

describe("retryDelayMs", () => {
  const opts = { ...base, random: () => 0.5, maxRetryAfterMs: 20_000 };

  it("honours retry-after over backoff", () => {
    expect(retryDelayMs({ retryAfterMs: 3_000 }, 1, opts)).toBe(3_000);
    expect(retryDelayMs({ retryAfterMs: 0 }, 3, opts)).toBe(0);
  });

  it("caps retry-after at maxRetryAfterMs", () => {
    expect(retryDelayMs({ retryAfterMs: 120_000 }, 1, opts)).toBe(20_000);
  });

  it("falls back to backoff without retry-after", () => {
    expect(retryDelayMs({}, 2, opts)).toBe(100);
  });
});
