import { describe, expect, it } from "vitest";
import { LlmError } from "../../../core/llm/errors";
import { watchStream } from "../../../core/llm/stream-idle";
import { rejection } from "../../support/rejection";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when `signal` aborts (as an SDK's aborted stream ends quietly). */
const aborted = (signal: AbortSignal) =>
  new Promise<string>((resolve) => signal.addEventListener("abort", () => resolve("ended")));

describe("watchStream", () => {
  it("returns the body's result while events keep coming within the idle timeout", async () => {
    const result = await watchStream(
      "anthropic",
      { idleTimeoutMs: 80, timeoutMs: 5_000 },
      async (_signal, touch) => {
        // 6 × 30 ms = 180 ms in all, well past 80 ms, but never 80 ms without an event.
        for (let i = 0; i < 6; i++) {
          await sleep(30);
          touch();
        }
        return "done";
      },
    );
    expect(result).toBe("done");
  });

  it("aborts after idleTimeoutMs of silence and rejects with kind timeout", async () => {
    const started = Date.now();
    let signalled: AbortSignal | undefined;
    const err = await rejection(
      watchStream(
        "openai-compatible",
        { idleTimeoutMs: 50, timeoutMs: 5_000 },
        async (signal, touch) => {
          signalled = signal;
          touch();
          return aborted(signal);
        },
      ),
    );
    expect(err).toBeInstanceOf(LlmError);
    expect(err).toMatchObject({ kind: "timeout", provider: "openai-compatible", retryable: true });
    expect((err as Error).message).toBe("openai-compatible: no stream event for 50 ms");
    expect(signalled?.aborted).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it("aborts a stream that keeps talking past the whole-call timeout", async () => {
    const err = await rejection(
      watchStream("anthropic", { idleTimeoutMs: 50, timeoutMs: 120 }, async (signal, touch) => {
        while (!signal.aborted) {
          await sleep(10);
          touch();
        }
        throw new Error("aborted by the SDK");
      }),
    );
    expect(err).toMatchObject({
      kind: "timeout",
      message: "anthropic: stream took longer than 120 ms",
    });
  });

  it("maps the body's own failure with toLlmError", async () => {
    const err = await rejection(
      watchStream("anthropic", { idleTimeoutMs: 1_000, timeoutMs: 1_000 }, async () => {
        throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
      }),
    );
    expect(err).toMatchObject({ kind: "network", provider: "anthropic" });
  });
});
