import { describe, expect, it } from "vitest";
import { once } from "../../../core/resilience/once";

describe("once", () => {
  it("runs the load once for concurrent and later calls, sharing its value", async () => {
    let loads = 0;
    const get = once(async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { built: loads };
    });
    const [a, b, c] = await Promise.all([get(), get(), get()]);
    expect(loads).toBe(1);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(await get()).toBe(a);
    expect(loads).toBe(1);
  });

  it("rejects every call sharing a failed load, then loads again on the next call", async () => {
    let loads = 0;
    const get = once(async () => {
      loads++;
      if (loads === 1) throw new Error("chunk unreadable");
      return "built";
    });
    const failed = await Promise.allSettled([get(), get()]);
    expect(failed.map((result) => result.status)).toEqual(["rejected", "rejected"]);
    expect(loads).toBe(1);
    expect(await get()).toBe("built");
    expect(await get()).toBe("built");
    expect(loads).toBe(2);
  });
});
