import { describe, expect, it } from "vitest";
import { KadiError } from "../../core/kadi/errors";
import { Liveness } from "../../core/kadi/liveness";
import { createLogger } from "../../core/logger";
import { ManualTimers } from "../support/manual-timers";

const logger = createLogger("kadi-liveness-test", "SILENT");

/** Default-shaped timings (30 s ping, 90 s dead peer, stale after 35 s, 2 s probe). */
function setup(ping: (timeoutMs: number) => Promise<unknown> = async () => "pong") {
  const timers = new ManualTimers();
  const pings: number[] = [];
  const events: string[] = [];
  const unanswered: KadiError[] = [];
  const liveness = new Liveness({
    pingIntervalMs: 30_000,
    deadPeerMs: 90_000,
    staleAfterMs: 35_000,
    probeTimeoutMs: 2_000,
    now: timers.now,
    timers,
    ping: (timeoutMs) => {
      pings.push(timeoutMs);
      return ping(timeoutMs);
    },
    onDead: () => events.push(`dead@${timers.nowMs}`),
    onProbeUnanswered: (error) => unanswered.push(error),
    logger,
  });
  return { liveness, timers, pings, events, unanswered };
}

describe("Liveness", () => {
  it("pings every interval once started, each ping allowed the dead-peer window", () => {
    const { liveness, timers, pings, events } = setup();
    timers.advance(60_000);
    expect(pings).toEqual([]);
    liveness.touch(); // the handshake's last answer
    liveness.startPinging();
    for (let beat = 0; beat < 4; beat += 1) {
      timers.advance(30_000);
      liveness.touch(); // the pong
    }
    expect(pings).toEqual([90_000, 90_000, 90_000, 90_000]);
    expect(events).toEqual([]);
  });

  it("declares the peer dead after 90 s without a frame, counted from the last one", () => {
    const { liveness, timers, events } = setup();
    timers.advance(60_000);
    liveness.touch();
    timers.advance(89_999);
    expect(events).toEqual([]);
    timers.advance(1);
    expect(events).toEqual(["dead@150000"]);
    expect(timers.pending).toBe(0);
  });

  it("stop() cancels pings and the dead-peer watch", () => {
    const { liveness, timers, pings, events } = setup();
    liveness.startPinging();
    liveness.stop();
    timers.advance(200_000);
    expect(pings).toEqual([]);
    expect(events).toEqual([]);
    expect(timers.pending).toBe(0);
  });

  it("does not probe a socket heard from within staleAfterMs", () => {
    const { liveness, timers, pings } = setup();
    timers.advance(35_000);
    expect(liveness.probeIfStale()).toBeUndefined();
    expect(pings).toEqual([]);
  });

  it("probes a silent socket once for all callers and keeps it when answered", async () => {
    const { liveness, timers, pings, unanswered } = setup();
    timers.advance(35_001);
    const first = liveness.probeIfStale();
    const second = liveness.probeIfStale();
    expect(first).toBeDefined();
    expect(second).toBe(first);
    await first;
    expect(pings).toEqual([2_000]);
    expect(unanswered).toEqual([]);
  });

  it("reports an unanswered probe, then has stopped", async () => {
    const timeout = new KadiError("timeout", "kadi.session.ping got no answer within 2000 ms");
    const { liveness, timers, events, unanswered } = setup(() => Promise.reject(timeout));
    timers.advance(40_000);
    await liveness.probeIfStale();
    expect(unanswered).toHaveLength(1);
    expect(unanswered[0]).toMatchObject({
      kind: "network",
      message: "KADI broker did not answer a probe within 2000 ms",
      cause: timeout,
    });
    timers.advance(200_000);
    expect(events).toEqual([]);
  });

  it("takes an error answer to the probe as proof of life", async () => {
    const refused = new KadiError("tool_error", "not allowed", { code: -32601 });
    const { liveness, timers, unanswered } = setup(() => Promise.reject(refused));
    timers.advance(40_000);
    await liveness.probeIfStale();
    expect(unanswered).toEqual([]);
  });
});
